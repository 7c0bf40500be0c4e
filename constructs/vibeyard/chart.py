"""One chart per environment, composed from the constructs.

What the environment runs was decided once, in ``config/topology.py``; this
file only composes: it creates each construct the topology asks for and hands
constructs to each other by reference (a Service's name and port, a workload's
identity), the way cdk8s-plus passes objects rather than strings. Reading it top
to bottom gives the whole environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cdk8s
from constructs import Construct

from . import identity
from .app.environment import AppEnvironment
from .app.migration import MigrationJob
from .app.secret import AppSecret
from .app.settings import AppSettings
from .config.topology import Topology
from .config.types import Autoscaling, EnvConfig
from .kube import Workload
from .network import peers
from .network.policies import NetworkPolicies
from .observability.monitoring import Monitoring, ScrapeTarget
from .observability.subject import Observed
from .scaling.autoscaler import HorizontalAutoscaler
from .scaling.disruption_budget import DisruptionBudget
from .scaling.queue_scaler import QueueScaler
from .scaling.trigger_auth import RedisTriggerAuth
from .scaling.vpa import RecommendationOnlyVpa
from .stores.pgbouncer import PgBouncer
from .stores.postgres import Postgres
from .stores.redis import Redis
from .tenancy.namespace import Namespace
from .tenancy.quota import NamespaceQuota
from .web.ingress import WebIngress
from .web.web_app import WebApp
from .workers.worker_pool import WorkerPoolDeployment

WORKER_METRICS_PATH = "/metrics"


class VibeyardChart(cdk8s.Chart):
    """
    :param cfg: the environment's validated config.
    :param sealed_data: the checked ``encryptedData`` when the Secret is sealed. Default none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cfg: EnvConfig,
        sealed_data: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, id, disable_resource_name_hashes=True)
        topo = Topology.of(cfg)
        ns, instance, version = topo.namespace, topo.instance, cfg.image.tag
        platform = identity.of(identity.PLATFORM, instance)
        vpa_targets: list[tuple[str, Workload]] = []

        Namespace(self, "Namespace", name=ns, identity=platform)
        NamespaceQuota(self, "Quota", namespace=ns, identity=platform, quota=cfg.quota)
        secret = AppSecret(
            self,
            "Secret",
            secrets=cfg.secrets,
            namespace=ns,
            environment=topo.env,
            identity=platform,
            keys=topo.secret_keys,
            sealed_data=sealed_data,
        )
        settings = AppSettings(
            self,
            "Settings",
            namespace=ns,
            identity=platform,
            environment=topo.env,
            app_url=cfg.app_url,
            port=cfg.web.port,
            log_level=cfg.log_level,
            node_env=cfg.node_env,
            sentry=topo.sentry,
            extra=cfg.extra_env,
        )

        # Data tier: only what the environment runs itself.
        postgres = redis = pgbouncer = None
        if topo.postgres is not None:
            postgres = Postgres(
                self,
                "Postgres",
                namespace=ns,
                identity=identity.of(identity.POSTGRES, instance, cfg.postgres.image.tag),
                postgres=cfg.postgres,
                secret=secret.name,
            )
            vpa_targets.append(("StatefulSet", postgres))
        if topo.redis is not None:
            redis = Redis(
                self,
                "Redis",
                namespace=ns,
                identity=identity.of(identity.REDIS, instance, cfg.redis.image.tag),
                redis=cfg.redis,
                secret=secret.name,
            )
            vpa_targets.append(("StatefulSet", redis))
        if topo.pgbouncer is not None:
            pgbouncer = PgBouncer(
                self,
                "PgBouncer",
                namespace=ns,
                identity=identity.of(identity.PGBOUNCER, instance, cfg.pgbouncer.image.tag),
                pgbouncer=cfg.pgbouncer,
                secret=secret.name,
            )
            DisruptionBudget(self, "PgBouncerBudget", namespace=ns, target=pgbouncer)
            vpa_targets.append(("Deployment", pgbouncer))

        environment = AppEnvironment(
            settings=settings.name,
            secret=secret.name,
            sentry=topo.sentry,
            read_replica=topo.read_replica,
            pooler=topo.database_host,
            redis=topo.redis,
        )
        checksums = {"config": settings.checksum}
        migration = None
        if topo.migration:
            migration = MigrationJob(
                self,
                "Migration",
                namespace=ns,
                identity=identity.of(identity.MIGRATION, instance, version),
                image=cfg.image,
                migration=cfg.migration,
                resources=cfg.web.resources,
                environment=environment,
            )

        # Web tier.
        web = WebApp(
            self,
            "Web",
            namespace=ns,
            identity=identity.of(identity.WEB, instance, version),
            image=cfg.image,
            web=cfg.web,
            autoscaled=topo.web_scaler == "hpa",
            environment=environment,
            checksums=checksums,
        )
        WebIngress(self, "Ingress", namespace=ns, ingress=cfg.ingress, backend=web)
        DisruptionBudget(
            self, "WebBudget", namespace=ns, target=web, max_unavailable=cfg.web.disruption.max_unavailable
        )
        if topo.web_scaler == "hpa":
            HorizontalAutoscaler(
                self, "WebAutoscaler", namespace=ns, target=web, autoscaling=cfg.web.autoscaling
            )
        vpa_targets.append(("Deployment", web))

        # Workers: one pool per job type, each with the autoscaler the topology chose.
        auth = None
        if topo.queue_scaling:
            auth = RedisTriggerAuth(
                self,
                "QueueAuth",
                namespace=ns,
                identity=platform,
                secret=secret.name,
                address_in_secret=topo.redis is None,
            )
        pools = []
        for plan in topo.pools:
            pool = plan.pool
            workers = WorkerPoolDeployment(
                self,
                f"Worker-{pool.name}",
                namespace=ns,
                identity=identity.worker(pool.name, instance, version),
                image=cfg.image,
                pool=pool,
                autoscaled=plan.autoscaled,
                environment=environment,
                checksums=checksums,
            )
            pools.append(workers)
            DisruptionBudget(self, f"WorkerBudget-{pool.name}", namespace=ns, target=workers)
            if plan.scaler == "keda" and auth is not None:
                QueueScaler(
                    self,
                    f"QueueScaler-{pool.name}",
                    namespace=ns,
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
                    namespace=ns,
                    target=workers,
                    autoscaling=Autoscaling(
                        enabled=True,
                        min_replicas=max(pool.min_replicas, 1),
                        max_replicas=pool.max_replicas,
                        memory_utilization=None,
                    ),
                )
            vpa_targets.append(("Deployment", workers))

        if topo.vpa:
            for kind, target in vpa_targets:
                RecommendationOnlyVpa(
                    self, f"Vpa-{target.name}", namespace=ns, target=target, target_kind=kind
                )

        scraped = [w for w in pools if w.metrics_port is not None] if topo.monitoring else []
        NetworkPolicies(
            self,
            "Network",
            namespace=ns,
            owner=platform,
            network=cfg.network,
            app=peers.app(instance),
            web=web,
            postgres=postgres,
            pgbouncer=pgbouncer,
            redis=redis,
            migration=migration.identity if migration is not None else None,
            redis_readers=[peers.namespace(peers.KEDA_NAMESPACE, peers.KEDA_OPERATOR_LABELS)]
            if topo.queue_scaling
            else [],
            scraped=[(web.identity, web.port), *((w.identity, w.metrics_port or 0) for w in scraped)]
            if topo.monitoring
            else [],
            acme_solver=topo.acme_solver,
        )

        if topo.monitoring:
            Monitoring(
                self,
                "Monitoring",
                observed=Observed.of(topo, cfg.monitoring),
                owner=platform,
                targets=[
                    ScrapeTarget(web.identity, web.port_name, cfg.web.metrics_path),
                    *(ScrapeTarget(w.identity, w.metrics_port_name, WORKER_METRICS_PATH) for w in scraped),
                ],
                dashboards=topo.dashboards,
            )

    def manifests(self) -> list[dict[str, Any]]:
        """The chart's objects as plain dicts, in one jsii round trip."""
        out: list[dict[str, Any]] = self.to_json()
        return out
