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
    cluster_domain: str = "cluster.local"

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
    """One worker pool and the autoscaler it gets."""

    pool: WorkerPool
    scaler: Scaler

    @property
    def autoscaled(self) -> bool:
        return self.scaler != "fixed"

    @property
    def max_replicas(self) -> int:
        pool = self.pool
        return max(pool.max_replicas, pool.replicas) if self.autoscaled else pool.replicas


@dataclass(frozen=True)
class Workload:
    """A pod-producing object at its peak, for the namespace's quota."""

    name: str
    resources: Resources
    replicas: int
    rolling: bool  # a Deployment surges during a rollout; a StatefulSet or Job does not
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
    # Where a managed database is reached (CIDR and port), for egress policy.
    managed_egress: tuple[ManagedEgress, ...]
    web_scaler: Literal["fixed", "hpa"]
    pools: tuple[PoolPlan, ...]
    queue_scaling: bool
    monitoring: bool
    dashboards: bool
    vpa: bool
    migration: bool
    acme_solver: bool
    sentry: bool
    read_replica: bool
    secret_provider: str
    workloads: tuple[Workload, ...]

    @property
    def database_host(self) -> ServiceAddress | None:
        """Where the app's DATABASE_URL points when we compose it: the pooler."""
        return self.pgbouncer

    @property
    def secret_keys(self) -> tuple[str, ...]:
        """The keys the environment's Secret must hold, whatever the provider."""
        out = [keys.DATABASE_URL, keys.NEXTAUTH_SECRET, keys.GITHUB_CLIENT_SECRET, keys.OPENAI_API_KEY]
        if self.sentry:
            out.append(keys.SENTRY_DSN)
        if self.read_replica:
            out.append(keys.DATABASE_READ_URL)
        if self.postgres is not None or self.pgbouncer is not None:
            out += [keys.POSTGRES_USER, keys.POSTGRES_PASSWORD, keys.POSTGRES_DATABASE]
        if self.redis is not None:
            out.append(keys.REDIS_PASSWORD)
        else:
            out.append(keys.REDIS_URL)
            if self.queue_scaling:  # KEDA's redis scaler takes host:port and password, not a URL
                out += [keys.REDIS_ADDRESS, keys.REDIS_PASSWORD]
        return tuple(out)

    @staticmethod
    def of(cfg: EnvConfig) -> Topology:
        ns = cfg.namespace
        pg, redis, bouncer = cfg.postgres, cfg.redis, cfg.pgbouncer
        postgres = ServiceAddress(identity.POSTGRES[0], pg.port, ns) if pg.mode == "in-cluster" else None
        pooler = ServiceAddress(identity.PGBOUNCER[0], bouncer.port, ns) if bouncer.enabled else None
        queue = ServiceAddress(identity.REDIS[0], redis.port, ns) if redis.mode == "in-cluster" else None
        hpa = cfg.web.autoscaling.enabled
        pools = tuple(PoolPlan(pool, _pool_scaler(cfg, pool)) for pool in cfg.workers)

        workloads = [
            Workload(
                identity.WEB[0],
                cfg.web.resources,
                max(cfg.web.autoscaling.max_replicas, cfg.web.replicas) if hpa else cfg.web.replicas,
                rolling=True,
            ),
            *(
                Workload(identity.worker_name(p.pool.name), p.pool.resources, p.max_replicas, rolling=True)
                for p in pools
            ),
        ]
        if pooler is not None:
            workloads.append(Workload(pooler.name, bouncer.resources, bouncer.replicas, rolling=True))
        if postgres is not None:
            workloads.append(Workload(postgres.name, pg.resources, 1, rolling=False, storage=pg.storage_size))
        if queue is not None:
            workloads.append(
                Workload(queue.name, redis.resources, 1, rolling=False, storage=redis.storage_size)
            )
        if cfg.migration.enabled:
            workloads.append(Workload(identity.MIGRATION[0], cfg.web.resources, 1, rolling=False))

        return Topology(
            env=cfg.name,
            namespace=ns,
            instance=identity.instance_for(ns),
            postgres=postgres,
            pgbouncer=pooler,
            redis=queue,
            managed_egress=cfg.network.managed_egress,
            web_scaler="hpa" if hpa else "fixed",
            pools=pools,
            queue_scaling=cfg.keda.enabled,
            monitoring=cfg.monitoring.enabled,
            dashboards=cfg.monitoring.enabled and cfg.monitoring.dashboards,
            vpa=cfg.vpa_enabled,
            migration=cfg.migration.enabled,
            acme_solver=cfg.ingress.acme_http01,
            sentry=cfg.sentry_enabled,
            read_replica=pg.read_replica,
            secret_provider=cfg.secrets.provider,
            workloads=tuple(workloads),
        )


def _pool_scaler(cfg: EnvConfig, pool: WorkerPool) -> Scaler:
    """KEDA scales every pool when it runs; otherwise a CPU HPA does, if the pool
    has room to scale at all."""
    if cfg.keda.enabled:
        return "keda"
    return "hpa" if pool.max_replicas > max(pool.min_replicas, 1) else "fixed"
