"""One chart per environment, composed from the constructs in four named steps.

What the environment runs was decided once, in ``config/topology.py``; this
file only composes: the namespace and its Secret, the data stores, the app (web
and migration), the workers, then the platform around them (VPAs, monitoring,
NetworkPolicies). Constructs are handed to each other by reference, and each
network need is declared where it arises, with the port its listener exposes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

import cdk8s
from constructs import Construct

from . import checksums, identity
from .app.environment import AppEnvironment, Database
from .app.migration import MigrationJob
from .app.secret import AppSecret
from .app.settings import AppSettings
from .config.topology import GatewayRef, Topology
from .config.types import EnvConfig, Exporters
from .edge.certificate import ListenerCertificate
from .edge.gateway import WebGateway
from .edge.ingress import WebIngress
from .edge.routes import WebRoutes
from .gitops import waves
from .identity import Identity
from .kube import Listener, Site, Workload
from .network import peers
from .network.peers import HTTPS, INTERNET
from .network.policies import Needs, NetworkPolicies
from .observability.monitoring import Monitoring, ScrapeTarget
from .observability.subject import Observed
from .platform import image_policy
from .pod import RunAs
from .scaling.autoscaler import HorizontalAutoscaler
from .scaling.disruption_budget import DisruptionBudget
from .scaling.queue_scaler import QueueScaler
from .scaling.trigger_auth import RedisTriggerAuth
from .scaling.vpa import RecommendationOnlyVpa
from .stores.pgbouncer import PgBouncer
from .stores.postgres import Postgres
from .stores.redis import Redis
from .stores.redis_cache import RedisCache
from .tenancy.namespace import Namespace
from .tenancy.quota import NamespaceQuota
from .web.web_app import WebApp
from .workers.worker_pool import WorkerPoolDeployment

RELOADER = "secret.reloader.stakater.com/reload"


class _StoreArgs(TypedDict):
    """What every data store construct reads besides its own config."""

    site: Site
    secret: str
    exporters: Exporters | None


@dataclass(frozen=True)
class Stores:
    """The data stores this environment runs itself (None where managed or off)."""

    postgres: Postgres | None
    pgbouncer: PgBouncer | None
    redis: Redis | None
    cache: RedisCache | None

    def listeners(self) -> list[Listener]:
        return [s for s in (self.postgres, self.pgbouncer, self.redis, self.cache) if s is not None]


class VibeyardChart(cdk8s.Chart):
    """
    :param cfg: the environment's validated config.
    :param sealed_data: the checked ``encryptedData`` when the Secret is sealed. Default none.
    """

    def __init__(
        self, scope: Construct, id: str, *, cfg: EnvConfig, sealed_data: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(scope, id, disable_resource_name_hashes=True)
        self.cfg = cfg
        self.topo = topo = Topology.of(cfg)
        self.site = Site(topo.namespace, topo.instance, cfg.image_pull_secrets, topo.spot)
        self.platform = identity.of(identity.PLATFORM, topo.instance)
        self.app_pods = peers.app(topo.instance)
        self.needs = Needs()
        self.workloads: list[Workload] = []
        self.sealed = sealed_data
        self._reload = cfg.secrets.name if cfg.secrets.reloader else None

        settings, secret = self._tenancy(sealed_data)
        stores = self._data_stores(secret)
        environment = AppEnvironment(
            settings=settings.name,
            secret=secret,
            database=Database(
                user=cfg.postgres.user,
                name=cfg.postgres.database,
                server=topo.postgres,
                pooler=topo.pgbouncer,
                read_replica=topo.read_replica,
            ),
            sentry=topo.sentry,
            redis=topo.redis,
            cache=topo.cache,
        )
        self._app(environment, stores)
        self._workers(environment, stores)
        self._platform()

    def _tenancy(self, sealed_data: Mapping[str, str] | None) -> tuple[AppSettings, str]:
        """The namespace, its quota, the Secret and the settings every process reads."""
        cfg, topo = self.cfg, self.topo
        shared = cfg.edge.gateway.shared if topo.edge.gateway is not None else None
        labels = {
            **(shared.namespace_labels if shared is not None else {}),
            **(image_policy.NAMESPACE_LABEL if topo.image_policy else {}),
        }
        Namespace(self, "Namespace", name=topo.namespace, identity=self.platform, labels=labels)
        NamespaceQuota(self, "Quota", namespace=topo.namespace, identity=self.platform, quota=cfg.quota)
        secret = AppSecret(
            self,
            "Secret",
            secrets=cfg.secrets,
            namespace=topo.namespace,
            environment=topo.env,
            identity=self.platform,
            keys=topo.secret_keys,
            sealed_data=sealed_data,
        )
        settings = AppSettings(
            self,
            "Settings",
            namespace=topo.namespace,
            identity=self.platform,
            environment=topo.env,
            app_url=cfg.app_url,
            port=cfg.web.port,
            log_level=cfg.log_level,
            node_env=cfg.node_env,
            sentry=topo.sentry,
            extra=cfg.extra_env,
        )
        return settings, secret.name

    def _data_stores(self, secret: str) -> Stores:
        """Only what the environment runs itself, each admitting the app."""
        cfg, topo, site = self.cfg, self.topo, self.site
        exporters = cfg.monitoring.exporters if topo.exporters else None
        store = _StoreArgs(site=site, secret=secret, exporters=exporters)
        postgres = Postgres(self, "Postgres", postgres=cfg.postgres, **store) if topo.postgres else None
        redis = cache = None
        if topo.redis is not None and topo.cache is not None:
            redis = Redis(self, "Redis", redis=cfg.redis, **store)
            run_as = RunAs(cfg.redis.uid, cfg.redis.gid)
            cache = RedisCache(self, "Cache", cache=cfg.cache, image=cfg.redis.image, run_as=run_as, **store)
            DisruptionBudget(self, "CacheBudget", namespace=site.namespace, target=cache)
        for listener in (postgres, redis, cache):
            if listener is not None:
                self.needs.admit(listener, "clients", peers.pods(self.app_pods))
        pgbouncer = self._pgbouncer(secret, postgres) if topo.pgbouncer else None
        self.workloads += [s for s in (postgres, redis, cache, pgbouncer) if s is not None]
        return Stores(postgres, pgbouncer, redis, cache)

    def _pgbouncer(self, secret: str, postgres: Postgres | None) -> PgBouncer:
        """PgBouncer in front of the in-cluster or managed database; the app's only way in."""
        cfg, topo = self.cfg, self.topo
        server = (topo.postgres.host, topo.postgres.port) if topo.postgres else topo.managed_database
        assert server is not None, "validation requires postgres.host for a managed database"
        pgbouncer = PgBouncer(
            self,
            "PgBouncer",
            site=self.site,
            pgbouncer=cfg.pgbouncer,
            server=server,
            database=cfg.postgres.database,
            user=cfg.postgres.user,
            secret=secret,
            exporters=cfg.monitoring.exporters if topo.exporters else None,
        )
        DisruptionBudget(self, "PgBouncerBudget", namespace=self.site.namespace, target=pgbouncer)
        self.needs.admit(pgbouncer, "app", peers.pods(self.app_pods))
        self._to_database(pgbouncer.identity, postgres)
        return pgbouncer

    def _to_database(self, client: Identity, postgres: Postgres | None) -> None:
        """``client`` connects to the database directly: the in-cluster pods, or the managed CIDRs."""
        if postgres is not None:
            self.needs.admit(postgres, "clients", peers.pods(peers.of(client)))
            to = [peers.to(postgres)]
        else:
            to = [(peers.cidr(e.cidr), e.port) for e in self.topo.managed_egress]
        self.needs.allow(f"{client.name}-to-database", peers.of(client), *to)

    def _app(self, environment: AppEnvironment, stores: Stores) -> None:
        """The migration, the web tier, and what the app's pods reach."""
        cfg, topo, site = self.cfg, self.topo, self.site
        if topo.migration:
            migration = MigrationJob(
                self,
                "Migration",
                site=site,
                image=cfg.image,
                migration=cfg.migration,
                resources=cfg.web.resources,
                environment=environment,
            )
            # Migrations bypass PgBouncer: they need session-level advisory locks.
            self._to_database(migration.identity, stores.postgres)
        web = WebApp(
            self,
            "Web",
            site=site,
            image=cfg.image,
            web=cfg.web,
            autoscaled=topo.web_scaler == "hpa",
            environment=environment,
        )
        self.workloads.append(web)
        budget = cfg.web.disruption.max_unavailable
        DisruptionBudget(self, "WebBudget", namespace=site.namespace, target=web, max_unavailable=budget)
        if topo.web_scaler == "hpa":
            a = cfg.web.autoscaling
            HorizontalAutoscaler(
                self,
                "WebAutoscaler",
                namespace=site.namespace,
                target=web,
                min_replicas=a.min_replicas,
                max_replicas=a.max_replicas,
                cpu_utilization=a.cpu_utilization,
                memory_utilization=a.memory_utilization,
                scale_down=a.scale_down,
            )
        self._edge(web)
        managed = [(peers.cidr(e.cidr), e.port) for e in topo.managed_egress]
        self.needs.allow(
            f"{web.name}-to-datastores", self.app_pods, *[peers.to(s) for s in stores.listeners()], *managed
        )
        internet = peers.cidr(INTERNET, cfg.network.https_except)
        self.needs.allow(f"{web.name}-to-internet-https", self.app_pods, (internet, HTTPS))

    def _edge(self, web: WebApp) -> None:
        """The public edge in front of the web tier, and the traffic it brings in."""
        cfg, plan, ns = self.cfg, self.topo.edge, self.site.namespace
        if plan.gateway is not None:
            self._gateway_edge(web, plan.gateway)
        if plan.ingress_class is not None:
            WebIngress(
                self,
                "Ingress",
                namespace=ns,
                edge=cfg.edge,
                class_name=plan.ingress_class,
                backend=web,
                port_name=web.port_name,
                unrouted=web.metrics.path,
                identity=web.identity,
            )
            assert plan.ingress_data_plane is not None, "every controller has a default"
            self._admit_edge(web, "ingress", peers.data_plane(plan.ingress_data_plane))

    def _gateway_edge(self, web: WebApp, ref: GatewayRef) -> None:
        """Our Gateway (unless we attach to the platform's), the routes, and their TLS."""
        edge, plan, ns, who = self.cfg.edge, self.topo.edge, self.site.namespace, web.identity
        if ref.owned:
            WebGateway(
                self,
                "Gateway",
                namespace=ns,
                ref=ref,
                edge=edge,
                identity=who,
                issues_certificate=plan.certificate == "gateway",
            )
        WebRoutes(
            self,
            "Routes",
            namespace=ns,
            ref=ref,
            edge=edge,
            backend=web,
            unrouted=web.metrics.path,
            identity=who,
        )
        if plan.certificate == "certificate":
            ListenerCertificate(
                self,
                "Certificate",
                namespace=ns,
                secret=edge.tls_secret,
                host=edge.host,
                cluster_issuer=edge.cluster_issuer,
                identity=who,
            )
        if plan.secret_grant:
            # Imported only here: each CRD module loads its own jsii assembly (docs/synth.md).
            from .edge.reference_grant import SecretGrant  # noqa: PLC0415

            SecretGrant(
                self,
                "SecretGrant",
                namespace=ns,
                secret=edge.tls_secret,
                gateway_namespace=ref.namespace,
                identity=who,
            )
        assert plan.gateway_data_plane is not None, "validation requires a custom data plane"
        self._admit_edge(web, "gateway", peers.data_plane(plan.gateway_data_plane))

    def _admit_edge(self, web: WebApp, edge: str, proxies: list[Any]) -> None:
        """The edge's proxies reach the web tier and, while a certificate is issued or
        renewed, cert-manager's HTTP-01 solver: default-deny would otherwise leave every
        certificate Pending."""
        self.needs.admit(web, edge, *proxies)
        if self.topo.acme_solver:
            solver = peers.labels(peers.ACME_SOLVER_LABELS)
            self.needs.admit_pods(f"acme-solver-from-{edge}", solver, peers.ACME_SOLVER_PORT, *proxies)

    def _workers(self, environment: AppEnvironment, stores: Stores) -> None:
        """One pool per job type, each with the autoscaler the topology chose."""
        cfg, topo, site = self.cfg, self.topo, self.site
        auth = None
        if topo.queue_scaling:
            auth = RedisTriggerAuth(
                self,
                "QueueAuth",
                namespace=site.namespace,
                identity=self.platform,
                secret=environment.secret,
                address_in_secret=topo.redis is None,
            )
            if stores.redis is not None:  # KEDA's operator reads the queue lengths
                keda = peers.namespace(cfg.keda.namespace, cfg.keda.operator_labels)
                self.needs.admit(stores.redis, "clients", keda)
        for plan in topo.pools:
            pool = plan.pool
            workers = WorkerPoolDeployment(
                self,
                f"Worker-{pool.name}",
                site=site,
                image=cfg.image,
                pool=pool,
                autoscaled=plan.autoscaled,
                max_replicas=plan.max_replicas,
                environment=environment,
            )
            self.workloads.append(workers)
            DisruptionBudget(self, f"WorkerBudget-{pool.name}", namespace=site.namespace, target=workers)
            if plan.scaler == "keda" and auth is not None:
                QueueScaler(
                    self,
                    f"QueueScaler-{pool.name}",
                    namespace=site.namespace,
                    target=workers,
                    pool=pool,
                    keda=cfg.keda,
                    auth=auth,
                    redis=topo.redis,
                )
            elif plan.scaler == "hpa":
                HorizontalAutoscaler(
                    self,
                    f"WorkerAutoscaler-{pool.name}",
                    namespace=site.namespace,
                    target=workers,
                    min_replicas=max(pool.min_replicas, 1),
                    max_replicas=pool.max_replicas,
                    scale_down=pool.scale_down,
                )

    def _platform(self) -> None:
        """What watches and fences the workloads: VPAs, monitoring and the NetworkPolicies."""
        topo, ns = self.topo, self.site.namespace
        if topo.vpa:
            for target in self.workloads:
                RecommendationOnlyVpa(self, f"Vpa-{target.name}", namespace=ns, target=target)
        scraped = [w for w in self.workloads if w.metrics is not None] if topo.monitoring else []
        if scraped:
            scraper = peers.namespace(self.cfg.network.monitoring_namespace)
            for w in scraped:
                assert w.metrics is not None
                self.needs.admit_pods(
                    f"{w.name}-from-monitoring", peers.of(w.identity), w.metrics.port, scraper
                )
            Monitoring(
                self,
                "Monitoring",
                observed=Observed.of(topo, self.cfg.monitoring, self.cfg.redis.memory_alert_ratio),
                owner=self.platform,
                targets=[
                    ScrapeTarget(w.identity, w.metrics.port_name, w.metrics.path)
                    for w in scraped
                    if w.metrics
                ],
                dashboards=topo.dashboards,
            )
        NetworkPolicies(
            self, "Network", namespace=ns, owner=self.platform, dns=self.cfg.cluster.dns, needs=self.needs
        )
        if topo.image_policy:
            self._image_policy()

    def _image_policy(self) -> None:
        """The cluster refuses an app image its build did not sign; the third-party images
        pass by digest only, and the platform's own (the ACME solver) by repository."""
        cfg, topo = self.cfg, self.topo
        sig = cfg.signatures
        allowed = [
            *(
                g
                for img in topo.third_party_images
                for g in image_policy.repository_globs(img.repository, digest_only=True)
            ),
            *(g for repo in sig.unsigned_repositories for g in image_policy.repository_globs(repo)),
        ]
        image_policy.ImagePolicy(
            self,
            "ImagePolicy",
            name=f"vibeyard-{topo.namespace}",
            repository=cfg.image.repository,
            signer_identity=sig.signer_identity,
            signer_issuer=sig.signer_issuer,
            unsigned_allowed=allowed,
            mode="warn" if sig.admission == "warn" else "enforce",
            labels=self.platform.labels,
        )

    def manifests(self) -> list[dict[str, Any]]:
        """The chart's objects as plain dicts (one jsii round trip), stamped with the checksums
        that roll each workload when what it reads changes, their Argo CD sync wave and,
        where configured, Reloader's annotation."""
        out: list[dict[str, Any]] = self.to_json()
        checksums.stamp(out, self.cfg.secrets.name, self.sealed)
        for obj in out:
            waves.stamp(obj)
            if self._reload and obj["kind"] in ("Deployment", "StatefulSet"):
                obj["metadata"]["annotations"] = dict(
                    sorted({**obj["metadata"].get("annotations", {}), RELOADER: self._reload}.items())
                )
        return out
