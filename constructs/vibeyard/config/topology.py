"""What one environment runs, decided once from its config.

Store modes and feature flags (``postgres.mode``, ``redis.mode``,
``pgbouncer.enabled``, ``keda.enabled``, ``monitoring.enabled``...) are read
here and nowhere else outside ``config/``. Everything downstream reads the
decision: the chart composes constructs from it, sizing sums its workloads, the
Secret's required keys follow from it, and validation checks against it. Adding
a component means adding it here and composing it in the chart.

The model is plain Python, so a config mistake is found before jsii starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .. import identity
from . import secret_keys as keys
from .platform import SPOT_NODES, SpotNodes
from .types import EnvConfig, ManagedEgress, Resources, WorkerPool

Scaler = Literal["fixed", "hpa", "keda"]

# The share of replicas a RollingUpdate adds on top (``maxSurge: 25%``).
SURGE_PERCENT = 25


@dataclass(frozen=True)
class ServiceAddress:
    """An in-cluster Service as its clients reach it."""

    name: str
    port: int
    namespace: str
    cluster_domain: str

    @property
    def host(self) -> str:
        """The short name: clients live in the same namespace."""
        return self.name

    @property
    def fqdn(self) -> str:
        """The fully qualified name, for clients outside the namespace (KEDA's operator)."""
        return f"{self.name}.{self.namespace}.svc.{self.cluster_domain}"


@dataclass(frozen=True)
class PoolPlan:
    """One worker pool, the autoscaler it gets and how it shuts down."""

    pool: WorkerPool
    scaler: Scaler

    @property
    def autoscaled(self) -> bool:
        return self.scaler != "fixed"

    @property
    def max_replicas(self) -> int:
        pool = self.pool
        return max(pool.max_replicas, pool.replicas) if self.autoscaled else pool.replicas

    @property
    def grace_seconds(self) -> int:
        return self.pool.grace_seconds


@dataclass(frozen=True)
class Workload:
    """A pod-producing object at its peak, for the namespace's quota."""

    name: str
    resources: tuple[Resources, ...]  # its containers (sidecars included)
    replicas: int
    rolling: bool  # a Deployment surges and keeps old pods terminating during a rollout
    storage: str | None = None


@dataclass(frozen=True)
class Topology:
    env: str
    namespace: str
    instance: str
    # In-cluster Services; None where the store is managed or the part is off.
    postgres: ServiceAddress | None
    pgbouncer: ServiceAddress | None
    redis: ServiceAddress | None
    cache: ServiceAddress | None
    # A managed database: the endpoint PgBouncer connects to, and its CIDRs for egress policy.
    managed_database: tuple[str, int] | None
    managed_egress: tuple[ManagedEgress, ...]
    web_scaler: Literal["fixed", "hpa"]
    pools: tuple[PoolPlan, ...]
    queue_scaling: bool
    monitoring: bool
    exporters: bool
    dashboards: bool
    vpa: bool
    migration: bool
    acme_solver: bool
    sentry: bool
    read_replica: bool
    gitops: bool
    secret_provider: str
    spot: SpotNodes
    workloads: tuple[Workload, ...]

    @property
    def secret_keys(self) -> tuple[str, ...]:
        """The keys the environment's Secret must hold, whatever the provider."""
        out = [keys.NEXTAUTH_SECRET, keys.GITHUB_CLIENT_SECRET, keys.OPENAI_API_KEY]
        if self.sentry:
            out.append(keys.SENTRY_DSN)
        if self.postgres is None:  # a managed database: its direct URL (host, TLS) is the provider's
            out.append(keys.DATABASE_URL)
        if self.postgres is not None or self.pgbouncer is not None:
            out.append(keys.POSTGRES_PASSWORD)
        if self.read_replica:
            out.append(keys.DATABASE_READ_URL)
        if self.redis is not None:  # the queue and the cache: one password each
            out += [keys.REDIS_PASSWORD, keys.REDIS_CACHE_PASSWORD]
        else:
            out += [keys.REDIS_URL, keys.REDIS_CACHE_URL]
            if self.queue_scaling:  # KEDA's redis scaler takes host:port and password, not a URL
                out += [keys.REDIS_ADDRESS, keys.REDIS_PASSWORD]
        return tuple(out)

    @staticmethod
    def of(cfg: EnvConfig) -> Topology:
        ns, domain = cfg.namespace, cfg.cluster.cluster_domain
        pg, redis, bouncer = cfg.postgres, cfg.redis, cfg.pgbouncer
        monitored = cfg.monitoring.enabled

        def address(name: str, port: int) -> ServiceAddress:
            return ServiceAddress(name, port, ns, domain)

        postgres = address(identity.POSTGRES[0], pg.port) if pg.mode == "in-cluster" else None
        pooler = address(identity.PGBOUNCER[0], bouncer.port) if bouncer.enabled else None
        queue = address(identity.REDIS[0], redis.port) if redis.mode == "in-cluster" else None
        cache = address(identity.CACHE[0], cfg.cache.port) if redis.mode == "in-cluster" else None
        hpa = cfg.web.autoscaling.enabled
        pools = tuple(PoolPlan(pool, _pool_scaler(cfg, pool)) for pool in cfg.workers)
        return Topology(
            env=cfg.name,
            namespace=ns,
            instance=identity.instance_for(ns),
            postgres=postgres,
            pgbouncer=pooler,
            redis=queue,
            cache=cache,
            managed_database=(pg.host, pg.port) if pg.mode == "managed" and pg.host else None,
            managed_egress=cfg.network.managed_egress,
            web_scaler="hpa" if hpa else "fixed",
            pools=pools,
            queue_scaling=cfg.keda.enabled,
            monitoring=monitored,
            exporters=monitored,
            dashboards=monitored and cfg.monitoring.dashboards,
            vpa=cfg.vpa_enabled,
            migration=cfg.migration.enabled,
            acme_solver=cfg.ingress.acme_http01,
            sentry=cfg.sentry_enabled,
            read_replica=pg.read_replica,
            gitops=cfg.gitops is not None,
            secret_provider=cfg.secrets.provider,
            spot=SPOT_NODES[cfg.cluster.provider],
            workloads=_workloads(cfg, pools, pooler=pooler, postgres=postgres, queue=queue, cache=cache),
        )


def _workloads(
    cfg: EnvConfig,
    pools: tuple[PoolPlan, ...],
    *,
    pooler: ServiceAddress | None,
    postgres: ServiceAddress | None,
    queue: ServiceAddress | None,
    cache: ServiceAddress | None,
) -> tuple[Workload, ...]:
    """Every pod-producing object at its peak, sidecars included, for the quota."""
    pg, redis, bouncer, web = cfg.postgres, cfg.redis, cfg.pgbouncer, cfg.web
    exporter = (cfg.monitoring.exporters.resources,) if cfg.monitoring.enabled else ()
    web_peak = max(web.autoscaling.max_replicas, web.replicas) if web.autoscaling.enabled else web.replicas
    out = [
        Workload(identity.WEB[0], (web.resources,), web_peak, rolling=True),
        *(
            Workload(identity.worker_name(p.pool.name), (p.pool.resources,), p.max_replicas, rolling=True)
            for p in pools
        ),
    ]
    if pooler is not None:
        out.append(Workload(pooler.name, (bouncer.resources, *exporter), bouncer.replicas, rolling=True))
    if postgres is not None:
        out.append(
            Workload(postgres.name, (pg.resources, *exporter), 1, rolling=False, storage=pg.storage_size)
        )
    if queue is not None:
        out.append(
            Workload(queue.name, (redis.resources, *exporter), 1, rolling=False, storage=redis.storage_size)
        )
    if cache is not None:
        out.append(Workload(cache.name, (cfg.cache.resources, *exporter), 1, rolling=True))
    if cfg.migration.enabled:
        out.append(Workload(identity.MIGRATION[0], (web.resources,), 1, rolling=False))
    return tuple(out)


def _pool_scaler(cfg: EnvConfig, pool: WorkerPool) -> Scaler:
    """KEDA scales every pool when it runs; otherwise a CPU HPA does, if the pool
    has room to scale at all."""
    if cfg.keda.enabled:
        return "keda"
    return "hpa" if pool.max_replicas > max(pool.min_replicas, 1) else "fixed"
