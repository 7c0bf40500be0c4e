"""Grafana dashboards for the design doc's list, generated from typed Python.

Generated, not pasted: every query is built from the metrics real software
emits (the app's HTTP metrics as named in ``MonitoringConfig.metrics``, BullMQ's
job counts, the store exporters') and scoped to the environment's namespace, so
renaming a metric in the app updates alerts and dashboards together. The model
and its JSON rendering are in ``grafana.py``.
"""

from __future__ import annotations

from .. import identity
from . import promql
from .alert_rules import WEB_WORKLOAD
from .grafana import RATE, Dashboard, Panel, Target
from .promql import Scope, eq, ne
from .store_alerts import JOB_COUNT, backlog
from .subject import Observed


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
    mon = obs.monitoring
    ns = Scope(obs.namespace)
    jobs = ns.series(JOB_COUNT)
    return Dashboard(
        slug="queues",
        title="Job queues",
        tags=("bullmq",),
        panels=(
            Panel(
                title="Waiting jobs per queue",
                description="Jobs waiting for a worker (waiting and prioritized); the line is the backlog "
                "alert threshold.",
                alert_threshold=mon.queue_depth_threshold,
                min=0,
                targets=(Target(backlog(ns), "{{queue}}"),),
            ),
            Panel(
                title="Jobs per queue and state",
                description="BullMQ's job counts: active jobs are in flight on a worker, delayed ones wait "
                "for their time; every worker pod reports the same numbers.",
                min=0,
                targets=(Target(promql.aggregate("max", jobs, ("queue", "state")), "{{queue}} {{state}}"),),
            ),
            Panel(
                title="Failed jobs per queue",
                description="Jobs that failed after their retries, kept for inspection (removeOnFail); "
                "a rising line is new failures.",
                min=0,
                targets=(
                    Target(
                        promql.aggregate("max", ns.series(JOB_COUNT, eq("state", "failed")), ("queue",)),
                        "{{queue}}",
                    ),
                ),
            ),
        ),
    )


def database_dashboard(obs: Observed) -> Dashboard:
    ns = obs.namespace
    panels: list[Panel] = []
    if identity.PGBOUNCER[0] in obs.exporters:
        pools = Scope(ns, identity.PGBOUNCER[0])
        app_pools = ne("database", identity.PGBOUNCER[0])

        def pool(metric: str) -> str:
            return promql.aggregate("sum", pools.series(metric, app_pools), ("database",))

        panels += [
            Panel(
                title="Connection pool (active / idle / waiting)",
                description="PgBouncer's pools summed over its replicas: clients served, server connections "
                "idle, and clients waiting for one (the pool is exhausted).",
                min=0,
                alert_threshold=obs.monitoring.pool_waiting_clients_threshold or None,
                targets=(
                    Target(pool("pgbouncer_pools_client_active_connections"), "clients active {{database}}"),
                    Target(pool("pgbouncer_pools_server_idle_connections"), "servers idle {{database}}"),
                    Target(
                        pool("pgbouncer_pools_client_waiting_connections"), "clients waiting {{database}}"
                    ),
                ),
            ),
            Panel(
                title="Longest client wait",
                description="How long the longest-waiting client has waited for a server connection.",
                unit="s",
                min=0,
                targets=(
                    Target(
                        promql.aggregate(
                            "max", pools.series("pgbouncer_pools_client_maxwait_seconds", app_pools)
                        ),
                        "max wait",
                    ),
                ),
            ),
        ]
    if identity.POSTGRES[0] in obs.exporters:
        pg = Scope(ns, identity.POSTGRES[0])
        panels.append(
            Panel(
                title="PostgreSQL connections",
                description="Backends in use against max_connections.",
                min=0,
                targets=(
                    Target(promql.aggregate("sum", pg.series("pg_stat_database_numbackends")), "in use"),
                    Target(
                        promql.aggregate("max", pg.series("pg_settings_max_connections")), "max_connections"
                    ),
                ),
            )
        )
    return Dashboard(slug="database", title="Database pool", tags=("postgres",), panels=tuple(panels))


def cache_dashboard(obs: Observed) -> Dashboard:
    cache = Scope(obs.namespace, identity.CACHE[0])
    hits, misses = "redis_keyspace_hits_total", "redis_keyspace_misses_total"
    return Dashboard(
        slug="cache",
        title="Redis cache",
        tags=("redis",),
        panels=(
            Panel(
                title="Redis cache hit rate",
                description="hits / (hits + misses) of the cache Redis; a drop sends more reads to postgres.",
                unit="percentunit",
                min=0,
                max=1,
                targets=(Target(promql.hit_ratio(cache, hits, misses, RATE), "hit rate"),),
            ),
            Panel(
                title="Cache memory and evictions",
                description="Memory used against maxmemory; evictions per second show the LRU at work.",
                unit="bytes",
                min=0,
                targets=(
                    Target(promql.aggregate("max", cache.series("redis_memory_used_bytes")), "used"),
                    Target(promql.aggregate("max", cache.series("redis_memory_max_bytes")), "maxmemory"),
                ),
            ),
            Panel(
                title="Evicted keys",
                description="Keys the cache evicted per second.",
                unit="ops",
                targets=(Target(promql.sum_rate(cache, "redis_evicted_keys_total", RATE), "evictions"),),
            ),
        ),
    )


def dashboards(obs: Observed) -> tuple[Dashboard, ...]:
    """The queue dashboard always; the database and cache ones where their exporters run."""
    boards = [http_dashboard(obs), queue_dashboard(obs)]
    if database_dashboard(obs).panels:
        boards.append(database_dashboard(obs))
    if identity.CACHE[0] in obs.exporters:
        boards.append(cache_dashboard(obs))
    return tuple(boards)


def rendered(obs: Observed) -> dict[str, str]:
    """Dashboard JSON by slug, as the ConfigMaps carry it."""
    return {d.slug: d.render(obs) for d in dashboards(obs)}
