"""Grafana dashboards for the design doc's list, generated from typed Python.

Generated, not pasted: every query is built from ``MonitoringConfig.metrics`` and
the environment's namespace, so renaming a metric in the app updates alerts and
dashboards together, and a review diff shows a changed query rather than a
reshuffled JSON export. The output is deterministic (sorted keys, panel ids by
position, a fixed ``uid``) so snapshots only change when a dashboard does.

Each environment gets its own ``uid`` and title: with the Grafana sidecar
searching every namespace, staging's and production's copies land in one Grafana,
and equal uids would overwrite each other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from . import promql
from .alert_rules import WEB_WORKLOAD
from .promql import Scope
from .subject import Observed

# Grafana widens this to at least four scrape intervals, so rates stay defined
# at any zoom level; alerts use fixed windows instead.
RATE = "$__rate_interval"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
GRID_COLUMNS = 24
PANEL_WIDTH = 12
PANEL_HEIGHT = 8
MAX_UID = 40  # Grafana rejects longer dashboard uids.

PanelKind = Literal["timeseries", "stat"]
Json = dict[str, Any]


@dataclass(frozen=True)
class Target:
    expr: str
    legend: str

    def to_json(self, ref_id: str) -> Json:
        return {
            "datasource": DATASOURCE,
            "expr": self.expr,
            "legendFormat": self.legend,
            "range": True,
            "refId": ref_id,
        }


@dataclass(frozen=True)
class Panel:
    title: str
    description: str
    targets: tuple[Target, ...]
    unit: str = "short"
    kind: PanelKind = "timeseries"
    # A red threshold line at the value the matching alert fires on.
    alert_threshold: float | None = None
    min: float | None = None
    max: float | None = None

    def to_json(self, panel_id: int, x: int, y: int) -> Json:
        steps: list[Json] = [{"color": "green", "value": None}]
        if self.alert_threshold is not None:
            steps.append({"color": "red", "value": self.alert_threshold})
        defaults: Json = {
            "unit": self.unit,
            "thresholds": {"mode": "absolute", "steps": steps},
        }
        if self.alert_threshold is not None and self.kind == "timeseries":
            defaults["custom"] = {"thresholdsStyle": {"mode": "line"}}
        if self.min is not None:
            defaults["min"] = self.min
        if self.max is not None:
            defaults["max"] = self.max
        return {
            "datasource": DATASOURCE,
            "description": self.description,
            "fieldConfig": {"defaults": defaults, "overrides": []},
            "gridPos": {"h": PANEL_HEIGHT, "w": PANEL_WIDTH, "x": x, "y": y},
            "id": panel_id,
            "targets": [t.to_json(chr(ord("A") + i)) for i, t in enumerate(self.targets)],
            "title": self.title,
            "type": self.kind,
        }


@dataclass(frozen=True)
class Dashboard:
    """``slug`` names the ConfigMap and its data key; it is part of the uid."""

    slug: str
    title: str
    panels: tuple[Panel, ...]
    tags: tuple[str, ...] = field(default=())

    def uid(self, env: str) -> str:
        uid = f"vibeyard-{env}-{self.slug}"
        if len(uid) > MAX_UID:
            raise ValueError(f"dashboard uid {uid!r} is longer than Grafana's {MAX_UID} characters")
        return uid

    def to_json(self, obs: Observed) -> Json:
        per_row = GRID_COLUMNS // PANEL_WIDTH
        panels = [
            panel.to_json(i + 1, (i % per_row) * PANEL_WIDTH, (i // per_row) * PANEL_HEIGHT)
            for i, panel in enumerate(self.panels)
        ]
        return {
            "editable": False,  # the ConfigMap is the source of truth; UI edits would be lost
            "panels": panels,
            "refresh": "1m",
            "schemaVersion": 39,
            "tags": ["vibeyard", obs.name, *self.tags],
            "templating": {
                "list": [
                    {
                        "hide": 0,
                        "label": "Data source",
                        "name": "datasource",
                        "query": "prometheus",
                        "type": "datasource",
                    }
                ]
            },
            "time": {"from": "now-6h", "to": "now"},
            "timezone": "browser",
            "title": f"Vibeyard ({obs.name}) / {self.title}",
            "uid": self.uid(obs.name),
            "version": 1,
        }

    def render(self, obs: Observed) -> str:
        return json.dumps(self.to_json(obs), indent=2, sort_keys=True) + "\n"


def http_dashboard(obs: Observed) -> Dashboard:
    m, mon = obs.monitoring.metrics, obs.monitoring
    web = Scope(obs.namespace, WEB_WORKLOAD)
    return Dashboard(
        slug="http",
        title="HTTP",
        tags=("web",),
        panels=(
            Panel(
                title="Request rate",
                description="Requests per second to the web tier, by status code.",
                unit="reqps",
                targets=(
                    Target(
                        promql.sum_rate(web, m.http_requests_total, RATE, labels=(m.status_label,)),
                        f"{{{{{m.status_label}}}}}",
                    ),
                ),
            ),
            Panel(
                title="Error rate (5xx)",
                description="Share of requests answered with a 5xx; the line is the alert threshold.",
                unit="percentunit",
                min=0,
                alert_threshold=mon.error_rate_threshold,
                targets=(
                    Target(promql.error_ratio(web, m.http_requests_total, m.status_label, RATE), "5xx"),
                ),
            ),
            Panel(
                title="Latency (p50 / p95 / p99)",
                description="Request duration quantiles from the histogram; "
                "the line is the p95 alert threshold.",
                unit="s",
                min=0,
                alert_threshold=mon.latency_p95_seconds,
                targets=tuple(
                    Target(promql.quantile(web, m.http_duration_bucket, q, RATE), f"p{round(q * 100)}")
                    for q in (0.5, 0.95, 0.99)
                ),
            ),
        ),
    )


def queue_dashboard(obs: Observed) -> Dashboard:
    m, mon = obs.monitoring.metrics, obs.monitoring
    ns = Scope(obs.namespace)
    per_queue = ("queue",)
    return Dashboard(
        slug="queues",
        title="Job queues",
        tags=("bullmq",),
        panels=(
            Panel(
                title="Waiting jobs per queue",
                description="Jobs waiting for a worker; the line is the backlog alert threshold.",
                alert_threshold=mon.queue_depth_threshold,
                min=0,
                targets=(
                    Target(promql.aggregate("max", ns.series(m.queue_waiting), per_queue), "{{queue}}"),
                ),
            ),
            Panel(
                title="Completed jobs per queue",
                description="Jobs finished successfully per second.",
                unit="ops",
                targets=(
                    Target(promql.sum_rate(ns, m.queue_completed_total, RATE, labels=per_queue), "{{queue}}"),
                ),
            ),
            Panel(
                title="Failed jobs per queue",
                description="Jobs that failed after their retries, per second.",
                unit="ops",
                targets=(
                    Target(promql.sum_rate(ns, m.queue_failed_total, RATE, labels=per_queue), "{{queue}}"),
                ),
            ),
        ),
    )


def database_dashboard(obs: Observed) -> Dashboard:
    m = obs.monitoring.metrics
    ns = Scope(obs.namespace)
    # ``by (job)`` keeps the web tier's pool apart from each worker pool's.
    per_job = ("job",)
    return Dashboard(
        slug="database",
        title="Database pool",
        tags=("postgres",),
        panels=(
            Panel(
                title="Connection pool (active / idle / waiting)",
                description="Client-side pool connections summed over pods; waiting requests mean "
                "the pool is exhausted.",
                min=0,
                targets=(
                    Target(promql.aggregate("sum", ns.series(m.db_pool_active), per_job), "active {{job}}"),
                    Target(promql.aggregate("sum", ns.series(m.db_pool_idle), per_job), "idle {{job}}"),
                    Target(promql.aggregate("sum", ns.series(m.db_pool_waiting), per_job), "waiting {{job}}"),
                ),
            ),
            Panel(
                title="Waiting requests by pod",
                description="One pod with waiting requests while others idle points at that pod, "
                "not at postgres.",
                min=0,
                targets=(Target(promql.aggregate("max", ns.series(m.db_pool_waiting), ("pod",)), "{{pod}}"),),
            ),
        ),
    )


def cache_dashboard(obs: Observed) -> Dashboard:
    m = obs.monitoring.metrics
    ns = Scope(obs.namespace)
    return Dashboard(
        slug="cache",
        title="Redis cache",
        tags=("redis",),
        panels=(
            Panel(
                title="Redis cache hit rate",
                description="hits / (hits + misses); a drop sends more reads to postgres.",
                unit="percentunit",
                min=0,
                max=1,
                targets=(
                    Target(promql.hit_ratio(ns, m.cache_hits_total, m.cache_misses_total, RATE), "hit rate"),
                ),
            ),
            Panel(
                title="Cache lookups",
                description="Cache hits and misses per second.",
                unit="ops",
                targets=(
                    Target(promql.sum_rate(ns, m.cache_hits_total, RATE), "hits"),
                    Target(promql.sum_rate(ns, m.cache_misses_total, RATE), "misses"),
                ),
            ),
        ),
    )


def dashboards(obs: Observed) -> tuple[Dashboard, ...]:
    return (http_dashboard(obs), queue_dashboard(obs), database_dashboard(obs), cache_dashboard(obs))


def rendered(obs: Observed) -> dict[str, str]:
    """Dashboard JSON by slug, as the ConfigMaps carry it."""
    return {d.slug: d.render(obs) for d in dashboards(obs)}
