"""Argo CD sync waves and protection, stamped on every object of an environment.

The waves come from ``order.py``. The Namespace and the StatefulSets (which own
the data volumes) are never pruned or deleted by Argo CD: renaming a file must
not delete a database.
"""

from __future__ import annotations

from typing import Any

from ..order import wave

WAVE = "argocd.argoproj.io/sync-wave"
SYNC_OPTIONS = "argocd.argoproj.io/sync-options"
KEEP = "Prune=false,Delete=false"
PROTECTED_KINDS = frozenset({"Namespace", "StatefulSet"})


def stamp(manifest: dict[str, Any]) -> None:
    """Add the sync wave (and the protection where it applies) to ``manifest``'s annotations."""
    meta = manifest["metadata"]
    notes = {**meta.get("annotations", {}), WAVE: str(wave(manifest))}
    if manifest["kind"] in PROTECTED_KINDS:
        notes[SYNC_OPTIONS] = KEEP
    meta["annotations"] = dict(sorted(notes.items()))
    manifest["metadata"] = dict(sorted(meta.items()))
