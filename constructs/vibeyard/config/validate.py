"""Config validation, run before any construct exists.

Why here and not in the constructs: a bad value must fail as one readable line
naming the environment, the field, the value and what is allowed. Once jsii is
involved a mistake surfaces as a JavaScript stack trace, or worse, as YAML that
only the API server rejects.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from .base import ConfigError, check_types
from .quantity import CPU_ALLOWED, MEMORY_ALLOWED, cpu_millis, memory_bytes
from .sizing import namespace_peak
from .topology import Topology
from .types import Autoscaling, EnvConfig, Image, Placement, Resources

__all__ = ["ConfigError", "validate"]

# Every pattern is applied with ``fullmatch`` through ``_matches``: ``re.match`` with
# ``$`` would accept a trailing newline ("prod\n"), and a non-string must fail as a
# config error, not as a ``TypeError`` traceback.
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
HOSTNAME = re.compile(
    r"(?=.{1,253}\Z)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+"
)
REPOSITORY = re.compile(
    r"(?:[a-z0-9]+(?:[.-][a-z0-9]+)*(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
    r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
)
TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
DIGEST = re.compile(r"sha256:[a-f0-9]{64}")
DURATION = re.compile(r"[1-9][0-9]*(s|m|h)")
QUEUE = re.compile(r"[A-Za-z0-9_.-]+")

# Objects are labelled ``app.kubernetes.io/instance: vibeyard-<namespace>`` (see
# identity.instance_for) and a label value holds at most 63 characters.
NAMESPACE_MAX = 63 - len("vibeyard-")

DNS_LABEL_ALLOWED = "a DNS-1123 label: lowercase letters, digits and '-', at most 63 characters"


def _matches(pattern: re.Pattern[str], value: object) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class _Checker:
    env: str

    def fail(self, path: str, value: object, allowed: str) -> None:
        raise ConfigError(f"{self.env}: {path}={value!r} is invalid: {allowed}")

    def require(self, ok: bool, path: str, value: object, allowed: str) -> None:
        if not ok:
            self.fail(path, value, allowed)

    def dns_label(self, path: str, value: str, max_len: int = 63) -> None:
        allowed = DNS_LABEL_ALLOWED.replace("63", str(max_len))
        self.require(_matches(DNS_LABEL, value) and len(value) <= max_len, path, value, allowed)

    def label_value(self, path: str, value: str) -> None:
        self.require(
            _matches(LABEL_VALUE, value) and len(value) <= 63,
            path,
            value,
            "a label value: at most 63 characters, alphanumeric at both ends, '-_.' inside",
        )

    def int_range(self, path: str, value: int, low: int, high: int | None = None) -> None:
        ok = _is_int(value) and value >= low and (high is None or value <= high)
        allowed = f"an integer from {low} to {high}" if high is not None else f"an integer >= {low}"
        self.require(ok, path, value, allowed)

    def port(self, path: str, value: int) -> None:
        self.int_range(path, value, 1, 65535)

    def image(self, path: str, image: Image) -> None:
        self.require(
            _matches(REPOSITORY, image.repository),
            f"{path}.repository",
            image.repository,
            "an image repository like 'ghcr.io/org/name' (lowercase, no tag)",
        )
        self.require(
            _matches(TAG, image.tag) and image.tag != "latest",
            f"{path}.tag",
            image.tag,
            "an image tag of [A-Za-z0-9_.-], at most 128 characters, and never 'latest'",
        )
        self.label_value(f"{path}.tag", image.tag)
        if image.digest is not None:
            self.require(
                _matches(DIGEST, image.digest),
                f"{path}.digest",
                image.digest,
                "'sha256:' followed by 64 lowercase hex digits",
            )

    def resources(self, path: str, res: Resources) -> None:
        cpu_req = cpu_millis(res.cpu_request)
        self.require(cpu_req is not None, f"{path}.cpu_request", res.cpu_request, CPU_ALLOWED)
        mem_req = memory_bytes(res.memory_request)
        self.require(mem_req is not None, f"{path}.memory_request", res.memory_request, MEMORY_ALLOWED)
        mem_lim = memory_bytes(res.memory_limit)
        self.require(mem_lim is not None, f"{path}.memory_limit", res.memory_limit, MEMORY_ALLOWED)
        assert mem_req is not None and mem_lim is not None and cpu_req is not None
        self.require(
            mem_req <= mem_lim,
            f"{path}.memory_request",
            res.memory_request,
            f"at most the memory limit {res.memory_limit}",
        )
        if res.cpu_limit is not None:
            cpu_lim = cpu_millis(res.cpu_limit)
            self.require(cpu_lim is not None, f"{path}.cpu_limit", res.cpu_limit, CPU_ALLOWED)
            assert cpu_lim is not None
            self.require(
                cpu_req <= cpu_lim,
                f"{path}.cpu_request",
                res.cpu_request,
                f"at most the CPU limit {res.cpu_limit}",
            )

    def autoscaling(self, path: str, hpa: Autoscaling) -> None:
        self.int_range(f"{path}.min_replicas", hpa.min_replicas, 1)
        self.require(
            hpa.max_replicas >= hpa.min_replicas,
            f"{path}.min_replicas",
            hpa.min_replicas,
            f"at most {path}.max_replicas ({hpa.max_replicas})",
        )
        self.int_range(f"{path}.cpu_utilization", hpa.cpu_utilization, 1, 100)
        if hpa.memory_utilization is not None:
            self.int_range(f"{path}.memory_utilization", hpa.memory_utilization, 1, 100)
        self.int_range(
            f"{path}.scale_down_stabilization_seconds", hpa.scale_down_stabilization_seconds, 0, 3600
        )
        self.int_range(f"{path}.scale_down_max_percent", hpa.scale_down_max_percent, 1, 100)
        self.int_range(f"{path}.scale_down_period_seconds", hpa.scale_down_period_seconds, 1, 1800)

    def storage(self, path: str, value: str) -> None:
        self.require(memory_bytes(value) is not None, path, value, MEMORY_ALLOWED)

    def placement(self, path: str, placement: Placement) -> None:
        self.int_range(f"{path}.spot_weight", placement.spot_weight, 1, 100)
        for key, value in dict(placement.node_selector).items():
            self.label_value(f"{path}.node_selector[{key}]", value)

    def cidrs(self, path: str, values: Iterable[str]) -> None:
        for i, cidr in enumerate(values):
            try:
                ipaddress.ip_network(cidr)
            except (TypeError, ValueError):
                self.fail(f"{path}[{i}]", cidr, "an IPv4 or IPv6 network in CIDR form, like '10.0.0.0/8'")


def validate(cfg: EnvConfig, env: str | None = None) -> None:
    """Raise ``ConfigError`` for the first mistake in ``cfg`` (registered as ``env``).

    Types first, for the whole tree, so the semantic checks below can rely on them.
    """
    c = _Checker(env if env is not None else str(cfg.name))
    check_types(cfg, EnvConfig, "", c.fail)
    c.dns_label("name", cfg.name, max_len=20)
    c.dns_label("namespace", cfg.namespace, max_len=NAMESPACE_MAX)
    c.require(
        isinstance(cfg.app_url, str) and cfg.app_url.startswith(("https://", "http://")),
        "app_url",
        cfg.app_url,
        "an absolute http(s) URL",
    )
    c.image("image", cfg.image)
    c.require(
        _matches(HOSTNAME, cfg.ingress.host),
        "ingress.host",
        cfg.ingress.host,
        "a fully qualified DNS name in lowercase, like 'vibeyard.example.com'",
    )
    c.require(
        urlsplit(cfg.app_url).hostname == cfg.ingress.host,
        "app_url",
        cfg.app_url,
        f"a URL on ingress.host ({cfg.ingress.host}), the host the app is served on",
    )
    c.dns_label("ingress.tls_secret", cfg.ingress.tls_secret, max_len=253)
    c.dns_label("ingress.cluster_issuer", cfg.ingress.cluster_issuer, max_len=253)
    c.dns_label("ingress.class_name", cfg.ingress.class_name, max_len=253)

    web = cfg.web
    c.int_range("web.replicas", web.replicas, 1)
    c.resources("web.resources", web.resources)
    c.autoscaling("web.autoscaling", web.autoscaling)
    c.int_range("web.disruption.max_unavailable", web.disruption.max_unavailable, 1)
    c.port("web.port", web.port)
    c.require(web.health_path.startswith("/"), "web.health_path", web.health_path, "a path starting with '/'")
    c.require(
        web.metrics_path.startswith("/"), "web.metrics_path", web.metrics_path, "a path starting with '/'"
    )
    c.int_range("web.pre_stop_sleep_seconds", web.pre_stop_sleep_seconds, 0, 120)
    c.require(
        web.termination_grace_seconds > web.pre_stop_sleep_seconds,
        "web.termination_grace_seconds",
        web.termination_grace_seconds,
        f"more than web.pre_stop_sleep_seconds ({web.pre_stop_sleep_seconds}) so requests can drain",
    )
    c.placement("web.placement", web.placement)

    _validate_workers(c, cfg)
    _validate_stores(c, cfg)

    c.require(bool(cfg.secrets.name), "secrets.name", cfg.secrets.name, "a Secret name")
    c.dns_label("secrets.name", cfg.secrets.name, max_len=253)
    if cfg.secrets.provider == "sealed":
        c.require(
            bool(cfg.secrets.sealed_file),
            "secrets.sealed_file",
            cfg.secrets.sealed_file,
            "a path to kubeseal output when provider is 'sealed'",
        )
    c.require(
        _matches(DURATION, cfg.secrets.refresh_interval),
        "secrets.refresh_interval",
        cfg.secrets.refresh_interval,
        "a duration like '1h', '15m' or '30s'",
    )

    net = cfg.network
    c.dns_label("network.ingress_namespace", net.ingress_namespace)
    c.dns_label("network.monitoring_namespace", net.monitoring_namespace)
    c.cidrs("network.https_except", net.https_except)
    c.cidrs("network.managed_egress", (e.cidr for e in net.managed_egress))
    for i, egress in enumerate(net.managed_egress):
        c.port(f"network.managed_egress[{i}].port", egress.port)

    mon = cfg.monitoring
    c.require(
        _matches(DURATION, mon.scrape_interval),
        "monitoring.scrape_interval",
        mon.scrape_interval,
        "a duration like '30s' or '1m'",
    )
    c.require(
        0 < mon.error_rate_threshold < 1,
        "monitoring.error_rate_threshold",
        mon.error_rate_threshold,
        "a fraction between 0 and 1",
    )
    c.int_range("migration.backoff_limit", cfg.migration.backoff_limit, 0, 10)
    c.int_range("migration.active_deadline_seconds", cfg.migration.active_deadline_seconds, 1)
    _validate_quota(c, cfg)


def _validate_workers(c: _Checker, cfg: EnvConfig) -> None:
    seen: set[str] = set()
    for i, pool in enumerate(cfg.workers):
        path = f"workers[{i}]"
        c.dns_label(f"{path}.name", pool.name, max_len=47)  # 'vibeyard-worker-' + name <= 63
        c.require(pool.name not in seen, f"{path}.name", pool.name, "a pool name used only once")
        seen.add(pool.name)
        c.require(
            len(pool.queues) > 0,
            f"{path}.queues",
            pool.queues,
            "a non-empty tuple of BullMQ queue names, like ('default',)",
        )
        for q in pool.queues:
            c.require(
                _matches(QUEUE, q),
                f"{path}.queues",
                q,
                "queue names of letters, digits, '_', '.' and '-'",
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
        c.int_range(f"{path}.termination_grace_seconds", pool.termination_grace_seconds, 1, 86400)
        c.int_range(f"{path}.queue_list_length", pool.queue_list_length, 1)
        c.require(
            len(pool.command) > 0,
            f"{path}.command",
            pool.command,
            "a non-empty exec-form command tuple, like ('node', 'dist/worker.js')",
        )
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


def _validate_stores(c: _Checker, cfg: EnvConfig) -> None:
    pg, redis, bouncer = cfg.postgres, cfg.redis, cfg.pgbouncer
    c.require(pg.mode in ("in-cluster", "managed"), "postgres.mode", pg.mode, "'in-cluster' or 'managed'")
    c.require(redis.mode in ("in-cluster", "managed"), "redis.mode", redis.mode, "'in-cluster' or 'managed'")
    if pg.mode == "in-cluster":
        c.image("postgres.image", pg.image)
        c.storage("postgres.storage_size", pg.storage_size)
        c.resources("postgres.resources", pg.resources)
        c.int_range("postgres.uid", pg.uid, 1)
        c.int_range("postgres.termination_grace_seconds", pg.termination_grace_seconds, 30)
    if redis.mode == "in-cluster":
        c.image("redis.image", redis.image)
        c.storage("redis.storage_size", redis.storage_size)
        c.resources("redis.resources", redis.resources)
        c.int_range("redis.maxmemory_percent", redis.maxmemory_percent, 10, 90)
        c.int_range("redis.uid", redis.uid, 1)
    if bouncer.enabled:
        c.image("pgbouncer.image", bouncer.image)
        c.int_range("pgbouncer.replicas", bouncer.replicas, 1)
        c.port("pgbouncer.port", bouncer.port)
        c.resources("pgbouncer.resources", bouncer.resources)
        c.int_range("pgbouncer.default_pool_size", bouncer.default_pool_size, 1)
        c.require(
            bouncer.max_client_conn >= bouncer.default_pool_size,
            "pgbouncer.max_client_conn",
            bouncer.max_client_conn,
            f"at least pgbouncer.default_pool_size ({bouncer.default_pool_size})",
        )
    if pg.mode == "managed":
        c.require(
            len(cfg.network.managed_egress) > 0 or cfg.name == "dev",
            "network.managed_egress",
            cfg.network.managed_egress,
            "at least one CIDR and port for the managed database when postgres.mode is 'managed'",
        )


def _validate_quota(c: _Checker, cfg: EnvConfig) -> None:
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
            f"at least {shown}{unit}, the peak of every autoscaler at its maximum plus a rollout surge",
        )
