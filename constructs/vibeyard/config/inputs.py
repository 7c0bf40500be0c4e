"""Committed input files besides the config modules: the sealed secrets, read strictly.

Every damaged input is one ``ConfigError`` line naming the file, found before
jsii starts. There is exactly one "absent" case (nothing at the path): a folder,
a FIFO, binary or oversized content is an error, never silently skipped.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from .fields import ConfigError
from .topology import Topology
from .types import EnvConfig

MAX_BYTES = 1024 * 1024  # inputs are a few kilobytes; anything far larger is a mistake
KUBESEAL_HINT = "see docs/release.md 'Seal or rotate secret keys' for the kubeseal commands"
PLACEHOLDER_PREFIX = "AgPLACEHOLDER"


def read_text(path: Path, rel: str, fail: Callable[[str], Exception]) -> str | None:
    """The UTF-8 text at ``path`` (``rel`` as the user knows it), or None when nothing is there."""
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise fail("a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise fail("not a regular file (a pipe, socket or device); put the file itself there")
        if info.st_size > MAX_BYTES:
            raise fail(f"{info.st_size} bytes, more than an input file can be; restore it from git")
        data = path.read_bytes()
    except FileNotFoundError:
        if os.path.lexists(path):
            raise fail("a symbolic link to a missing file") from None
        return None
    except NotADirectoryError:
        raise fail(f"{os.path.dirname(rel) or '.'} is a file, not a folder") from None
    except OSError as err:
        raise fail(f"cannot be read: {err.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise fail(f"not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start})") from None


def load_sealed(cfg: EnvConfig, root: Path) -> dict[str, str]:
    """The ``encryptedData`` of ``cfg``'s sealed file: scoped to its Secret, with exactly
    the keys its topology reads (a missing one fails mid-rollout, an extra one is a typo
    or a rotation that never takes effect)."""
    rel = cfg.secrets.sealed_file

    def fail(why: str) -> ConfigError:
        return ConfigError(f"{cfg.name}: secrets.sealed_file={rel!r} is invalid: {why}")

    text = read_text(root / rel, rel, fail)
    if text is None:
        raise fail(f"no such file; {KUBESEAL_HINT}")
    try:
        doc: Any = yaml.load(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise fail(f"not valid YAML{f' at line {mark.line + 1}' if mark else ''}") from None
    if isinstance(doc, Mapping) and doc.get("kind") == "SealedSecret":
        meta = doc.get("metadata")
        scope = (meta.get("namespace"), meta.get("name")) if isinstance(meta, Mapping) else None
        if scope != (cfg.namespace, cfg.secrets.name):
            raise fail(f"sealed for {scope}, but strict scope needs {cfg.namespace}/{cfg.secrets.name}")
        doc = doc.get("spec")
    data = doc.get("encryptedData") if isinstance(doc, Mapping) else None
    if not isinstance(data, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in data.items()
    ):
        raise fail("'encryptedData' must map each key to a non-empty kubeseal ciphertext string")
    needed = Topology.of(cfg).secret_keys
    if missing := [k for k in needed if k not in data]:
        raise fail(f"it lacks the required key {missing[0]!r}; {KUBESEAL_HINT}")
    if extra := sorted(k for k in data if k not in needed):
        raise fail(
            f"it holds the key {extra[0][:60]!r}, which nothing in {cfg.name} reads; remove it or fix it"
        )
    return dict(sorted(data.items()))


def placeholder_keys(encrypted: Mapping[str, str]) -> list[str]:
    """The keys whose value is a committed placeholder rather than kubeseal output."""
    return [key for key, value in encrypted.items() if value.startswith(PLACEHOLDER_PREFIX)]
