"""A typed ``monitoring.coreos.com/v1`` ServiceMonitor for one Service.

The endpoint names its port (``http``, ``metrics``) rather than a number, so a
port change in the workload cannot silently point Prometheus at the wrong
socket. The ``release`` label is what kube-prometheus-stack's default
``serviceMonitorSelector`` matches; without it the object is applied and ignored.
"""

from __future__ import annotations

import re

import cdk8s
from constructs import Construct

from imports.servicemonitors.com.coreos import monitoring

from ..identity import Identity

RELEASE_LABEL = "release"
# Prometheus's own default. A Node.js /metrics that needs longer has a blocked
# event loop, and a longer wait would only hide that.
MAX_SCRAPE_TIMEOUT_MS = 10_000
_DURATION = re.compile(r"^([1-9][0-9]*)(s|m|h)$")
_UNIT_MS = {"s": 1_000, "m": 60_000, "h": 3_600_000}


def scrape_timeout(interval: str) -> str:
    """Two thirds of the interval, at most 10s: a timeout must be shorter than the
    interval, or one slow scrape overlaps the next."""
    match = _DURATION.match(interval)
    if match is None:
        raise ValueError(f"scrape interval {interval!r} is not a duration like '30s', '1m' or '1h'")
    ms = min(int(match.group(1)) * _UNIT_MS[match.group(2)] * 2 // 3, MAX_SCRAPE_TIMEOUT_MS)
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


class MetricsScrape(monitoring.ServiceMonitor):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        namespace: str,
        identity: Identity,
        port_name: str,
        path: str,
        interval: str,
        release: str,
    ) -> None:
        super().__init__(
            scope,
            id,
            metadata=cdk8s.ApiObjectMetadata(
                name=name,
                namespace=namespace,
                labels={**identity.labels, RELEASE_LABEL: release},
            ),
            spec=monitoring.ServiceMonitorSpec(
                # Selector labels only: ``version`` changes every release, and a
                # selector on it would drop the target during a rollout.
                selector=monitoring.ServiceMonitorSpecSelector(match_labels=identity.selector),
                namespace_selector=monitoring.ServiceMonitorSpecNamespaceSelector(match_names=[namespace]),
                endpoints=[
                    monitoring.ServiceMonitorSpecEndpoints(
                        port=port_name,
                        path=path,
                        interval=interval,
                        scrape_timeout=scrape_timeout(interval),
                    )
                ],
            ),
        )
