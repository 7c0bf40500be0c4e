"""The environment's alerts, as data: PromQL, severity, and what to do first.

Every metric is one that real software emits: the app's HTTP metrics (named in
``MonitoringConfig`` and in docs/app-contract.yaml), BullMQ's
``exportPrometheusMetrics()``, the store exporters and kube-state-metrics. Every
threshold is config, and every expression is scoped to the environment's
namespace so one Prometheus can watch several environments without one's alerts
firing on another's series. Runbooks name our
real objects (``deployment/vibeyard``, ``statefulset/postgres``…) because the
first minutes of an incident are not the time to work out resource names.

This module holds the app's and the pods' alerts, ``store_alerts.py`` the queue's
and the data stores'. Both are plain Python; ``prometheus_rule.py`` turns them
into a typed PrometheusRule, and tests load them into the real promtool.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .. import identity
from . import promql
from .promql import Scope, eq
from .subject import Observed

Severity = Literal["warning", "critical"]

# Rate windows: long enough to smooth scrape jitter at a 30s interval, short
# enough that an alert fires within minutes of a bad release.
WINDOW = "5m"
SLOW_WINDOW = "15m"
RESTARTS_PER_HALF_HOUR = 3

# The web Deployment/Service name (``WebApp``'s default) and so the scrape job.
WEB_WORKLOAD = identity.WEB[0]
WEB_PODS = f"app.kubernetes.io/name={identity.WEB[0]},app.kubernetes.io/component={identity.WEB[1]}"


@dataclass(frozen=True)
class Alert:
    name: str
    expr: str
    for_: str
    severity: Severity
    summary: str
    description: str
    runbook: str

    def labels(self, namespace: str) -> dict[str, str]:
        # ``namespace`` survives the aggregations, so Alertmanager can route per environment.
        return {"severity": self.severity, "namespace": namespace}

    def annotations(self) -> dict[str, str]:
        return {"summary": self.summary, "description": self.description, "runbook": self.runbook}


@dataclass(frozen=True)
class AlertGroup:
    name: str
    alerts: tuple[Alert, ...]


def steps(*steps: str) -> str:
    return "\n".join(f"{i}. {step}" for i, step in enumerate(steps, start=1)) + "\n"


def rollback(ns: str) -> str:
    return (
        f"If it started with a release: `kubectl -n {ns} rollout undo deployment/{WEB_WORKLOAD}`, "
        "then revert the image tag in git so the next sync does not redeploy it"
    )


def web_alerts(obs: Observed) -> AlertGroup:
    ns, mon = obs.namespace, obs.monitoring
    m = mon.metrics
    web = Scope(ns, WEB_WORKLOAD)
    errors = Alert(
        name="VibeyardHighErrorRate",
        expr=f"{promql.error_ratio(web, m.http_requests_total, m.status_label, WINDOW)} "
        f"> {mon.error_rate_threshold}",
        for_="5m",
        severity="critical",
        summary=f"Vibeyard ({obs.name}) is answering more than {mon.error_rate_threshold:.0%} of requests "
        "with 5xx",
        description="{{ $value | humanizePercentage }} of requests to the web tier in namespace "
        f"{ns} failed with a 5xx status over the last {WINDOW}.",
        runbook=steps(
            f"`kubectl -n {ns} get pods -l {WEB_PODS}` — look for restarts or unready pods",
            f"`kubectl -n {ns} logs deployment/{WEB_WORKLOAD} --since=15m | grep -i error`, and check Sentry",
            f"`kubectl -n {ns} rollout history deployment/{WEB_WORKLOAD}` — did a release just go out?",
            rollback(ns),
            "If the errors are database timeouts, check the Database pool dashboard and postgres health",
        ),
    )
    latency = Alert(
        name="VibeyardHighLatencyP95",
        expr=f"{promql.quantile(web, m.http_duration_bucket, 0.95, WINDOW)} > {mon.latency_p95_seconds}",
        for_="10m",
        severity="warning",
        summary=f"Vibeyard ({obs.name}) p95 latency is above {mon.latency_p95_seconds}s",
        description="The 95th percentile of web request duration in namespace "
        f"{ns} is {{{{ $value | humanizeDuration }}}} over the last {WINDOW}.",
        runbook=steps(
            f"`kubectl -n {ns} get hpa {WEB_WORKLOAD}` — is the web tier already at max replicas?",
            f"`kubectl -n {ns} top pods -l {WEB_PODS}` — CPU near the limit means throttling",
            "Check the Database pool dashboard: waiting requests mean the pool or postgres is the bottleneck",
            "Check the Redis cache dashboard: a falling hit rate sends more reads to postgres",
            rollback(ns),
        ),
    )
    return AlertGroup("vibeyard-web", (errors, latency))


def pod_alerts(obs: Observed) -> AlertGroup:
    ns = obs.namespace
    pods = Scope(ns)
    inspect_pod = (
        f"`kubectl -n {ns} describe pod {{{{ $labels.pod }}}}` — Last State shows OOMKilled or the exit code"
    )
    previous_logs = f"`kubectl -n {ns} logs {{{{ $labels.pod }}}} -c {{{{ $labels.container }}}} --previous`"
    restarts = Alert(
        name="VibeyardPodRestarting",
        expr="sum by (pod, container) (increase("
        f"{pods.series('kube_pod_container_status_restarts_total')}[30m])) > {RESTARTS_PER_HALF_HOUR}",
        for_="5m",
        severity="warning",
        summary=f"Container {{{{ $labels.container }}}} in {{{{ $labels.pod }}}} ({obs.name}) "
        "keeps restarting",
        description=f"{{{{ $value | humanize }}}} restarts in the last 30m in namespace {ns}.",
        runbook=steps(
            inspect_pod,
            previous_logs,
            "OOMKilled: raise the memory limit in config; failing probes: check the health endpoint",
        ),
    )
    crashloop = Alert(
        name="VibeyardPodCrashLooping",
        expr="max by (pod, container) (max_over_time("
        f"{pods.series('kube_pod_container_status_waiting_reason', eq('reason', 'CrashLoopBackOff'))}[5m]))"
        " >= 1",
        for_="10m",
        severity="critical",
        summary=f"Container {{{{ $labels.container }}}} in {{{{ $labels.pod }}}} ({obs.name}) is in "
        "CrashLoopBackOff",
        description=f"The container has been crash-looping for 10m in namespace {ns}.",
        runbook=steps(
            previous_logs,
            inspect_pod,
            f"`kubectl -n {ns} get events --sort-by=.lastTimestamp | tail -30`",
            "Missing secret keys or a failed migration stop the app at boot: "
            f"`kubectl -n {ns} get jobs,secrets`",
            rollback(ns),
        ),
    )
    return AlertGroup("vibeyard-pods", (restarts, crashloop, _autoscaler_at_max(obs)))


def _autoscaler_at_max(obs: Observed) -> Alert:
    ns = obs.namespace
    series = Scope(ns).series
    # An HPA whose min equals its max is always "at max"; it has nothing to report.
    at_max = Alert(
        name="VibeyardAutoscalerAtMax",
        expr=f"({series('kube_horizontalpodautoscaler_status_current_replicas')} "
        f">= {series('kube_horizontalpodautoscaler_spec_max_replicas')}) "
        f"and ({series('kube_horizontalpodautoscaler_spec_max_replicas')} "
        f"> {series('kube_horizontalpodautoscaler_spec_min_replicas')})",
        for_="15m",
        severity="warning",
        summary=f"Autoscaler {{{{ $labels.horizontalpodautoscaler }}}} ({obs.name}) has been at max replicas "
        "for 15m",
        description=f"HPA {{{{ $labels.horizontalpodautoscaler }}}} in namespace {ns} cannot add capacity; "
        "latency or queue backlog will follow if load keeps growing.",
        runbook=steps(
            f"`kubectl -n {ns} describe hpa {{{{ $labels.horizontalpodautoscaler }}}}` — "
            "which metric drives it?",
            f"`kubectl -n {ns} top pods` — real load, or a hot loop in one release?",
            "If the load is real, raise max_replicas in config "
            "(KEDA-managed HPAs are named keda-hpa-<worker>) "
            f"and check the quota headroom: `kubectl -n {ns} describe resourcequota`",
        ),
    )
    return at_max
