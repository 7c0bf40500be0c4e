"""Alerts on the job queues and the data stores, from the metrics their software emits.

- Queues: BullMQ's ``exportPrometheusMetrics()`` (served by every worker pod on
  ``/metrics``) gives ``bullmq_job_count{queue,state}``, a gauge read from Redis;
  every pod of a pool reports the same numbers, so queries take the ``max`` over
  pods, never the ``sum``.
- Redis, PostgreSQL and PgBouncer: the exporter sidecars' series, whose ``job``
  label is the store's Service name (the Prometheus Operator sets it).
- Volumes: the kubelet's ``kubelet_volume_stats_*``.

A store's alerts exist only where the environment runs that store itself; a
managed one is watched by its provider.
"""

from __future__ import annotations

import json

from .. import identity
from .alert_rules import SLOW_WINDOW, Alert, AlertGroup, Severity, steps
from .promql import Scope, eq, ne, regex
from .subject import Observed

# Free space left on a data volume: time to plan a resize, then time to act now.
_VOLUME_LEVELS: tuple[tuple[str, Severity, float, str], ...] = (
    ("VolumeAlmostFull", "warning", 0.15, "15m"),
    ("VolumeFull", "critical", 0.05, "5m"),
)
GROW_PATCH = json.dumps({"spec": {"resources": {"requests": {"storage": "<size>"}}}}, separators=(",", ":"))
JOB_COUNT = "bullmq_job_count"
BACKLOG_STATES = "waiting|prioritized"
# Share of PostgreSQL's max_connections in use that leaves too little room.
CONNECTIONS_RATIO = 0.8


def backlog(ns: Scope) -> str:
    """Jobs waiting for a worker per queue: waiting plus prioritized, as one pod reports them."""
    per_pod = f"sum by (queue, pod) ({ns.series(JOB_COUNT, regex('state', BACKLOG_STATES))})"
    return f"max by (queue) ({per_pod})"


def queue_alerts(obs: Observed) -> AlertGroup:
    ns, mon = obs.namespace, obs.monitoring
    queues = Scope(ns)
    owners = "; ".join(f"{q} → deployment/{d}" for q, d in obs.queue_owners)
    worker_logs = f"`kubectl -n {ns} logs deployment/vibeyard-worker-<pool> --since=30m` (queues: {owners})"
    depth = Alert(
        name="VibeyardQueueBacklog",
        expr=f"{backlog(queues)} > {mon.queue_depth_threshold}",
        for_="15m",
        severity="warning",
        summary=f"BullMQ queue {{{{ $labels.queue }}}} ({obs.name}) has over {mon.queue_depth_threshold} "
        "waiting jobs",
        description=f"{{{{ $value }}}} jobs are waiting in queue {{{{ $labels.queue }}}} in namespace {ns}; "
        "workers are not keeping up.",
        runbook=steps(
            f"`kubectl -n {ns} get deploy,scaledobject,hpa -l app.kubernetes.io/component=worker` — "
            "are the workers at their max replicas, or not running?",
            worker_logs + " — stuck or slow jobs?",
            f"`kubectl -n {ns} describe resourcequota` — the quota may be blocking new worker pods",
            "If the workers are healthy but saturated, raise the pool's max_replicas "
            "(and the quota) in config",
        ),
    )
    # Failed jobs are kept for a while (removeOnFail, docs/app-contract.yaml), so the
    # growth of the failed set over the window counts the new failures.
    failed = f"max by (queue) (delta({queues.series(JOB_COUNT, eq('state', 'failed'))}[{SLOW_WINDOW}]))"
    failures = Alert(
        name="VibeyardJobFailures",
        expr=f"{failed} > {mon.failed_jobs_threshold}",
        for_="5m",
        severity="warning",
        summary=f"BullMQ queue {{{{ $labels.queue }}}} ({obs.name}) failed more than "
        f"{mon.failed_jobs_threshold} jobs in {SLOW_WINDOW}",
        description=f"{{{{ $value }}}} jobs of queue {{{{ $labels.queue }}}} in namespace {ns} failed after "
        f"their retries over the last {SLOW_WINDOW}.",
        runbook=steps(
            worker_logs + " — the failure reason is logged per job",
            "Check Sentry for the worker's exceptions; a new error after a release points at the release",
            f"`kubectl -n {ns} rollout undo deployment/vibeyard-worker-<pool>` if a worker release caused it",
            "If jobs fail on Redis or postgres timeouts, check those stores before retrying jobs",
        ),
    )
    return AlertGroup("vibeyard-queues", (depth, failures))


def _down(obs: Observed, name: str, metric: str, what: str, first_step: str) -> Alert:
    """Down when the exporter says so, and when no pod reports at all: the exporter is a
    sidecar, so a Pending, evicted or stuck pod takes the series away with it."""
    ns = obs.namespace
    series = Scope(ns, what).series(metric)
    return Alert(
        name=f"Vibeyard{name}Down",
        expr=f"max({series}) == 0 or absent({series})",
        for_="2m",
        severity="critical",
        summary=f"{name} ({obs.name}) is down or not running",
        description=f"The {what} exporter in namespace {ns} cannot reach its server, or no {what} pod "
        "is running and reporting (Pending, evicted, crash-looping or deleted).",
        runbook=steps(
            f"`kubectl -n {ns} get pods -l app.kubernetes.io/name={what}` — running and ready? "
            f"If none: `kubectl -n {ns} describe pod -l app.kubernetes.io/name={what}` and "
            f"`kubectl -n {ns} get events --sort-by=.lastTimestamp | tail -20` (scheduling, quota, volume)",
            first_step,
            f"`kubectl -n {ns} logs -l app.kubernetes.io/name={what} -c exporter --tail=50` "
            "— the exporter's error",
        ),
    )


def _redis(obs: Observed) -> list[Alert]:
    ns, name = obs.namespace, identity.REDIS[0]
    scope = Scope(ns, name)
    used = f"max({scope.series('redis_memory_used_bytes')})"
    limit = f"max({scope.series('redis_memory_max_bytes')})"
    memory = Alert(
        name="VibeyardQueueRedisMemoryHigh",
        expr=f"{used} / {limit} > {obs.redis_memory_ratio}",
        for_="10m",
        severity="critical",
        summary=f"The queue Redis ({obs.name}) has used over {obs.redis_memory_ratio:.0%} of maxmemory",
        description=f"Redis in namespace {ns} is at {{{{ $value | humanizePercentage }}}} of maxmemory. "
        "It never "
        "evicts (noeviction): when full, every enqueue fails.",
        runbook=steps(
            f"`kubectl -n {ns} exec statefulset/{name} -c {name} -- sh -c 'redis-cli --no-auth-warning "
            "--bigkeys'` — which keys grow?",
            "Completed and failed jobs kept too long "
            "(removeOnComplete / removeOnFail, docs/app-contract.yaml) "
            "are the usual cause; a queue with no consumer is the other",
            "Raise redis.resources.memory_limit in config (maxmemory follows it) and release",
        ),
    )
    return [
        _down(
            obs,
            "QueueRedis",
            "redis_up",
            name,
            f"`kubectl -n {ns} logs statefulset/{name} -c {name} --tail=50`",
        ),
        memory,
    ]


def _postgres(obs: Observed) -> list[Alert]:
    ns, name = obs.namespace, identity.POSTGRES[0]
    scope = Scope(ns, name)
    in_use = f"sum({scope.series('pg_stat_database_numbackends')})"
    limit = f"max({scope.series('pg_settings_max_connections')})"
    connections = Alert(
        name="VibeyardPostgresConnectionsHigh",
        expr=f"{in_use} / {limit} > {CONNECTIONS_RATIO}",
        for_="10m",
        severity="warning",
        summary=f"PostgreSQL ({obs.name}) uses over {CONNECTIONS_RATIO:.0%} of max_connections",
        description=f"{{{{ $value | humanizePercentage }}}} of max_connections are in use in namespace {ns}; "
        "new connections will be refused.",
        runbook=steps(
            f'`kubectl -n {ns} exec statefulset/{name} -c {name} -- psql -U "$POSTGRES_USER" -c '
            "'select usename, application_name, state, count(*) from pg_stat_activity group by 1,2,3'`",
            "Connections from the app should come through PgBouncer; lower pgbouncer.default_pool_size or "
            "raise max_connections",
        ),
    )
    return [
        _down(
            obs, "Postgres", "pg_up", name, f"`kubectl -n {ns} logs statefulset/{name} -c {name} --tail=50`"
        ),
        connections,
    ]


def _pgbouncer(obs: Observed) -> list[Alert]:
    ns, name, mon = obs.namespace, identity.PGBOUNCER[0], obs.monitoring
    # PgBouncer's own admin console shows up as a pool named ``pgbouncer``.
    waiting = (
        f"sum({Scope(ns, name).series('pgbouncer_pools_client_waiting_connections', ne('database', name))})"
    )
    clients = Alert(
        name="VibeyardPgBouncerClientsWaiting",
        expr=f"{waiting} > {mon.pool_waiting_clients_threshold}",
        for_="5m",
        severity="warning",
        summary=f"Clients wait for a database connection in PgBouncer ({obs.name})",
        description=f"{{{{ $value }}}} clients have been waiting for a server connection for 5m in namespace "
        f"{ns}: the pool is exhausted.",
        runbook=steps(
            f"`kubectl -n {ns} get hpa,scaledobject` — more app replicas bring more clients to the pool",
            "Check the Database pool dashboard: are all server connections active (slow queries) or is the "
            "pool small for the replica count?",
            "Slow queries: find them in the database (pg_stat_activity); a small pool: raise "
            "pgbouncer.default_pool_size within the database's max_connections",
        ),
    )
    return [
        _down(
            obs,
            "PgBouncer",
            "pgbouncer_up",
            name,
            f"`kubectl -n {ns} logs deployment/{name} -c {name} --tail=50`",
        ),
        clients,
    ]


def _volumes(obs: Observed, store: str, free_up: str) -> list[Alert]:
    ns = obs.namespace
    vols = Scope(ns)
    # StatefulSet claims are named ``<template>-<statefulset>-<ordinal>``.
    claim = regex("persistentvolumeclaim", f".+-{store}-[0-9]+")
    free = (
        f"{vols.series('kubelet_volume_stats_available_bytes', claim)} "
        f"/ {vols.series('kubelet_volume_stats_capacity_bytes', claim)}"
    )
    runbook = steps(
        f"`kubectl -n {ns} exec statefulset/{store} -- df -h` — confirm what is using the space",
        free_up,
        f"Grow the volume: `kubectl -n {ns} patch pvc {{{{ $labels.persistentvolumeclaim }}}} "
        f"-p '{GROW_PATCH}'` (needs a StorageClass with allowVolumeExpansion). Leave "
        f"{store}.storage_size in config as it is: a StatefulSet's volumeClaimTemplates cannot "
        "change, and a changed size would stop every later sync (docs/operations.md, "
        "'Resizing a data volume')",
    )
    title = store.capitalize()
    return [
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
    ]


def store_alerts(obs: Observed) -> list[AlertGroup]:
    ns = obs.namespace
    free_up = {
        identity.POSTGRES[
            0
        ]: "Look for WAL piling up behind a stuck replication slot or archive, and for bloat "
        "(`VACUUM` / dropping unused data)",
        identity.REDIS[0]: f"`kubectl -n {ns} exec -it statefulset/{identity.REDIS[0]} -- redis-cli`, "
        "`INFO persistence` — an oversized AOF needs a BGREWRITEAOF; a growing dataset needs more room",
    }
    by_store = {
        identity.REDIS[0]: _redis,
        identity.POSTGRES[0]: _postgres,
        identity.PGBOUNCER[0]: _pgbouncer,
    }
    scraped = [alert for store in obs.exporters if store in by_store for alert in by_store[store](obs)]
    volumes = [alert for store in obs.volumes for alert in _volumes(obs, store, free_up[store])]
    return [AlertGroup("vibeyard-stores", tuple(scraped)), AlertGroup("vibeyard-storage", tuple(volumes))]
