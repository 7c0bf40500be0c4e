"""The order objects reach a cluster in, in one table.

Two consumers read it. ``kubectl apply -R -f dist/<env>`` applies files in name
order, so each file name starts with its kind's rank; Argo CD applies one sync
wave at a time and waits for it to be healthy. A first sync of an empty
namespace must complete with no manual step, and a release's migration must
finish before the new version serves, so the waves are:

- -4: the Namespace;
- -3: quota, limits, the image policy, NetworkPolicies and ServiceAccounts;
- -2: the Secret, ConfigMaps, KEDA's TriggerAuthentication and Services;
- -1: the data stores (StatefulSets, and the Deployments of the data tier), ready
  before anything connects to them; the AppProject, before its Applications;
- 0: the migration Job, a Sync-phase hook (it runs on every sync, after the
  Secret exists: a release that adds a key cannot wedge it); the Applications;
- 1: the app and everything that watches it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# kind: (rank in the file name, Argo CD sync wave)
ORDER: Mapping[str, tuple[int, int]] = {
    "Namespace": (0, -4),
    "ResourceQuota": (1, -3),
    "ClusterImagePolicy": (1, -3),
    "LimitRange": (1, -3),
    "NetworkPolicy": (2, -3),
    "ServiceAccount": (3, -3),
    "Secret": (4, -2),
    "SealedSecret": (4, -2),
    "ReferenceGrant": (4, -2),
    "Certificate": (4, -2),
    "ExternalSecret": (4, -2),
    "ConfigMap": (5, -2),
    "TriggerAuthentication": (6, -2),
    "Service": (7, -2),
    "Job": (8, 0),
    "StatefulSet": (9, -1),
    "Deployment": (9, 1),
    "HorizontalPodAutoscaler": (10, 1),
    "ScaledObject": (10, 1),
    "PodDisruptionBudget": (10, 1),
    "VerticalPodAutoscaler": (10, 1),
    "Ingress": (11, 1),
    "Gateway": (11, 1),
    "HTTPRoute": (11, 1),
    "ServiceMonitor": (12, 1),
    "PrometheusRule": (12, 1),
    "AppProject": (12, -1),
    "Application": (13, 0),
}
UNKNOWN = (50, 1)
# Deployments of the data tier come up with the StatefulSets, before the migration.
STORE_COMPONENTS = frozenset({"database", "queue", "cache", "connection-pooler"})
COMPONENT = "app.kubernetes.io/component"


def rank(kind: str) -> int:
    return ORDER.get(kind, UNKNOWN)[0]


def wave(manifest: Mapping[str, Any]) -> int:
    kind = manifest["kind"]
    if kind == "Deployment" and manifest["metadata"].get("labels", {}).get(COMPONENT) in STORE_COMPONENTS:
        return ORDER["StatefulSet"][1]
    return ORDER.get(kind, UNKNOWN)[1]
