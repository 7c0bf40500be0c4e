"""The released image per environment, as committed data in ``releases/<env>.json``.

CD pins a release without a code edit (``VIBEYARD_IMAGE_TAG=<sha> make synth
ENV=prod``). If that pin lived only in the process environment, the next plain
``make synth`` would silently render the default tag and roll production back
in review noise. So a synth with an override also records it here, the file is
committed with ``dist/``, and every later synth reproduces the same output.

The file is read strictly: a damaged one (not UTF-8, not a JSON object, a
folder in its place) would otherwise either crash the synth with a traceback or,
worse, be skipped and silently roll the release back to the code's default. The
synth records a release in the same transaction as ``dist/`` (``transaction.py``);
``record_release`` is the stand-alone form for scripts and tests.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..config import ConfigError
from .files import read_text

FOLDER = "releases"
TAG_KEY = "tag"
DIGEST_KEY = "digest"
EXAMPLE = '{"tag": "3f2c1ab"}'


def release_path(root: Path, env: str) -> Path:
    return root / FOLDER / f"{env}.json"


def release_rel(env: str) -> str:
    """The path as users see it, for messages."""
    return f"{FOLDER}/{env}.json"


def _json_kind(value: object) -> str:
    kinds = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return "null" if value is None else kinds.get(type(value), type(value).__name__)


def load_release(root: Path, env: str) -> dict[str, str]:
    """``{"tag": ..., "digest": ...}`` from the committed file, or ``{}`` when there is none.

    Only a path that does not exist at all counts as "no release"; anything else
    that cannot be read is a one-line ``ConfigError`` naming the file.
    """
    rel = release_rel(env)

    def fail(why: str) -> ConfigError:
        return ConfigError(f"{env}: {rel} is invalid: {why}")

    text = read_text(release_path(root, env), rel, fail)
    if text is None:
        return {}
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as err:
        raise fail(f"not JSON ({err.msg} at line {err.lineno} column {err.colno}); write {EXAMPLE}") from None
    if not isinstance(data, dict):
        raise fail(f"{_json_kind(data)}, not an object like {EXAMPLE}")
    unknown = sorted(set(data) - {TAG_KEY, DIGEST_KEY})
    if unknown:
        raise fail(f"unknown key {unknown[0]!r}: only {TAG_KEY!r} and an optional {DIGEST_KEY!r}")
    for key in (TAG_KEY, DIGEST_KEY):
        value = data.get(key)
        if (key == TAG_KEY or value is not None) and not isinstance(value, str):
            shown = "missing" if key not in data else _json_kind(value)
            raise fail(f"{key!r} is {shown}; it must be a string, as in {EXAMPLE}")
    return {k: v for k, v in data.items() if v is not None}


def release_text(tag: str, digest: str | None) -> str:
    body = {TAG_KEY: tag, **({DIGEST_KEY: digest} if digest else {})}
    return json.dumps(body, indent=2, sort_keys=True) + "\n"


def record_release(root: Path, env: str, tag: str, digest: str | None) -> None:
    """Write one release file on its own (atomically: a temporary file, then a rename)."""
    path = release_path(root, env)
    path.parent.mkdir(exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(release_text(tag, digest), encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
