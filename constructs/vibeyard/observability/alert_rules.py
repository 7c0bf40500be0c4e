"""The environment's alerts, as data: PromQL, severity, and what to do first.

Every threshold and metric name comes from ``MonitoringConfig``, so renaming a
metric in the app or tuning an alert is a config change, and every expression is
scoped to the environment's namespace so one Prometheus can watch several
environments without one's alerts firing on another's series. Runbooks name our
real objects (``deployment/vibeyard``, ``statefulset/postgres``…) because the
first minutes of an incident are not the time to work out resource names.

This module is plain Python; ``prometheus_rule.py`` turns it into a typed
PrometheusRule, and tests parse every expression without jsii.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from .. import identity
from . import promql
from .promql import Scope, eq, regex
from .subject import Observed

Severity = Literal["warning", "critical"]

# Rate windows: long enough to smooth scrape jitter at a 30s interval, short
# enough that an alert fires within minutes of a bad release.
WINDOW = "5m"
SLOW_WINDOW = "15m"
# Share of finished BullMQ jobs that may fail before someone looks. Jobs retry, so
# a few failures are normal; a tenth of them failing is not.
JOB_FAILURE_RATIO = 0.1
RESTARTS_PER_HALF_HOUR = 3
# Free space left on a data volume: time to plan a resize, then time to act now.
VOLUME_FREE_WARNING = 0.15
VOLUME_FREE_CRITICAL = 0.05
_VOLUME_LEVELS: tuple[tuple[str, Severity, float, str], ...] = (
    ("VolumeAlmostFull", "warning", VOLUME_FREE_WARNING, "15m"),
    ("VolumeFull", "critical", VOLUME_FREE_CRITICAL, "5m"),
)

# The web Deployment/Service name (``WebApp``'s default) and so the scrape job.
WEB_WORKLOAD = identity.WEB[0]
WEB_PODS = f"app.kubernetes.io/name={identity.WEB[0]},app.kubernetes.io/component={identity.WEB[1]}"
GROW_PATCH = json.dumps({"spec": {"resources": {"requests": {"storage": "<size>"}}}}, separators=(",", ":"))


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


def _steps(*steps: str) -> str:
    return "\n".join(f"{i}. {step}" for i, step in enumerate(steps, start=1)) + "\n"


def _rollback(ns: str) -> str:
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
        runbook=_steps(
            f"`kubectl -n {ns} get pods -l {WEB_PODS}` — look for restarts or unready pods",
            f"`kubectl -n {ns} logs deployment/{WEB_WORKLOAD} --since=15m | grep -i error`, and check Sentry",
            f"`kubectl -n {ns} rollout history deployment/{WEB_WORKLOAD}` — did a release just go out?",
            _rollback(ns),
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
        runbook=_steps(
            f"`kubectl -n {ns} get hpa {WEB_WORKLOAD}` — is the web tier already at max replicas?",
            f"`kubectl -n {ns} top pods -l {WEB_PODS}` — CPU near the limit means throttling",
            "Check the Database pool dashboard: waiting requests mean the pool or postgres is the bottleneck",
            "Check the Redis cache dashboard: a falling hit rate sends more reads to postgres",
            _rollback(ns),
        ),
    )
    return AlertGroup("vibeyard-web", (errors, latency))


def _queue_owners(obs: Observed) -> str:
    return "; ".join(f"{q} → deployment/{deployment}" for q, deployment in obs.queue_owners)


def queue_alerts(obs: Observed) -> AlertGroup:
    ns, mon = obs.namespace, obs.monitoring
    m = mon.metrics
    queues = Scope(ns)
    owners = _queue_owners(obs)
    worker_logs = f"`kubectl -n {ns} logs deployment/vibeyard-worker-<pool> --since=30m` (queues: {owners})"
    # Queue depth is read from Redis, so every exporting pod reports the same
    # number: ``max`` (not ``sum``) keeps it independent of the replica count.
    depth = Alert(
        name="VibeyardQueueBacklog",
        expr=f"{promql.aggregate('max', queues.series(m.queue_waiting), ('queue',))} "
        f"> {mon.queue_depth_threshold}",
        for_="15m",
        severity="warning",
        summary=f"BullMQ queue {{{{ $labels.queue }}}} ({obs.name}) has over {mon.queue_depth_threshold} "
        "waiting jobs",
        description=f"{{{{ $value }}}} jobs are waiting in queue {{{{ $labels.queue }}}} in namespace {ns}; "
        "workers are not keeping up.",
        runbook=_steps(
            f"`kubectl -n {ns} get deploy,scaledobject,hpa -l app.kubernetes.io/component=worker` — "
            "are the workers at their max replicas, or not running?",
            worker_logs + " — stuck or slow jobs?",
            f"`kubectl -n {ns} describe resourcequota` — the quota may be blocking new worker pods",
            "If the workers are healthy but saturated, raise the pool's max_replicas "
            "(and the quota) in config",
        ),
    )
    failed = promql.sum_rate(queues, m.queue_failed_total, SLOW_WINDOW, labels=("queue",))
    completed = promql.sum_rate(queues, m.queue_completed_total, SLOW_WINDOW, labels=("queue",))
    failures = Alert(
        name="VibeyardJobFailures",
        expr=f"{failed} / ({failed} + {completed}) > {JOB_FAILURE_RATIO}",
        for_="15m",
        severity="warning",
        summary=f"BullMQ queue {{{{ $labels.queue }}}} ({obs.name}) is failing more than "
        f"{JOB_FAILURE_RATIO:.0%} of its jobs",
        description="{{ $value | humanizePercentage }} of jobs finished in queue {{ $labels.queue }} in "
        f"namespace {ns} over the last {SLOW_WINDOW} failed (after retries).",
        runbook=_steps(
            worker_logs + " — the failure reason is logged per job",
            "Check Sentry for the worker's exceptions; a new error after a release points at the release",
            f"`kubectl -n {ns} rollout undo deployment/vibeyard-worker-<pool>` if a worker release caused it",
            "If jobs fail on Redis or postgres timeouts, check those stores before retrying jobs",
        ),
    )
    return AlertGroup("vibeyard-queues", (depth, failures))


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
        runbook=_steps(
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
        runbook=_steps(
            previous_logs,
            inspect_pod,
            f"`kubectl -n {ns} get events --sort-by=.lastTimestamp | tail -30`",
            "Missing secret keys or a failed migration stop the app at boot: "
            f"`kubectl -n {ns} get jobs,secrets`",
            _rollback(ns),
        ),
    )
    series = pods.series
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
        runbook=_steps(
            f"`kubectl -n {ns} describe hpa {{{{ $labels.horizontalpodautoscaler }}}}` — "
            "which metric drives it?",
            f"`kubectl -n {ns} top pods` — real load, or a hot loop in one release?",
            "If the load is real, raise max_replicas in config "
            "(KEDA-managed HPAs are named keda-hpa-<worker>) "
            f"and check the quota headroom: `kubectl -n {ns} describe resourcequota`",
        ),
    )
    return AlertGroup("vibeyard-pods", (restarts, crashloop, at_max))


def _volume_alerts(obs: Observed, store: str, free_up: str) -> tuple[Alert, ...]:
    ns = obs.namespace
    vols = Scope(ns)
    # StatefulSet claims are named ``<template>-<statefulset>-<ordinal>``.
    claim = regex("persistentvolumeclaim", f".+-{store}-[0-9]+")
    free = (
        f"{vols.series('kubelet_volume_stats_available_bytes', claim)} "
        f"/ {vols.series('kubelet_volume_stats_capacity_bytes', claim)}"
    )
    runbook = _steps(
        f"`kubectl -n {ns} exec statefulset/{store} -- df -h` — confirm what is using the space",
        free_up,
        f"Grow the volume: `kubectl -n {ns} patch pvc {{{{ $labels.persistentvolumeclaim }}}} "
        f"-p '{GROW_PATCH}'` (needs a StorageClass with allowVolumeExpansion), "
        f"then raise {store}.storage_size in config to match",
    )
    title = store.capitalize()
    return tuple(
        Alert(
            name=f"Vibeyard{title}{suffix}",
            expr=f"{free} < {threshold}",
            for_=for_,
            severity=severity,
            summary=f"{title} volume {{{{ $labels.persistentvolumeclaim }}}} ({obs.name}) has less than "
            f"{threshold:.0%} free",
            description=f"Only {{{{ $value | humanizePercentage }}}} of the {store} volume in namespace {ns} "
            f"is free; {store} stops accepting writes when it is full.",
            runbook=runbook,
        )
        for suffix, severity, threshold, for_ in _VOLUME_LEVELS
    )


def storage_alerts(obs: Observed) -> AlertGroup | None:
    """Volume alerts for the stores this environment runs itself; managed ones
    are watched by their provider."""
    free_up = {
        identity.POSTGRES[
            0
        ]: "Look for WAL piling up behind a stuck replication slot or archive, and for bloat "
        "(`VACUUM` / dropping unused data)",
        identity.REDIS[
            0
        ]: f"`kubectl -n {obs.namespace} exec -it statefulset/{identity.REDIS[0]} -- redis-cli`, "
        "`AUTH <password>`, `INFO persistence` — an oversized AOF needs a BGREWRITEAOF; "
        "a growing dataset needs more room",
    }
    alerts = [alert for store in obs.volumes for alert in _volume_alerts(obs, store, free_up[store])]
    return AlertGroup("vibeyard-storage", tuple(alerts)) if alerts else None


def alert_groups(obs: Observed) -> tuple[AlertGroup, ...]:
    groups = [web_alerts(obs), queue_alerts(obs), pod_alerts(obs)]
    storage = storage_alerts(obs)
    if storage is not None:
        groups.append(storage)
    return tuple(groups)
