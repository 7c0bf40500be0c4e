"""Argo CD sync waves and protection, stamped on every object of an environment.

A first sync of an empty namespace must complete with no manual step, and a
release's migration must finish before the new version serves. Argo CD applies
one wave at a time and waits for it to be healthy, so the order is:

- wave -4: the Namespace;
- wave -3: quota, limits, NetworkPolicies and ServiceAccounts;
- wave -2: the Secret, ConfigMaps, KEDA's TriggerAuthentication and Services;
- wave -1: the data stores (StatefulSets, PgBouncer, the cache), ready before
  anything connects to them;
- wave  0: the migration Job, a Sync-phase hook (it runs on every sync, after
  the Secret exists: a release that adds a key cannot wedge it);
- wave  1: the app and everything that watches it.

The Namespace and the StatefulSets (which own the data volumes) are never pruned
or deleted by Argo CD: renaming a file must not delete a database.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

WAVE = "argocd.argoproj.io/sync-wave"
SYNC_OPTIONS = "argocd.argoproj.io/sync-options"
KEEP = "Prune=false,Delete=false"

_BY_KIND: Mapping[str, int] = {
    "Namespace": -4,
    "ResourceQuota": -3,
    "LimitRange": -3,
    "NetworkPolicy": -3,
    "ServiceAccount": -3,
    "SealedSecret": -2,
    "ExternalSecret": -2,
    "Secret": -2,
    "ConfigMap": -2,
    "TriggerAuthentication": -2,
    "Service": -2,
    "StatefulSet": -1,
    "Job": 0,
}
# Deployments of the data tier come up with the StatefulSets, before the migration.
STORE_COMPONENTS = frozenset({"database", "queue", "cache", "connection-pooler"})
COMPONENT = "app.kubernetes.io/component"
PROTECTED_KINDS = frozenset({"Namespace", "StatefulSet"})


def wave_of(manifest: Mapping[str, Any]) -> int:
    kind = manifest["kind"]
    if kind == "Deployment":
        component = manifest["metadata"].get("labels", {}).get(COMPONENT)
        return -1 if component in STORE_COMPONENTS else 1
    return _BY_KIND.get(kind, 1)


def stamp(manifest: dict[str, Any]) -> None:
    """Add the sync wave (and the protection where it applies) to ``manifest``'s annotations."""
    meta = manifest["metadata"]
    notes = {**meta.get("annotations", {}), WAVE: str(wave_of(manifest))}
    if manifest["kind"] in PROTECTED_KINDS:
        notes[SYNC_OPTIONS] = KEEP
    meta["annotations"] = dict(sorted(notes.items()))
    manifest["metadata"] = dict(sorted(meta.items()))
