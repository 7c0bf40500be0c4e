"""BASE against the working tree: per folder of dist/, objects added, removed and changed, and the flags."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from vibeyard.review import git, notes, risks
from vibeyard.review.fields import Change, changes
from vibeyard.review.tree import Folder, Obj, Snapshot, prefixes, release_label, snapshot


@dataclass
class FolderDiff:
    name: str  # a folder of dist/ ("" for files directly in dist/)
    added: list[Obj] = field(default_factory=list)
    removed: list[Obj] = field(default_factory=list)
    changed: list[tuple[Obj, list[Change]]] = field(default_factory=list)
    files: list[tuple[str, str, Change | None]] = field(default_factory=list)  # (sign, path, change)
    release: tuple[str, str] | None = None
    connections: tuple[int, int] = (0, 0)

    def summary(self) -> str:
        """The folder's one summary line."""
        label = self.name or "dist/"
        parts = [f"{len(self.added)} added", f"{len(self.removed)} removed", f"{len(self.changed)} changed"]
        if self.files:
            parts.append(f"{len(self.files)} other file{'s' if len(self.files) > 1 else ''}")
        if self.release:
            parts.append(f"release {self.release[0]} → {self.release[1]}")
        if any(self.connections):
            parts.append(f"connections +{self.connections[0]} -{self.connections[1]}")
        if len(parts) == 3 and not (self.added or self.removed or self.changed):
            return f"{label}: no change"
        return f"{label}: {', '.join(parts)}"


@dataclass
class Review:
    base: str
    how: str
    folders: list[FolderDiff]
    blocking: list[tuple[risks.Flag, notes.Note | None]]
    info: list[risks.Flag]
    # Every upgrade note new since BASE, also one that steps in for no flag (an app contract
    # change the manifests cannot show): the reviewer reads each.
    notes: list[notes.Note]

    @property
    def unacknowledged(self) -> list[risks.Flag]:
        return [flag for flag, note in self.blocking if note is None]


def _text(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _file_change(path: str, old: bytes | None, new: bytes | None) -> tuple[str, str, Change | None]:
    """A file of dist/ that holds no Kubernetes objects: added, removed, or its text changed."""
    if old is None or new is None:
        return ("+" if old is None else "-", path, None)
    before, after = _text(old), _text(new)
    if before is None or after is None:
        return ("~", path, Change(path, f"{len(old)} bytes", f"{len(new)} bytes"))
    return ("~", path, Change(path, before, after))


def _folder(name: str, old: Folder, new: Folder, base: Snapshot, work: Snapshot) -> FolderDiff:
    diff = FolderDiff(name)
    diff.added = [new.objects[k] for k in sorted(new.objects.keys() - old.objects.keys())]
    diff.removed = [old.objects[k] for k in sorted(old.objects.keys() - new.objects.keys())]
    for key in sorted(old.objects.keys() & new.objects.keys()):
        found = changes(old.objects[key].body, new.objects[key].body)
        if found:
            diff.changed.append((new.objects[key], found))
    for path in sorted(old.files.keys() | new.files.keys()):
        if old.files.get(path) != new.files.get(path):
            diff.files.append(_file_change(path, old.files.get(path), new.files.get(path)))
    before, after = base.releases.get(name), work.releases.get(name)
    if before != after:
        diff.release = (release_label(before), release_label(after))
    return diff


def review(cwd: Path, base_ref: str | None) -> Review:
    """Compare BASE (or the default base) with the working tree of the repository around ``cwd``."""
    root = git.toplevel(cwd)
    commit, how = git.resolve_base(root, base_ref)
    base = snapshot(git.committed_files(root, commit, prefixes()))
    work = snapshot(git.working_files(root, prefixes()))
    acknowledging = notes.new_notes(work.notes, base.notes, base.keys() | work.keys())
    names = sorted(base.folders.keys() | work.folders.keys() | base.releases.keys() | work.releases.keys())
    folders, flags = [], []
    for name in names:
        old, new = base.folders.get(name, Folder()), work.folders.get(name, Folder())
        folder = _folder(name, old, new, base, work)
        links = risks.connections(name, base.network.get(name), work.network.get(name))
        folder.connections = (
            sum(f.text.startswith("+") for f in links),
            sum(f.text.startswith("-") for f in links),
        )
        folders.append(folder)
        flags += risks.blocking(name, old.objects, new.objects)
        flags += risks.informational(name, old.objects, new.objects) + links
    blocking = [
        (flag, next((n for n in acknowledging if n.flagged and flag.key in n.objects), None))
        for flag in flags
        if flag.blocking
    ]
    info = [flag for flag in flags if not flag.blocking]
    return Review(commit, how, folders, blocking, info, acknowledging)
