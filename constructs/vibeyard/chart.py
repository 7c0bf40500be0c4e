"""One chart per environment, composed from the constructs.

The chart is the only place that knows which components an environment runs;
each construct only knows how to render itself well. Reading this file top to
bottom gives the whole environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cdk8s
from constructs import Construct

from . import identity
from .app_secret import AppSecret
from .app_settings import AppSettings
from .autoscaler import HorizontalAutoscaler
from .checkov_skips import skips_for
from .config.sizing import pool_is_autoscaled
from .config.types import Autoscaling, EnvConfig
from .disruption_budget import DisruptionBudget
from .identity import instance_for
from .migration_job import MigrationJob
from .namespace import Namespace
from .namespace_quota import NamespaceQuota
from .network_policies import NetworkPolicies
from .observability.monitoring import Monitoring
from .pgbouncer import PgBouncer
from .postgres import Postgres
from .queue_scaler import QueueScaler
from .redis import Redis
from .redis_trigger_auth import RedisTriggerAuth
from .vpa import RecommendationOnlyVpa
from .web_app import WebApp
from .web_ingress import WebIngress
from .worker_pool import WorkerPoolDeployment


class VibeyardChart(cdk8s.Chart):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cfg: EnvConfig,
        sealed_data: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, id, disable_resource_name_hashes=True)
        ns = cfg.namespace
        instance = instance_for(ns)
        version = cfg.image.tag
        platform = identity.of(identity.PLATFORM, instance)
        vpa_targets: list[tuple[str, str, identity.Identity]] = []

        Namespace(self, "Namespace", name=ns, identity=platform)
        NamespaceQuota(self, "Quota", cfg=cfg, identity=platform)
        NetworkPolicies(self, "Network", cfg=cfg)
        AppSecret(self, "Secret", cfg=cfg, identity=platform, sealed_data=sealed_data)
        settings = AppSettings(self, "Settings", cfg=cfg, identity=platform)

        # Data tier: in-cluster stores only where the environment has no managed service.
        if cfg.postgres.mode == "in-cluster":
            pg_id = identity.of(identity.POSTGRES, instance, cfg.postgres.image.tag)
            Postgres(self, "Postgres", cfg=cfg, identity=pg_id)
            vpa_targets.append(("StatefulSet", "postgres", pg_id))
        if cfg.redis.mode == "in-cluster":
            redis_id = identity.of(identity.REDIS, instance, cfg.redis.image.tag)
            Redis(self, "Redis", cfg=cfg, identity=redis_id)
            vpa_targets.append(("StatefulSet", "redis", redis_id))
        if cfg.pgbouncer.enabled:
            pgb_id = identity.of(identity.PGBOUNCER, instance, cfg.pgbouncer.image.tag)
            pgb = PgBouncer(self, "PgBouncer", cfg=cfg, identity=pgb_id)
            DisruptionBudget(self, "PgBouncerBudget", name=pgb.name, namespace=ns, identity=pgb_id)
            vpa_targets.append(("Deployment", pgb.name, pgb_id))
        if cfg.migration.enabled:
            MigrationJob(
                self, "Migration", cfg=cfg, identity=identity.of(identity.MIGRATION, instance, version)
            )

        # Web tier.
        web_id = identity.of(identity.WEB, instance, version)
        web = WebApp(self, "Web", cfg=cfg, identity=web_id, config_checksum=settings.checksum)
        WebIngress(
            self,
            "Ingress",
            namespace=ns,
            identity=web_id,
            ingress=cfg.ingress,
            service=web.name,
            port_name=web.port_name,
        )
        DisruptionBudget(
            self,
            "WebBudget",
            name=web.name,
            namespace=ns,
            identity=web_id,
            max_unavailable=cfg.web.disruption.max_unavailable,
        )
        if cfg.web.autoscaling.enabled:
            HorizontalAutoscaler(
                self,
                "WebAutoscaler",
                name=web.name,
                namespace=ns,
                identity=web_id,
                deployment=web.name,
                autoscaling=cfg.web.autoscaling,
            )
        vpa_targets.append(("Deployment", web.name, web_id))

        # Workers: one pool per job type, scaled on queue depth where KEDA runs.
        auth = RedisTriggerAuth(self, "QueueAuth", cfg=cfg, identity=platform) if cfg.keda.enabled else None
        for pool in cfg.workers:
            pool_id = identity.worker(pool.name, instance, version)
            scaled = pool_is_autoscaled(cfg, pool)
            workers = WorkerPoolDeployment(
                self,
                f"Worker-{pool.name}",
                cfg=cfg,
                pool=pool,
                identity=pool_id,
                autoscaled=scaled,
                config_checksum=settings.checksum,
            )
            DisruptionBudget(
                self, f"WorkerBudget-{pool.name}", name=workers.name, namespace=ns, identity=pool_id
            )
            if auth is not None:
                QueueScaler(
                    self,
                    f"QueueScaler-{pool.name}",
                    cfg=cfg,
                    pool=pool,
                    identity=pool_id,
                    deployment=workers.name,
                    auth_name=auth.name,
                )
            elif scaled:
                HorizontalAutoscaler(
                    self,
                    f"WorkerAutoscaler-{pool.name}",
                    name=workers.name,
                    namespace=ns,
                    identity=pool_id,
                    deployment=workers.name,
                    autoscaling=Autoscaling(
                        enabled=True,
                        min_replicas=max(pool.min_replicas, 1),
                        max_replicas=pool.max_replicas,
                        memory_utilization=None,
                    ),
                )
            vpa_targets.append(("Deployment", workers.name, pool_id))

        if cfg.vpa_enabled:
            for kind, name, target_id in vpa_targets:
                RecommendationOnlyVpa(
                    self, f"Vpa-{name}", namespace=ns, identity=target_id, target_kind=kind, target_name=name
                )

        if cfg.monitoring.enabled:
            Monitoring(self, "Monitoring", cfg=cfg, instance=instance, version=version)

        self.cfg = cfg

    def manifests(self) -> list[dict[str, Any]]:
        """The chart's objects, with each reasoned checkov skip as an annotation.

        Applied to the rendered dicts rather than through jsii: one round trip for
        the whole chart instead of two per object.
        """
        out: list[dict[str, Any]] = self.to_json()
        for obj in out:
            meta = obj["metadata"]
            skips = skips_for(obj["kind"], meta["name"], self.cfg)
            if skips:
                notes = {**meta.get("annotations", {})}
                notes.update(
                    {f"checkov.io/skip{i}": f"{c}={why}" for i, (c, why) in enumerate(skips, start=1)}
                )
                meta["annotations"] = dict(sorted(notes.items()))
                obj["metadata"] = dict(sorted(meta.items()))
        return out
