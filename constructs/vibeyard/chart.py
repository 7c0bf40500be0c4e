"""One chart per environment, composed from the constructs.

What the environment runs was decided once, in ``config/topology.py``; this
file only composes: it creates each construct the topology asks for and hands
constructs to each other by reference (a Service's name and port, a workload's
identity), the way cdk8s-plus passes objects rather than strings. Reading it top
to bottom gives the whole environment.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import cdk8s
from constructs import Construct

from . import identity
from .app.environment import AppEnvironment, Database
from .app.migration import MigrationJob
from .app.secret import AppSecret
from .app.settings import AppSettings
from .config.topology import Topology
from .config.types import Autoscaling, EnvConfig
from .gitops import waves
from .kube import Workload
from .network import peers
from .network.policies import NetworkPolicies
from .observability.monitoring import Monitoring, ScrapeTarget
from .observability.subject import Observed
from .pod import RunAs
from .scaling.autoscaler import HorizontalAutoscaler
from .scaling.disruption_budget import DisruptionBudget
from .scaling.queue_scaler import QueueScaler
from .scaling.trigger_auth import RedisTriggerAuth
from .scaling.vpa import RecommendationOnlyVpa
from .stores import exporter
from .stores.pgbouncer import PgBouncer
from .stores.postgres import Postgres
from .stores.redis import Redis
from .stores.redis_cache import RedisCache
from .tenancy.namespace import Namespace
from .tenancy.quota import NamespaceQuota
from .web.ingress import WebIngress
from .web.web_app import WebApp
from .workers.worker_pool import WorkerPoolDeployment

METRICS_PATH = "/metrics"
RELOADER = "secret.reloader.stakater.com/reload"


def _checksum(data: Mapping[str, str]) -> str:
    return hashlib.sha256(json.dumps(dict(data), sort_keys=True).encode()).hexdigest()


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
        pulls = cfg.image_pull_secrets
        ex = cfg.monitoring.exporters
        vpa_targets: list[tuple[str, Workload]] = []
        scraped: list[tuple[Workload, str, int]] = []  # workload, port name, port

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
        # A rendered Secret's content rolls every pod that reads it; others rely on Reloader.
        secret_sum = {"secret": _checksum(sealed_data)} if sealed_data else {}
        self._reload = secret.name if cfg.secrets.reloader else None
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

        # Data tier: only what the environment runs itself, each with its exporter where it is scraped.
        postgres = redis = cache = pgbouncer = None
        if topo.postgres is not None:
            pg = cfg.postgres
            postgres = Postgres(
                self,
                "Postgres",
                namespace=ns,
                identity=identity.of(identity.POSTGRES, instance, pg.image.tag),
                postgres=pg,
                secret=secret.name,
                exporter=exporter.postgres_exporter(
                    ex.postgres,
                    ex.resources,
                    postgres_port=pg.port,
                    user=pg.user,
                    database=pg.database,
                    secret=secret.name,
                )
                if topo.exporters
                else None,
                checksums=secret_sum,
                pull_secrets=pulls,
            )
            vpa_targets.append(("StatefulSet", postgres))
        if topo.redis is not None and topo.cache is not None:
            redis = Redis(
                self,
                "Redis",
                namespace=ns,
                identity=identity.of(identity.REDIS, instance, cfg.redis.image.tag),
                redis=cfg.redis,
                secret=secret.name,
                exporter=exporter.redis_exporter(
                    ex.redis, ex.resources, redis_port=cfg.redis.port, secret=secret.name
                )
                if topo.exporters
                else None,
                checksums=secret_sum,
                pull_secrets=pulls,
            )
            cache = RedisCache(
                self,
                "Cache",
                namespace=ns,
                identity=identity.of(identity.CACHE, instance, cfg.redis.image.tag),
                cache=cfg.cache,
                image=cfg.redis.image,
                run_as=RunAs(cfg.redis.uid, cfg.redis.gid),
                secret=secret.name,
                exporter=exporter.redis_exporter(
                    ex.redis, ex.resources, redis_port=cfg.cache.port, secret=secret.name
                )
                if topo.exporters
                else None,
                checksums=secret_sum,
                pull_secrets=pulls,
            )
            DisruptionBudget(self, "CacheBudget", namespace=ns, target=cache)
            vpa_targets += [("StatefulSet", redis), ("Deployment", cache)]
        if topo.pgbouncer is not None:
            server = (topo.postgres.host, topo.postgres.port) if topo.postgres else topo.managed_database
            assert server is not None, "validation requires postgres.host for a managed database"
            pgbouncer = PgBouncer(
                self,
                "PgBouncer",
                namespace=ns,
                identity=identity.of(identity.PGBOUNCER, instance, cfg.pgbouncer.image.tag),
                pgbouncer=cfg.pgbouncer,
                server_host=server[0],
                server_port=server[1],
                database=cfg.postgres.database,
                user=cfg.postgres.user,
                secret=secret.name,
                exporter=exporter.pgbouncer_exporter(
                    ex.pgbouncer,
                    ex.resources,
                    pgbouncer_port=cfg.pgbouncer.port,
                    user=cfg.postgres.user,
                    secret=secret.name,
                )
                if topo.exporters
                else None,
                checksums=secret_sum,
                pull_secrets=pulls,
            )
            DisruptionBudget(self, "PgBouncerBudget", namespace=ns, target=pgbouncer)
            vpa_targets.append(("Deployment", pgbouncer))
        for store in (redis, cache, postgres, pgbouncer):
            if store is not None and store.metrics_port is not None:
                scraped.append((store, exporter.PORT_NAME, store.metrics_port))

        environment = AppEnvironment(
            settings=settings.name,
            secret=secret.name,
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
        checksums = {"config": settings.checksum, **secret_sum}
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
                pull_secrets=pulls,
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
            spot=topo.spot,
            pull_secrets=pulls,
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
        scraped.append((web, web.port_name, web.port))

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
                grace_seconds=plan.grace_seconds,
                environment=environment,
                checksums=checksums,
                spot=topo.spot,
                pull_secrets=pulls,
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
                        scale_down_stabilization_seconds=pool.scale_down_stabilization_seconds,
                        scale_down_max_percent=pool.scale_down_max_percent,
                        scale_down_period_seconds=pool.scale_down_period_seconds,
                    ),
                )
            vpa_targets.append(("Deployment", workers))
            if pool.metrics_port is not None:
                scraped.append((workers, workers.metrics_port_name, pool.metrics_port))

        if topo.vpa:
            for kind, target in vpa_targets:
                RecommendationOnlyVpa(
                    self, f"Vpa-{target.name}", namespace=ns, target=target, target_kind=kind
                )

        NetworkPolicies(
            self,
            "Network",
            namespace=ns,
            owner=platform,
            network=cfg.network,
            dns=cfg.cluster.dns,
            app=peers.app(instance),
            web=web,
            postgres=postgres,
            pgbouncer=pgbouncer,
            redis=redis,
            cache=cache,
            migration=migration.identity if migration is not None else None,
            redis_readers=[peers.namespace(cfg.keda.namespace, cfg.keda.operator_labels)]
            if topo.queue_scaling
            else [],
            scraped=[(w.identity, port) for w, _, port in scraped] if topo.monitoring else [],
            acme_solver=topo.acme_solver,
        )

        if topo.monitoring:
            Monitoring(
                self,
                "Monitoring",
                observed=Observed.of(topo, cfg.monitoring, cfg.redis.memory_alert_ratio),
                owner=platform,
                targets=[
                    ScrapeTarget(w.identity, port_name, cfg.web.metrics_path if w is web else METRICS_PATH)
                    for w, port_name, _ in scraped
                ],
                dashboards=topo.dashboards,
            )

    def manifests(self) -> list[dict[str, Any]]:
        """The chart's objects as plain dicts (one jsii round trip), stamped with their
        Argo CD sync wave and, where configured, Reloader's annotation."""
        out: list[dict[str, Any]] = self.to_json()
        for obj in out:
            waves.stamp(obj)
            if self._reload and obj["kind"] in ("Deployment", "StatefulSet"):
                obj["metadata"]["annotations"] = dict(
                    sorted({**obj["metadata"].get("annotations", {}), RELOADER: self._reload}.items())
                )
        return out
