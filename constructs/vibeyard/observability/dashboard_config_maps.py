"""One ConfigMap per Grafana dashboard, for the kube-prometheus-stack sidecar.

The sidecar loads every ConfigMap labelled ``grafana_dashboard: "1"``. These live
in the application's namespace, not in ``monitoring``, so the sidecar must search
all namespaces: ``grafana.sidecar.dashboards.searchNamespace: ALL`` in the
kube-prometheus-stack values. One ConfigMap per dashboard (rather than one for
all) keeps each object far below the 256 KiB ``last-applied-configuration``
annotation limit of a client-side ``kubectl apply``.
"""

from __future__ import annotations

from collections.abc import Mapping

from cdk8s_plus_28 import k8s
from constructs import Construct

from ..identity import Identity
from ..kube import meta

SIDECAR_LABEL = "grafana_dashboard"


def config_map_name(slug: str) -> str:
    return f"vibeyard-dashboard-{slug}"


class DashboardConfigMaps(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        namespace: str,
        identity: Identity,
        dashboards: Mapping[str, str],
    ) -> None:
        """``dashboards`` maps a slug to its rendered JSON (see ``dashboards.rendered``)."""
        super().__init__(scope, id)
        for slug, text in sorted(dashboards.items()):
            k8s.KubeConfigMap(
                self,
                slug,
                metadata=meta(config_map_name(slug), namespace, identity, extra_labels={SIDECAR_LABEL: "1"}),
                data={f"{slug}.json": text},
            )
