"""Atomic replacement of output folders.

A half-written ``dist/`` is worse than a stale one: GitOps would sync it. So a
publish never writes into ``dist/`` itself:

1. A staging folder is made beside ``dist/`` (same filesystem, so renames are
   atomic). For a per-environment synth it first receives hard links to every
   entry of the current ``dist/`` that is *not* being replaced, so the other
   environments keep their bytes (and even their inodes).
2. Every new file is written into the staging folder.
3. Only then is the staging folder swapped with ``dist/`` in one step
   (``renameat2(RENAME_EXCHANGE)`` on Linux; elsewhere two renames with a
   roll-back), and the previous tree is deleted.

Any failure before step 3 leaves ``dist/`` byte-identical and removes the
staging folder; a crash leaves at most a ``.dist-staging-*`` folder, which
``.gitignore`` covers and the next publish does not read.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

Trees = Mapping[str, Mapping[str, str]]

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _check_names(trees: Trees) -> None:
    """Folder and file names must be single path components: a name such as
    ``../x`` would write outside the staging folder."""
    for rel, files in trees.items():
        for name in (rel, *files):
            if not name or name in (".", "..") or "/" in name or os.sep in name or "\0" in name:
                raise ValueError(f"refusing to publish the unsafe path component {name!r}")


def _check_target(target: Path) -> None:
    """Replacing a folder deletes what was in it; never let that be the repository."""
    here = Path(__file__).resolve()
    if here.is_relative_to(target) or (target / ".git").exists():
        raise ValueError(f"refusing to replace {target}: it holds the source tree")


def _write(root: Path, trees: Trees) -> None:
    for rel, files in trees.items():
        folder = root / rel
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            with open(folder / name, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _carry_over(current: Path, staging: Path, replaced: set[str]) -> None:
    """Hard-link every entry of ``current`` except the ``replaced`` ones into ``staging``."""
    for entry in current.iterdir():
        if entry.name in replaced:
            continue
        dst = staging / entry.name
        if entry.is_symlink():
            os.symlink(os.readlink(entry), dst)
        elif entry.is_dir():
            shutil.copytree(entry, dst, symlinks=True, copy_function=_link_or_copy)
        else:
            _link_or_copy(str(entry), str(dst))


def _folder_mode() -> int:
    """``mkdtemp`` makes 0700 folders; published output gets the usual mode from the umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


def _rename_exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths; False when the platform cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return bool(result == 0)


def _exchange(staging: Path, target: Path) -> None:
    """Put ``staging`` at ``target``; afterwards ``staging`` holds the previous
    ``target`` (if there was one), for the caller to delete."""
    if not target.exists():
        os.rename(staging, target)
        return
    if _rename_exchange(staging, target):
        return
    old = staging.with_name(staging.name + "-old")
    os.rename(target, old)
    try:
        os.rename(staging, target)
    except BaseException:
        os.rename(old, target)
        raise
    os.rename(old, staging)


def publish(dist: Path, trees: Trees, *, replace_all: bool) -> None:
    """Make each ``dist/<rel>`` hold exactly ``trees[rel]``.

    ``replace_all`` replaces the whole of ``dist`` (a full synth: files and
    folders of deleted environments disappear too); otherwise every other entry
    of ``dist`` is kept as it is.
    """
    _check_names(trees)
    dist = dist.resolve()
    _check_target(dist)
    dist.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dist.name}-staging-", dir=dist.parent))
    try:
        os.chmod(staging, _folder_mode())
        if not replace_all and dist.is_dir():
            _carry_over(dist, staging, set(trees))
        _write(staging, trees)
        _exchange(staging, dist)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def mirror(outdir: Path, trees: Trees) -> None:
    """Copy the output where the cdk8s CLI looks for it (its scratch ``output``)."""
    publish(outdir, trees, replace_all=True)
