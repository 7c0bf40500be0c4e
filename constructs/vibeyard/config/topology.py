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
from .edge import ENVOY_GATEWAY_NAMESPACE, GATEWAYS, INGRESS_CONTROLLERS, OWNING_GATEWAY, DataPlane
from .platform import SPOT_NODES, SpotNodes
from .types import EdgeConfig, EnvConfig, Image, ManagedEgress, Resources, WorkerPool

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
class GatewayRef:
    """The Gateway our routes attach to: ours (``owned``) or the platform's."""

    name: str
    namespace: str
    http_listener: str
    https_listener: str
    owned: bool
    class_name: str


# Who fills our TLS Secret: cert-manager's ingress-shim from the Ingress, its
# gateway-shim from our own Gateway, our Certificate (for a shared Gateway's listener
# that reads the Secret here), or the platform team, next to its shared Gateway.
CertificateSource = Literal["ingress", "gateway", "certificate", "platform"]


@dataclass(frozen=True)
class EdgePlan:
    """Which edges run, where each one's proxies connect from, and who makes the certificate."""

    gateway: GatewayRef | None
    gateway_data_plane: DataPlane | None
    ingress_class: str | None
    ingress_data_plane: DataPlane | None
    certificate: CertificateSource
    # A shared Gateway in another namespace reads our Secret: it needs our ReferenceGrant.
    secret_grant: bool

    @staticmethod
    def of(edge: EdgeConfig, namespace: str) -> EdgePlan:
        gateway = gateway_plane = None
        if edge.mode in ("gateway-api", "both"):
            gateway, gateway_plane = _gateway(edge, namespace)
        ingress_class = ingress_plane = None
        if edge.mode in ("ingress", "both"):
            controller = INGRESS_CONTROLLERS[edge.ingress.controller]
            ingress_class = edge.ingress.class_name or controller.class_name
            ingress_plane = edge.ingress.data_plane or controller.data_plane
        shared = edge.gateway.shared if gateway is not None else None
        secret_here = shared is None or shared.tls_secret_in_app_namespace
        certificate: CertificateSource
        if ingress_class is not None:
            certificate = "ingress"
        elif shared is None:
            certificate = "gateway"
        else:
            certificate = "certificate" if secret_here else "platform"
        grant = shared is not None and shared.tls_secret_in_app_namespace
        return EdgePlan(gateway, gateway_plane, ingress_class, ingress_plane, certificate, grant)


def _gateway(edge: EdgeConfig, namespace: str) -> tuple[GatewayRef, DataPlane | None]:
    """The Gateway our routes attach to, and where its proxies connect from."""
    cfg, shared = edge.gateway, edge.gateway.shared
    impl = GATEWAYS.get(cfg.implementation)
    ref = GatewayRef(
        name=shared.name if shared else identity.WEB[0],
        namespace=shared.namespace if shared else namespace,
        http_listener=shared.http_listener if shared else "http",
        https_listener=shared.https_listener if shared else "https",
        owned=shared is None,
        class_name=cfg.class_name or (impl.class_name if impl else ""),
    )
    plane = cfg.data_plane or (impl.data_plane if impl else None)
    if plane is None and cfg.implementation == "envoy-gateway":
        # Envoy Gateway runs one proxy Deployment per Gateway and labels its pods with it.
        owning = dict(zip(OWNING_GATEWAY, (ref.name, ref.namespace), strict=True))
        plane = DataPlane(namespace=ENVOY_GATEWAY_NAMESPACE, pod_labels=owning)
    return ref, plane


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
    edge: EdgePlan
    sentry: bool
    read_replica: bool
    gitops: bool
    secret_provider: str
    spot: SpotNodes
    workloads: tuple[Workload, ...]
    # The cluster refuses unsigned app images here (signatures.admission), and lets these,
    # the third-party images the namespace runs, in by digest only.
    image_policy: bool
    third_party_images: tuple[Image, ...]

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
            acme_solver=cfg.edge.acme_http01,
            edge=EdgePlan.of(cfg.edge, ns),
            sentry=cfg.sentry_enabled,
            read_replica=pg.read_replica,
            gitops=cfg.gitops is not None,
            secret_provider=cfg.secrets.provider,
            spot=SPOT_NODES[cfg.cluster.provider],
            workloads=_workloads(cfg, pools, pooler=pooler, postgres=postgres, queue=queue, cache=cache),
            image_policy=cfg.signatures.admission != "off",
            third_party_images=_third_party(cfg, postgres=postgres, pooler=pooler, queue=queue),
        )


def _third_party(
    cfg: EnvConfig,
    *,
    postgres: ServiceAddress | None,
    pooler: ServiceAddress | None,
    queue: ServiceAddress | None,
) -> tuple[Image, ...]:
    """Every image but the app's that pods of the namespace run: the stores and their exporters."""
    exporters = cfg.monitoring.exporters if cfg.monitoring.enabled else None
    runs = [
        (postgres, cfg.postgres.image, exporters and exporters.postgres),
        (pooler, cfg.pgbouncer.image, exporters and exporters.pgbouncer),
        (queue, cfg.redis.image, exporters and exporters.redis),
    ]
    images = [img for address, *pair in runs if address is not None for img in pair if img]
    return tuple({img.ref: img for img in images}.values())


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
