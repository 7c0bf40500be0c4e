"""The files ``make diff`` compares, read through the real ``git`` CLI.

BASE's side is its commit (``git ls-tree`` + ``git cat-file --batch``); the other side is the
working tree as git sees it: tracked and untracked files that are not ignored, so a new
worker pool's new files count and a deleted file is simply absent.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from vibeyard.review.errors import ReviewError

# Where the comparison looks; release records and upgrade notes live outside dist/.
MAIN_BRANCHES = ("origin/main", "main")

Files = dict[str, bytes]


def _git(root: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", *args], cwd=root, input=stdin, capture_output=True, check=False, timeout=120
        )
    except FileNotFoundError as exc:
        raise ReviewError("make diff: git is not installed; install git and run it again") from exc


def _out(root: Path, *args: str) -> str:
    proc = _git(root, *args)
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip().splitlines()
        raise ReviewError(f"make diff: git {' '.join(args)} failed: {err[-1] if err else proc.returncode}")
    return proc.stdout.decode()


def toplevel(cwd: Path) -> Path:
    proc = _git(cwd, "rev-parse", "--show-toplevel")
    if proc.returncode != 0:
        raise ReviewError(f"make diff: {cwd} is not inside a git repository; run it in the project's clone")
    return Path(proc.stdout.decode().strip())


def _commit(root: Path, ref: str) -> str | None:
    proc = _git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    return proc.stdout.decode().strip() if proc.returncode == 0 else None


def resolve_base(root: Path, ref: str | None) -> tuple[str, str]:
    """(commit, how it was chosen): BASE as given, else the merge base with the main branch, else HEAD."""
    if ref:
        sha = _commit(root, ref)
        if sha is None:
            raise ReviewError(
                f"make diff: BASE={ref} is not a commit in this repository; "
                "pass a branch, tag or commit (git fetch it first if it is remote)"
            )
        return sha, ref
    head = _commit(root, "HEAD")
    if head is None:
        raise ReviewError("make diff: this repository has no commit yet; commit dist/ first, then compare")
    for branch in MAIN_BRANCHES:
        if _commit(root, branch) is None:
            continue
        proc = _git(root, "merge-base", "HEAD", branch)
        if proc.returncode == 0:
            return proc.stdout.decode().strip(), f"merge base of HEAD and {branch}"
    return head, "HEAD (no main branch to take a merge base with)"


def committed_files(root: Path, commit: str, prefixes: Sequence[str]) -> Files:
    """Every regular file under ``prefixes`` in ``commit``, read in one ``git cat-file`` call."""
    listing = _out(root, "ls-tree", "-r", "-z", "--full-tree", commit, "--", *prefixes)
    entries: list[tuple[str, str]] = []
    for record in filter(None, listing.split("\0")):
        meta, path = record.split("\t", 1)
        mode, kind, sha = meta.split()
        if kind == "blob" and mode in {"100644", "100755"}:
            entries.append((path, sha))
    if not entries:
        return {}
    proc = _git(root, "cat-file", "--batch", stdin="".join(f"{sha}\n" for _, sha in entries).encode())
    if proc.returncode != 0:
        raise ReviewError(f"make diff: git cat-file failed: {proc.stderr.decode(errors='replace').strip()}")
    files: Files = {}
    data, pos = proc.stdout, 0
    for path, _ in entries:
        header_end = data.index(b"\n", pos)
        size = int(data[pos:header_end].split()[2])
        files[path] = data[header_end + 1 : header_end + 1 + size]
        pos = header_end + 1 + size + 1  # the content is followed by a newline
    return files


def working_files(root: Path, prefixes: Sequence[str]) -> Files:
    """The working tree's files under ``prefixes``: tracked and untracked, never ignored ones."""
    listing = _out(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *prefixes)
    files: Files = {}
    for path in sorted(set(filter(None, listing.split("\0")))):
        full = root / path
        if full.is_file() and not full.is_symlink():
            files[path] = full.read_bytes()
    return files
