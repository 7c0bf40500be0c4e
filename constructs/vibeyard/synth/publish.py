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
staging folder. ``stage`` and ``exchange`` are the two halves; the synth uses
them through ``transaction.py``, which publishes ``dist/`` and ``releases/``
together. ``publish`` is both halves at once, for the cdk8s CLI's scratch folder.
"""

from __future__ import annotations

import os
import shutil
import stat
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


def write_file(path: Path, text: str) -> None:
    """Write ``text``; a failing ``write`` (a full disk) names ``path``, as ``open`` would."""
    try:
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    except OSError as err:
        if err.filename is None and err.errno is not None:
            raise OSError(err.errno, err.strerror, os.fspath(path)) from err
        raise


def _write(root: Path, trees: Trees) -> None:
    for rel, files in trees.items():
        folder = root / rel
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            write_file(folder / name, text)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _carry_over(current: Path, staging: Path, replaced: set[str]) -> None:
    """Hard-link every entry of ``current`` except the ``replaced`` ones into ``staging``.

    By hand rather than ``shutil.copytree``, which gathers every failure into one
    ``shutil.Error`` list; the first failure, with its path, is what the user sees.
    """
    for entry in sorted(current.iterdir()):
        if entry.name in replaced:
            continue
        dst = staging / entry.name
        if entry.is_symlink():
            os.symlink(os.readlink(entry), dst)
        elif entry.is_dir():
            os.mkdir(dst)
            _carry_over(entry, dst, set())
            shutil.copystat(entry, dst)
        else:
            _link_or_copy(str(entry), str(dst))


def _folder_mode() -> int:
    """``mkdtemp`` makes 0700 folders; published output gets the usual mode from the umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


def stage(current: Path, staging: Path, trees: Trees, *, replace_all: bool) -> None:
    """Build at ``staging`` (which must not exist) what ``current`` must become.

    ``replace_all``: exactly ``trees``. Otherwise every entry of ``current``
    not named in ``trees`` is carried over as it is.
    """
    _check_names(trees)
    staging.mkdir(mode=_folder_mode())
    os.chmod(staging, _folder_mode())
    if not replace_all and current.is_dir():
        _carry_over(current, staging, set(trees))
    _write(staging, trees)


def stage_files(current: Path, staging: Path, files: Mapping[str, str]) -> None:
    """``stage`` for a flat folder (``releases/``): replace some files, keep the rest."""
    _check_names({"releases": files})
    staging.mkdir(mode=_folder_mode())
    os.chmod(staging, _folder_mode())
    if current.is_dir():
        _carry_over(current, staging, set(files))
    for name, text in files.items():
        write_file(staging / name, text)


def _rename_exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths; False when the platform cannot."""
    import ctypes  # noqa: PLC0415 (12 ms to import; only a publish needs it)

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
    if not os.path.lexists(target):
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


def remove_tree(path: Path) -> None:
    """Delete a staging folder even where a carried-over folder was read-only."""

    def retry(func: object, failed: str, exc_info: object) -> None:
        parent = os.path.dirname(failed)
        try:
            os.chmod(parent, os.stat(parent).st_mode | stat.S_IWUSR | stat.S_IXUSR)
            if os.path.isdir(failed) and not os.path.islink(failed):
                shutil.rmtree(failed, ignore_errors=True)
            else:
                os.unlink(failed)
        except OSError:
            pass

    if os.path.lexists(path):
        shutil.rmtree(path, onerror=retry)


def publish(dist: Path, trees: Trees, *, replace_all: bool, prefix: str | None = None) -> None:
    """Make each ``dist/<rel>`` hold exactly ``trees[rel]``.

    ``replace_all`` replaces the whole of ``dist`` (a full synth: files and
    folders of deleted environments disappear too); otherwise every other entry
    of ``dist`` is kept as it is.
    """
    _check_names(trees)
    dist = dist.resolve()
    _check_target(dist)
    dist.parent.mkdir(parents=True, exist_ok=True)
    import tempfile  # noqa: PLC0415 (only the cdk8s CLI's copy needs it)

    holder = Path(tempfile.mkdtemp(prefix=prefix or f".{dist.name}-staging-", dir=dist.parent))
    try:
        staging = holder / "new"
        stage(dist, staging, trees, replace_all=replace_all)
        _exchange(staging, dist)
    finally:
        remove_tree(holder)


MIRROR_PREFIX = ".synth-mirror-"


def mirror(outdir: Path, trees: Trees) -> None:
    """Copy the output where the cdk8s CLI looks for it (its scratch ``output``)."""
    publish(outdir, trees, replace_all=True, prefix=MIRROR_PREFIX)
