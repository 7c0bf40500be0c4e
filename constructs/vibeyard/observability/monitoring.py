"""Everything observability renders for one environment, behind one construct.

The chart only decides *whether* an environment is monitored; this construct
decides what that means: a ServiceMonitor for the web tier and for each worker
pool that exposes metrics, the PrometheusRule, and the Grafana dashboards. All of
it targets a kube-prometheus-stack release named by
``MonitoringConfig.prometheus_release``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from constructs import Construct

from ..identity import Identity
from .alerts import alert_groups
from .dashboard_config_maps import DashboardConfigMaps
from .dashboards import rendered
from .prometheus_rule import PrometheusAlerts
from .service_monitor import MetricsScrape
from .subject import Observed

RULE_NAME = "vibeyard"


@dataclass(frozen=True)
class ScrapeTarget:
    """A Service to scrape: its workload's identity, the port name and the path."""

    identity: Identity
    port_name: str
    path: str


class Monitoring(Construct):
    """ServiceMonitors, the PrometheusRule ``vibeyard`` and the dashboards.

    :param observed: namespace, metric names, thresholds, queues and volumes.
    :param owner: the platform identity the rule and dashboards are labelled with.
    :param targets: one ServiceMonitor each, named after the workload.
    :param dashboards: render the Grafana dashboards. Default True.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        observed: Observed,
        owner: Identity,
        targets: Sequence[ScrapeTarget],
        dashboards: bool = True,
    ) -> None:
        super().__init__(scope, id)
        mon = observed.monitoring
        ns = observed.namespace
        for target in targets:
            MetricsScrape(
                self,
                f"Scrape-{target.identity.name}",
                name=target.identity.name,
                namespace=ns,
                identity=target.identity,
                port_name=target.port_name,
                path=target.path,
                interval=mon.scrape_interval,
                release=mon.prometheus_release,
            )
        PrometheusAlerts(
            self,
            "Alerts",
            name=RULE_NAME,
            namespace=ns,
            identity=owner,
            groups=alert_groups(observed),
            release=mon.prometheus_release,
        )
        if dashboards:
            DashboardConfigMaps(
                self, "Dashboards", namespace=ns, identity=owner, dashboards=rendered(observed)
            )
