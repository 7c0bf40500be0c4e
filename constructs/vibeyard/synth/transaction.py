"""``dist/`` and ``releases/`` change together: one transaction per synth.

A release is ``dist/<env>/`` *and* ``releases/<env>.json``. If a crash could
leave the new ``dist/`` beside the old release record, the next plain synth
would read the old record and silently roll the release back. Two folders
cannot be swapped in one atomic step, so the synth keeps a small redo record:

1. Lock the repository (``flock`` on its folder): concurrent synths queue up
   instead of each carrying over the other's old files and losing an update.
2. Complete or discard what an earlier, killed synth left (``recover``).
3. Stage the whole new ``dist/`` and, when a release is recorded, the whole new
   ``releases/`` inside one ``.synth-txn`` folder beside them (one name is
   enough: under the lock there is never more than one transaction).
4. Commit: write ``commit.json`` there and rename it into place. That rename is
   the commit point. It names each staged folder by inode.
5. Swap each staged folder with its target (``renameat2(RENAME_EXCHANGE)``),
   then delete the transaction folder.

A crash before 4 leaves only the transaction folder, which the next synth
deletes: both folders old. A crash after 4 leaves a committed record, and the
next synth (any synth) finishes the swaps first: both folders new. A swap is
recognized as done when the target already has the staged inode, so finishing
twice is harmless. ``.synth-*`` is in ``.gitignore``. Nothing here fsyncs: the
guarantee is against the process dying (kill, Ctrl-C, a full disk), not the
machine losing power.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .publish import (
    MIRROR_PREFIX,
    Trees,
    _check_target,
    _exchange,
    remove_tree,
    stage,
    stage_files,
    write_file,
)

TXN_DIR = ".synth-txn"
COMMIT = "commit.json"
DIST = "dist"
RELEASES = "releases"


class RecoveryError(RuntimeError):
    """A committed transaction whose folders are in no state this module leaves."""


@contextmanager
def locked(root: Path, on_wait: Callable[[], None]) -> Iterator[None]:
    """Hold the repository's synth lock: an ``flock`` on the folder itself, so
    there is no lock file to leave behind. ``on_wait`` runs once if another
    synth holds it; then this one waits its turn."""
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


def _ident(path: Path) -> tuple[int, int] | None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    return (st.st_dev, st.st_ino)


def _finish(root: Path, txn: Path, record: Any) -> None:
    """Redo every swap of a committed transaction that is not yet in place."""
    try:
        plan = [(str(s["target"]), (int(s["device"]), int(s["inode"]))) for s in record["swaps"]]
    except (KeyError, TypeError, ValueError):
        raise RecoveryError(f"{txn.name}/{COMMIT} is damaged; move the folder away and synth again") from None
    for name, ident in plan:
        target, staged = root / name, txn / name
        if _ident(target) == ident:
            continue
        if _ident(staged) != ident:
            raise RecoveryError(
                f"{txn.name}: the staged {name}/ is neither in place nor staged; "
                "move the folder away and synth again"
            )
        _exchange(staged, target)


def recover(root: Path) -> list[str]:
    """Finish committed transactions and discard the others; the names finished.

    Must run under ``locked``: an uncommitted transaction folder is only dead
    when no other synth can be writing it.
    """
    finished = []
    txn = root / TXN_DIR
    if os.path.lexists(txn):
        commit = txn / COMMIT
        if commit.is_file():
            try:
                record = json.loads(commit.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError):
                raise RecoveryError(
                    f"{txn.name}/{COMMIT} is damaged; move the folder away and synth again"
                ) from None
            _finish(root, txn, record)
            finished.append(txn.name)
        remove_tree(txn)
    for leftover in root.glob(f"{MIRROR_PREFIX}*"):  # a copy for the cdk8s CLI, killed halfway
        remove_tree(leftover)
    return finished


class Transaction:
    """One synth's change to ``dist/`` and ``releases/``: stage, commit, apply."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.dir = root / TXN_DIR
        os.mkdir(self.dir, 0o700)
        self.staged: list[str] = []
        self.committed = False

    def stage_dist(self, trees: Trees, *, replace_all: bool) -> None:
        _check_target((self.root / DIST).resolve())
        stage(self.root / DIST, self.dir / DIST, trees, replace_all=replace_all)
        self.staged.append(DIST)

    def stage_releases(self, files: Mapping[str, str]) -> None:
        """Stage ``releases/`` with ``files`` replaced; nothing when none changes."""
        changed = {name: text for name, text in files.items() if _differs(self.root / RELEASES / name, text)}
        if changed:
            stage_files(self.root / RELEASES, self.dir / RELEASES, changed)
            self.staged.append(RELEASES)

    def commit(self) -> None:
        swaps = []
        for name in self.staged:
            st = os.lstat(self.dir / name)
            swaps.append({"target": name, "device": st.st_dev, "inode": st.st_ino})
        tmp = self.dir / f"{COMMIT}.tmp"
        write_file(tmp, json.dumps({"swaps": swaps}, indent=1) + "\n")
        os.rename(tmp, self.dir / COMMIT)
        self.committed = True

    def apply(self) -> None:
        """Swap everything in, then delete the transaction folder (with the old trees)."""
        _finish(self.root, self.dir, json.loads((self.dir / COMMIT).read_text(encoding="utf-8")))
        remove_tree(self.dir)

    def discard(self) -> None:
        remove_tree(self.dir)


def _differs(path: Path, text: str) -> bool:
    try:
        return path.read_bytes() != text.encode("utf-8")
    except OSError:
        return True
