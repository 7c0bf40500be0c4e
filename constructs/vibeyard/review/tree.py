"""One side of the comparison: the rendered objects per environment folder, and what goes with them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import yaml

from vibeyard.review.git import Files

DIST = "dist"
# The release records, written with dist/ in one swap. The only place their path is spelled;
# a folder of dist/ that holds them is not an environment.
RELEASE_RECORD = "dist/releases/{env}.json"
UPGRADE_NOTES = "upgrades"
# Written by the network maps (one allowed connection a line); an environment without
# one on either side is skipped.
NETWORK_LIST = "docs/network/{env}.txt"

Doc = dict[str, Any]


def _folder(pattern: str) -> str:
    return str(PurePosixPath(pattern).parent)


def prefixes() -> list[str]:
    """The paths git is asked about: everything below is read from these only."""
    return list(dict.fromkeys([DIST, _folder(RELEASE_RECORD), UPGRADE_NOTES, _folder(NETWORK_LIST)]))


@dataclass(frozen=True)
class Obj:
    """One rendered Kubernetes object and the file it came from."""

    kind: str
    namespace: str
    name: str
    path: str
    body: Doc

    @property
    def key(self) -> str:
        """``kind/namespace/name``; cluster-scoped objects have no namespace: ``kind/name``."""
        return f"{self.kind}/{self.namespace}/{self.name}" if self.namespace else f"{self.kind}/{self.name}"


@dataclass
class Folder:
    """One folder of dist/ (an environment, or argocd): its objects and any other files."""

    objects: dict[str, Obj] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)


@dataclass
class Snapshot:
    folders: dict[str, Folder] = field(default_factory=dict)
    releases: dict[str, bytes] = field(default_factory=dict)
    network: dict[str, list[str]] = field(default_factory=dict)
    notes: dict[str, bytes] = field(default_factory=dict)

    def keys(self) -> set[str]:
        return {key for folder in self.folders.values() for key in folder.objects}


def _objects(path: str, data: bytes) -> list[Obj] | None:
    """The objects in a manifest file, or None for anything else (which is then compared as a file)."""
    if not path.endswith((".yaml", ".yml")):
        return None
    try:
        docs = [
            doc for doc in yaml.load_all(data.decode("utf-8"), Loader=yaml.CSafeLoader) if doc is not None
        ]
    except (UnicodeDecodeError, yaml.YAMLError):
        return None
    found = []
    for doc in docs:
        meta = doc.get("metadata") if isinstance(doc, dict) else None
        if not (
            isinstance(meta, dict) and isinstance(doc.get("kind"), str) and isinstance(meta.get("name"), str)
        ):
            return None
        namespace = meta.get("namespace")
        found.append(
            Obj(doc["kind"], namespace if isinstance(namespace, str) else "", meta["name"], path, doc)
        )
    return found or None


def _network_lines(data: bytes) -> list[str]:
    lines = (line.strip() for line in data.decode("utf-8", errors="replace").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _match(pattern: str, path: str) -> str | None:
    """The ``{env}`` of ``path`` if it is one of the files ``pattern`` names."""
    head, tail = pattern.split("{env}")
    if path.startswith(head) and path.endswith(tail) and "/" not in path[len(head) : len(path) - len(tail)]:
        return path[len(head) : len(path) - len(tail)] or None
    return None


def snapshot(files: Files) -> Snapshot:
    snap = Snapshot()
    release_folder = PurePosixPath(_folder(RELEASE_RECORD))
    for path, data in sorted(files.items()):
        parts = PurePosixPath(path).parts
        if (env := _match(RELEASE_RECORD, path)) is not None:
            snap.releases[env] = data
        elif (env := _match(NETWORK_LIST, path)) is not None:
            snap.network[env] = _network_lines(data)
        elif parts[0] == UPGRADE_NOTES:
            snap.notes[path] = data
        elif parts[0] == DIST and not PurePosixPath(path).is_relative_to(release_folder):
            name = parts[1] if len(parts) > 2 else ""  # "": a file directly in dist/
            folder = snap.folders.setdefault(name, Folder())
            objs = _objects(path, data)
            if objs is None:
                folder.files[path] = data
            for obj in objs or ():
                folder.objects[obj.key] = obj
    return snap


def release_label(data: bytes | None) -> str:
    """``tag[@digest]`` of a release record, ``(none)`` when there is none, or what is wrong with it."""
    if data is None:
        return "(none)"
    try:
        record = json.loads(data)
        tag = record["tag"]
    except (ValueError, TypeError, KeyError):
        return "(not a release record)"
    digest = record.get("digest")
    return f"{tag}@{digest}" if digest else str(tag)
