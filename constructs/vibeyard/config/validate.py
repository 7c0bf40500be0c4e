"""Config validation, run before any construct exists.

Why here and not in the constructs: a bad value must fail as one readable line
naming the environment, the field, the value and what is allowed. Once jsii is
involved a mistake surfaces as a JavaScript stack trace, or worse, as YAML that
only the API server, a controller or kubectl rejects at deploy time. So every
value that one of them would refuse later is refused here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from urllib.parse import urlsplit

from .base import ConfigError, check_types
from .checks import (
    ENV_NAME,
    HOSTNAME,
    NAMESPACE_MAX,
    NGINX_SIZE,
    QUEUE,
    SQL_NAME,
    Checker,
    matches,
)
from .quantity import CPU_ALLOWED, MEMORY_ALLOWED, cpu_millis, memory_bytes
from .sizing import namespace_peak
from .topology import Topology
from .types import EnvConfig

__all__ = ["ConfigError", "validate", "validate_together"]

# Variables the app's pods get from us; ``extra_env`` may not shadow them.
RESERVED_ENV = frozenset(
    {"APP_ENV", "HOSTNAME", "LOG_LEVEL", "NEXTAUTH_URL", "NODE_ENV", "PORT", "SENTRY_ENVIRONMENT"}
)


def validate(cfg: EnvConfig, env: str | None = None) -> None:
    """Raise ``ConfigError`` for the first mistake in ``cfg`` (registered as ``env``).

    Types first, for the whole tree, so the semantic checks below can rely on them.
    """
    c = Checker(env if env is not None else str(cfg.name))
    check_types(cfg, EnvConfig, "", c.fail)
    _identity(c, cfg)
    _web(c, cfg)
    _workers(c, cfg)
    _stores(c, cfg)
    _platform(c, cfg)
    _quota(c, cfg)


def validate_together(configs: Mapping[str, EnvConfig]) -> None:
    """What no single environment can check: two environments sharing a namespace
    would overwrite each other's objects and prune each other in Argo CD."""
    seen: dict[str, str] = {}
    for env, cfg in configs.items():
        other = seen.setdefault(cfg.namespace, env)
        if other != env:
            Checker(env).fail("namespace", cfg.namespace, f"a namespace of its own; {other} uses it already")


def _identity(c: Checker, cfg: EnvConfig) -> None:
    c.dns_label("name", cfg.name, max_len=20)
    c.dns_label("namespace", cfg.namespace, max_len=NAMESPACE_MAX)
    c.url("app_url", cfg.app_url, ("https", "http"))
    c.image("image", cfg.image)
    ing = cfg.ingress
    c.require(
        matches(HOSTNAME, ing.host),
        "ingress.host",
        ing.host,
        "a fully qualified DNS name in lowercase, like 'vibeyard.example.com'",
    )
    c.require(
        urlsplit(cfg.app_url).hostname == ing.host,
        "app_url",
        cfg.app_url,
        f"a URL on ingress.host ({ing.host}), the host the app is served on",
    )
    c.dns_label("ingress.tls_secret", ing.tls_secret, max_len=253)
    c.dns_label("ingress.cluster_issuer", ing.cluster_issuer, max_len=253)
    c.dns_label("ingress.class_name", ing.class_name, max_len=253)
    c.require(
        matches(NGINX_SIZE, ing.proxy_body_size),
        "ingress.proxy_body_size",
        ing.proxy_body_size,
        "an nginx size like '10m', '512k' or '1g'",
    )
    for i, name in enumerate(cfg.image_pull_secrets):
        c.dns_subdomain(f"image_pull_secrets[{i}]", name)
    for key in cfg.extra_env:
        c.require(
            matches(ENV_NAME, key) and key not in RESERVED_ENV,
            f"extra_env[{key}]",
            key,
            "a variable name of letters, digits and '_' that the chart does not set itself",
        )


def _web(c: Checker, cfg: EnvConfig) -> None:
    web = cfg.web
    c.int_range("web.replicas", web.replicas, 1)
    c.resources("web.resources", web.resources)
    c.autoscaling("web.autoscaling", web.autoscaling)
    c.int_range("web.disruption.max_unavailable", web.disruption.max_unavailable, 1)
    c.port("web.port", web.port)
    for field in ("health_path", "metrics_path"):
        path = getattr(web, field)
        c.require(path.startswith("/") and " " not in path, f"web.{field}", path, "a path starting with '/'")
    c.int_range("web.pre_stop_sleep_seconds", web.pre_stop_sleep_seconds, 0, 120)
    c.require(
        web.termination_grace_seconds > web.pre_stop_sleep_seconds,
        "web.termination_grace_seconds",
        web.termination_grace_seconds,
        f"more than web.pre_stop_sleep_seconds ({web.pre_stop_sleep_seconds}) so requests can drain",
    )
    c.placement("web.placement", web.placement)


def _workers(c: Checker, cfg: EnvConfig) -> None:
    spot = Topology.of(cfg).spot
    seen: set[str] = set()
    for i, pool in enumerate(cfg.workers):
        path = f"workers[{i}]"
        c.dns_label(f"{path}.name", pool.name, max_len=47)  # 'vibeyard-worker-' + name <= 63
        c.require(pool.name not in seen, f"{path}.name", pool.name, "a pool name used only once")
        seen.add(pool.name)
        c.require(
            len(pool.queues) > 0, f"{path}.queues", pool.queues, "a non-empty tuple of BullMQ queue names"
        )
        for q in pool.queues:
            c.require(
                matches(QUEUE, q), f"{path}.queues", q, "queue names of letters, digits, '_', '.' and '-'"
            )
        c.int_range(f"{path}.replicas", pool.replicas, 0)
        c.int_range(f"{path}.min_replicas", pool.min_replicas, 0)
        c.require(
            pool.max_replicas >= max(pool.min_replicas, 1),
            f"{path}.min_replicas",
            pool.min_replicas,
            f"at most {path}.max_replicas ({pool.max_replicas})",
        )
        c.int_range(f"{path}.concurrency", pool.concurrency, 1, 1000)
        c.int_range(f"{path}.longest_job_seconds", pool.longest_job_seconds, 1, 86400)
        c.int_range(f"{path}.queue_list_length", pool.queue_list_length, 1)
        c.int_range(
            f"{path}.scale_down_stabilization_seconds", pool.scale_down_stabilization_seconds, 0, 3600
        )
        c.int_range(f"{path}.scale_down_max_percent", pool.scale_down_max_percent, 1, 100)
        c.int_range(f"{path}.scale_down_period_seconds", pool.scale_down_period_seconds, 1, 1800)
        c.require(len(pool.command) > 0, f"{path}.command", pool.command, "a non-empty exec-form command")
        c.require(
            pool.command[0] not in ("sh", "/bin/sh", "bash", "/bin/bash"),
            f"{path}.command",
            pool.command,
            "an exec-form command without a shell wrapper, so SIGTERM reaches the worker",
        )
        c.resources(f"{path}.resources", pool.resources)
        if pool.metrics_port is not None:
            c.port(f"{path}.metrics_port", pool.metrics_port)
        if pool.placement is not None:
            c.placement(f"{path}.placement", pool.placement)
            c.require(
                not pool.placement.prefer_spot
                or pool.interruptible
                or pool.longest_job_seconds <= spot.reclaim_notice_seconds,
                f"{path}.placement.prefer_spot",
                True,
                f"False, or {path}.interruptible=True: its jobs ({pool.longest_job_seconds}s) outlast "
                f"{cfg.cluster.provider}'s {spot.reclaim_notice_seconds}s spot reclaim notice",
            )


def _stores(c: Checker, cfg: EnvConfig) -> None:
    pg, redis, bouncer, cache = cfg.postgres, cfg.redis, cfg.pgbouncer, cfg.cache
    for field in ("user", "database"):
        c.require(
            matches(SQL_NAME, getattr(pg, field)),
            f"postgres.{field}",
            getattr(pg, field),
            "a lowercase PostgreSQL name of letters, digits and '_'",
        )
    c.port("postgres.port", pg.port)
    if pg.mode == "in-cluster":
        c.image("postgres.image", pg.image)
        c.storage("postgres.storage_size", pg.storage_size)
        c.storage("postgres.shm_size", pg.shm_size)
        c.resources("postgres.resources", pg.resources)
        c.int_range("postgres.uid", pg.uid, 1)
        c.int_range("postgres.shutdown_timeout_seconds", pg.shutdown_timeout_seconds, 5, 3600)
        c.int_range(
            "postgres.termination_grace_seconds",
            pg.termination_grace_seconds,
            pg.shutdown_timeout_seconds + 10,
        )
        if pg.storage_class is not None:
            c.dns_subdomain("postgres.storage_class", pg.storage_class)
    elif bouncer.enabled:
        c.require(
            pg.host is not None and matches(HOSTNAME, pg.host),
            "postgres.host",
            pg.host,
            "the managed database's DNS name, which PgBouncer connects to",
        )
    if pg.mode == "managed":
        c.require(
            len(cfg.network.managed_egress) > 0 or cfg.name == "dev",
            "network.managed_egress",
            cfg.network.managed_egress,
            "at least one CIDR and port for the managed database when postgres.mode is 'managed'",
        )
    if redis.mode == "in-cluster":
        c.image("redis.image", redis.image)
        c.storage("redis.storage_size", redis.storage_size)
        c.resources("redis.resources", redis.resources)
        c.port("redis.port", redis.port)
        # The rest of the limit is headroom for the AOF rewrite's fork and client buffers.
        c.int_range("redis.maxmemory_percent", redis.maxmemory_percent, 10, 60)
        c.int_range("redis.uid", redis.uid, 1)
        c.int_range("redis.termination_grace_seconds", redis.termination_grace_seconds, 10)
        c.require(
            0 < redis.memory_alert_ratio < 1,
            "redis.memory_alert_ratio",
            redis.memory_alert_ratio,
            "a fraction between 0 and 1",
        )
        if redis.storage_class is not None:
            c.dns_subdomain("redis.storage_class", redis.storage_class)
        c.resources("cache.resources", cache.resources)
        c.int_range("cache.maxmemory_percent", cache.maxmemory_percent, 10, 90)
        c.port("cache.port", cache.port)
    if bouncer.enabled:
        c.image("pgbouncer.image", bouncer.image)
        c.int_range("pgbouncer.replicas", bouncer.replicas, 1)
        c.port("pgbouncer.port", bouncer.port)
        c.resources("pgbouncer.resources", bouncer.resources)
        c.int_range("pgbouncer.uid", bouncer.uid, 1)
        c.int_range("pgbouncer.termination_grace_seconds", bouncer.termination_grace_seconds, 15, 600)
        c.int_range("pgbouncer.default_pool_size", bouncer.default_pool_size, 1)
        c.require(
            bouncer.max_client_conn >= bouncer.default_pool_size,
            "pgbouncer.max_client_conn",
            bouncer.max_client_conn,
            f"at least pgbouncer.default_pool_size ({bouncer.default_pool_size})",
        )
    sec = cfg.secrets
    c.dns_subdomain("secrets.name", sec.name)
    c.duration("secrets.refresh_interval", sec.refresh_interval)
    if sec.provider == "sealed":
        c.require(
            bool(sec.sealed_file),
            "secrets.sealed_file",
            sec.sealed_file,
            "a path to kubeseal output when provider is 'sealed'",
        )
    if sec.provider == "external":
        c.dns_subdomain("secrets.external_store", sec.external_store)


def _platform(c: Checker, cfg: EnvConfig) -> None:
    cluster = cfg.cluster
    c.dns_subdomain("cluster.cluster_domain", cluster.cluster_domain)
    dns = cluster.dns
    c.dns_label("cluster.dns.namespace", dns.namespace)
    c.labels("cluster.dns.pod_labels", dns.pod_labels)
    c.cidrs("cluster.dns.addresses", dns.addresses)
    if dns.mode == "addresses":
        c.require(
            len(dns.addresses) > 0,
            "cluster.dns.addresses",
            dns.addresses,
            "the resolvers' CIDRs in mode 'addresses'",
        )

    net = cfg.network
    c.dns_label("network.ingress_namespace", net.ingress_namespace)
    c.labels("network.ingress_pod_labels", net.ingress_pod_labels)
    c.dns_label("network.monitoring_namespace", net.monitoring_namespace)
    c.cidrs("network.https_except", net.https_except)
    c.cidrs("network.managed_egress", (e.cidr for e in net.managed_egress))
    for i, egress in enumerate(net.managed_egress):
        c.port(f"network.managed_egress[{i}].port", egress.port)

    keda = cfg.keda
    c.int_range("keda.polling_interval_seconds", keda.polling_interval_seconds, 1, 3600)
    c.int_range("keda.cooldown_period_seconds", keda.cooldown_period_seconds, 0, 86400)
    c.dns_label("keda.namespace", keda.namespace)
    c.labels("keda.operator_labels", keda.operator_labels)

    mon = cfg.monitoring
    c.duration("monitoring.scrape_interval", mon.scrape_interval)
    c.label_value("monitoring.prometheus_release", mon.prometheus_release)
    for field in ("error_rate_threshold",):
        value = getattr(mon, field)
        c.require(0 < value < 1, f"monitoring.{field}", value, "a fraction between 0 and 1")
    c.require(
        mon.latency_p95_seconds > 0,
        "monitoring.latency_p95_seconds",
        mon.latency_p95_seconds,
        "a positive number",
    )
    c.int_range("monitoring.queue_depth_threshold", mon.queue_depth_threshold, 1)
    c.int_range("monitoring.failed_jobs_threshold", mon.failed_jobs_threshold, 1)
    c.int_range("monitoring.pool_waiting_clients_threshold", mon.pool_waiting_clients_threshold, 0)
    if mon.enabled:
        for field in ("redis", "postgres", "pgbouncer"):
            c.image(f"monitoring.exporters.{field}", getattr(mon.exporters, field))
        c.resources("monitoring.exporters.resources", mon.exporters.resources)

    mig = cfg.migration
    c.require(len(mig.command) > 0, "migration.command", mig.command, "a non-empty exec-form command")
    c.int_range("migration.backoff_limit", mig.backoff_limit, 0, 10)
    c.int_range("migration.active_deadline_seconds", mig.active_deadline_seconds, 1)
    c.int_range("migration.ttl_seconds_after_finished", mig.ttl_seconds_after_finished, 0)

    git = cfg.gitops
    if git is not None:
        c.url("gitops.repo_url", git.repo_url, ("https", "ssh"))
        c.dns_label("gitops.argocd_namespace", git.argocd_namespace)
        c.dns_label("gitops.project", git.project)
        c.require(
            len(git.destinations) > 0,
            "gitops.destinations",
            git.destinations,
            "at least one destination cluster",
        )
        names: set[str] = set()
        for i, dest in enumerate(git.destinations):
            c.dns_label(f"gitops.destinations[{i}].name", dest.name)
            c.require(
                dest.name not in names, f"gitops.destinations[{i}].name", dest.name, "a cluster named once"
            )
            names.add(dest.name)
            c.url(f"gitops.destinations[{i}].server", dest.server)


def _quota(c: Checker, cfg: EnvConfig) -> None:
    q = cfg.quota
    for path, value, parse, allowed in (
        ("quota.cpu_requests", q.cpu_requests, cpu_millis, CPU_ALLOWED),
        ("quota.memory_requests", q.memory_requests, memory_bytes, MEMORY_ALLOWED),
        ("quota.memory_limits", q.memory_limits, memory_bytes, MEMORY_ALLOWED),
        ("quota.storage", q.storage, memory_bytes, MEMORY_ALLOWED),
    ):
        c.require(parse(value) is not None, path, value, allowed)
    c.int_range("quota.pods", q.pods, 1)
    c.int_range("quota.pvcs", q.pvcs, 0)
    peak = namespace_peak(Topology.of(cfg))
    for path, have, need, unit in (
        ("quota.cpu_requests", cpu_millis(q.cpu_requests), peak.cpu_requests_millis, "m"),
        ("quota.memory_requests", memory_bytes(q.memory_requests), peak.memory_requests_bytes, "Mi"),
        ("quota.memory_limits", memory_bytes(q.memory_limits), peak.memory_limits_bytes, "Mi"),
        ("quota.pods", q.pods, peak.pods, ""),
        ("quota.storage", memory_bytes(q.storage), peak.storage_bytes, "Mi"),
    ):
        assert have is not None
        shown = need if unit in ("", "m") else math.ceil(need / 1024**2)
        c.require(
            have >= need,
            path,
            getattr(q, path.split(".")[1]),
            f"at least {shown}{unit}, the peak of every workload at its maximum during a rollout",
        )
