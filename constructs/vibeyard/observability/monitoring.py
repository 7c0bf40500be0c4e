"""Everything observability renders for one environment, behind one construct.

The chart only decides *whether* an environment is monitored; this construct
decides what that means: a ServiceMonitor for the web tier and for each worker
pool that exposes metrics, the PrometheusRule, and the Grafana dashboards. All of
it targets a kube-prometheus-stack release named by
``MonitoringConfig.prometheus_release``.
"""

from __future__ import annotations

from constructs import Construct

from .. import identity
from ..config.types import EnvConfig
from ..web_app import PORT_NAME as WEB_PORT_NAME
from ..worker_pool import METRICS_PORT_NAME as WORKER_METRICS_PORT_NAME
from .alert_rules import WEB_WORKLOAD, alert_groups
from .dashboard_config_maps import DashboardConfigMaps
from .dashboards import rendered
from .prometheus_rule import PrometheusAlerts
from .service_monitor import MetricsScrape

WORKER_METRICS_PATH = "/metrics"
RULE_NAME = "vibeyard"


class Monitoring(Construct):
    def __init__(self, scope: Construct, id: str, *, cfg: EnvConfig, instance: str, version: str) -> None:
        super().__init__(scope, id)
        mon = cfg.monitoring
        if not mon.enabled:
            raise ValueError(f"{cfg.name}: Monitoring is only added to environments with monitoring.enabled")
        ns = cfg.namespace
        platform = identity.of(identity.PLATFORM, instance)

        MetricsScrape(
            self,
            "Web",
            name=WEB_WORKLOAD,
            namespace=ns,
            identity=identity.of(identity.WEB, instance, version),
            port_name=WEB_PORT_NAME,
            path=cfg.web.metrics_path,
            interval=mon.scrape_interval,
            release=mon.prometheus_release,
        )
        for pool in cfg.workers:
            if pool.metrics_port is None:
                continue
            MetricsScrape(
                self,
                f"Worker-{pool.name}",
                name=identity.worker_name(pool.name),
                namespace=ns,
                identity=identity.worker(pool.name, instance, version),
                port_name=WORKER_METRICS_PORT_NAME,
                path=WORKER_METRICS_PATH,
                interval=mon.scrape_interval,
                release=mon.prometheus_release,
            )

        PrometheusAlerts(
            self,
            "Alerts",
            name=RULE_NAME,
            namespace=ns,
            identity=platform,
            groups=alert_groups(cfg),
            release=mon.prometheus_release,
        )
        if mon.dashboards:
            DashboardConfigMaps(self, "Dashboards", namespace=ns, identity=platform, dashboards=rendered(cfg))
