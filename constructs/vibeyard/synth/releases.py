"""The released image per environment, as committed data in ``releases/<env>.json``.

CD pins a release without a code edit (``VIBEYARD_IMAGE_TAG=<sha> make synth
ENV=prod``). If that pin lived only in the process environment, the next plain
``make synth`` would silently render the default tag and roll production back
in review noise. So a synth with an override also records it here, the file is
committed with ``dist/``, and every later synth reproduces the same output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..config import ConfigError

FOLDER = "releases"
TAG_KEY = "tag"
DIGEST_KEY = "digest"


def release_path(root: Path, env: str) -> Path:
    return root / FOLDER / f"{env}.json"


def load_release(root: Path, env: str) -> dict[str, str]:
    """``{"tag": ..., "digest": ...}`` from the committed file, or ``{}`` when there is none."""
    path = release_path(root, env)
    if not path.is_file():
        return {}
    rel = f"{FOLDER}/{env}.json"
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ConfigError(f'{env}: {rel}={err.msg!r} is invalid: JSON like {{"tag": "3f2c1ab"}}') from None
    allowed = {TAG_KEY, DIGEST_KEY}
    if not isinstance(data, dict) or not set(data) <= allowed or not isinstance(data.get(TAG_KEY), str):
        raise ConfigError(
            f"{env}: {rel}={data!r} is invalid: an object with a string 'tag' and an optional 'digest'"
        )
    return {k: str(v) for k, v in data.items() if v is not None}


def record_release(root: Path, env: str, tag: str, digest: str | None) -> None:
    path = release_path(root, env)
    path.parent.mkdir(exist_ok=True)
    body = {TAG_KEY: tag, **({DIGEST_KEY: digest} if digest else {})}
    path.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n", encoding="utf-8")
