"""Publishing ``dist/`` in one step: the new tree is built beside it and swapped in.

A release is an environment's manifests *and* its record, both in ``dist/``, so one
swap publishes both. Under the repository's ``flock`` a synth removes what a killed one
left (``.synth-*``), stages the new ``dist/`` in a fresh ``.synth-*`` folder (hard links
for what it keeps or leaves unchanged), and swaps it in with ``renameat2(RENAME_EXCHANGE)``,
the commit point. Without ``renameat2`` the commit point is renaming the staged folder
``.synth-ready-*``, and ``recover`` finishes the two renames that follow if they were cut
short. The old tree is deleted last; a failure there is a warning. Nothing calls ``fsync``:
the guarantee is against the process dying, not power loss (docs/synth.md).
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

Folders = Mapping[str, Mapping[str, str]]
PREFIX, READY = ".synth-", ".synth-ready-"


@contextmanager
def locked(root: Path, on_wait: Callable[[], None]) -> Iterator[None]:
    """Hold the repository's synth lock; ``on_wait`` runs once if another synth holds it."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_wait()
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def recover(root: Path, dist: Path) -> list[str | None]:
    """Finish a fallback swap that was committed, then remove every leftover (under ``locked``)."""
    for ready in sorted(root.glob(f"{READY}*"))[:1]:
        if os.path.lexists(dist):
            os.rename(dist, ready.with_name(f"{PREFIX}old-{ready.name}"))
        os.rename(ready, dist)
    return [remove(leftover) for leftover in sorted(root.glob(f"{PREFIX}*"))]


def remove(path: Path | None) -> str | None:
    """Delete a staged or old tree; what went wrong, as a warning, instead of failing."""
    if path is None or not os.path.lexists(path):
        return None
    problems: list[str] = []

    def retry(_func: object, failed: str, _exc: object) -> None:  # a carried-over read-only folder
        try:
            if failed != os.fspath(path):
                os.chmod(os.path.dirname(failed), 0o700)
            shutil.rmtree(failed) if os.path.isdir(failed) and not os.path.islink(failed) else os.unlink(
                failed
            )
        except OSError as err:
            problems.append(f"{os.path.relpath(failed, path.parent)}: {err.strerror}")

    shutil.rmtree(path, onerror=retry)
    if problems:
        return f"could not delete {problems[0]}; delete {path.name} by hand (it blocks no synth)"
    return None


def write_file(path: Path, text: str) -> None:
    """Write ``text``; a failing ``write`` (a full disk) names ``path``, as ``open`` would."""
    try:
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    except OSError as err:
        raise OSError(err.errno, err.strerror, err.filename or os.fspath(path)) from err


def _place(path: Path, text: str, old: Path, mode: int) -> None:
    """Write ``text``, or hard-link ``old`` if it holds those bytes with a new file's mode and
    owner: an unchanged file keeps its inode, and neither side of the swap writes or frees it."""
    with contextlib.suppress(OSError):
        st = os.lstat(old)
        same = stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == mode and st.st_uid == os.geteuid()
        if same and old.read_bytes() == text.encode():
            return os.link(old, path, follow_symlinks=False)
    write_file(path, text)


def _link(src: Path, dst: Path) -> None:
    if src.is_dir() and not src.is_symlink():
        dst.mkdir()
        for entry in sorted(src.iterdir()):
            _link(entry, dst / entry.name)
        return
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:
        shutil.copy2(src, dst, follow_symlinks=False)


def stage(root: Path, dist: Path, folders: Folders, files: Mapping[str, str], *, replace_all: bool) -> Path:
    """The complete new ``dist/`` in a fresh ``.synth-*`` folder: ``folders`` and ``files``,
    plus (unless ``replace_all``) every other entry of ``dist/``."""
    for name in (*folders, *files, *(n for tree in folders.values() for n in tree)):
        if not name or name in (".", "..") or "/" in name or "\0" in name:  # never outside the folder
            raise ValueError(f"refusing to publish the unsafe path component {name!r}")
    if Path(__file__).resolve().is_relative_to(dist.resolve()) or (dist / ".git").exists():
        raise ValueError(f"refusing to replace {dist}: it holds the source tree")
    staged = Path(tempfile.mkdtemp(prefix=PREFIX, dir=root))
    os.umask(umask := os.umask(0))  # reads the umask
    os.chmod(staged, 0o777 & ~umask)  # mkdtemp's 0700 would become dist/'s mode
    mode = 0o666 & ~umask
    if not replace_all and dist.is_dir():
        for entry in sorted(dist.iterdir()):
            if entry.name not in folders and entry.name not in files:
                _link(entry, staged / entry.name)
    for folder, tree in folders.items():
        (staged / folder).mkdir()
        for name, text in tree.items():
            _place(staged / folder / name, text, dist / folder / name, mode)
    for name, text in files.items():
        _place(staged / name, text, dist / name, mode)
    return staged


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths; False where the platform cannot."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    if renameat2(-100, os.fsencode(a), -100, os.fsencode(b), 2) == 0:  # AT_FDCWD, RENAME_EXCHANGE
        return True
    if (err := ctypes.get_errno()) in (22, 38):  # EINVAL, ENOSYS: no exchange on this filesystem or kernel
        return False
    raise OSError(err, os.strerror(err), os.fspath(b))


def swap(staged: Path, dist: Path) -> Path | None:
    """Put ``staged`` at ``dist`` in one step; returns where the old tree now is."""
    if not os.path.lexists(dist):
        os.rename(staged, dist)
        return None
    if _exchange(staged, dist):
        return staged
    ready, old = (staged.with_name(p + staged.name.removeprefix(PREFIX)) for p in (READY, f"{PREFIX}old-"))
    os.rename(staged, ready)
    try:
        os.rename(dist, old)
    except OSError:  # dist/ cannot move (a mount point, say): not committed after all
        os.rename(ready, staged)
        raise
    os.rename(ready, dist)
    return old


def mirror(outdir: Path, folders: Folders) -> None:
    """The cdk8s CLI lists its ``output`` folder, which it emptied before running us: a copy."""
    for folder, tree in folders.items():
        (outdir / folder).mkdir(parents=True, exist_ok=True)
        for name, text in tree.items():
            write_file(outdir / folder / name, text)
