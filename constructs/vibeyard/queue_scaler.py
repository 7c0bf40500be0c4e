"""Queue-depth autoscaling for one worker pool, with a KEDA ScaledObject.

CPU is a poor signal for workers that mostly wait on OpenAI and GitHub APIs; the
backlog is the real one. BullMQ keeps waiting jobs in the list ``bull:<q>:wait``
and prioritized ones in the sorted set ``bull:<q>:prioritized`` (KEDA's redis
scaler measures either), so each consumed queue adds a trigger and KEDA scales
on the largest. Scale-down is damped like the web HPA's, and the minimum stays
at least one by default: delayed jobs are only promoted by a running worker.
"""

from __future__ import annotations

from constructs import Construct

from imports.sh import keda

from .config.types import EnvConfig, WorkerPool
from .identity import Identity
from .kube import crd_meta
from .redis import NAME as REDIS_SERVICE
from .redis import PORT as REDIS_PORT


def queue_keys(pool: WorkerPool) -> list[str]:
    keys = []
    for queue in pool.queues:
        keys.append(f"bull:{queue}:wait")
        if pool.prioritized:
            keys.append(f"bull:{queue}:prioritized")
    return keys


class QueueScaler(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cfg: EnvConfig,
        pool: WorkerPool,
        identity: Identity,
        deployment: str,
        auth_name: str,
    ) -> None:
        super().__init__(scope, id)
        metadata: dict[str, str] = {"databaseIndex": "0", "listLength": str(pool.queue_list_length)}
        if cfg.redis.mode == "in-cluster":
            metadata["address"] = f"{REDIS_SERVICE}.{cfg.namespace}.svc.cluster.local:{REDIS_PORT}"
        triggers = [
            keda.ScaledObjectSpecTriggers(
                type="redis",
                name=key.replace(":", "-"),
                metadata={**metadata, "listName": key},
                authentication_ref=keda.ScaledObjectSpecTriggersAuthenticationRef(name=auth_name),
            )
            for key in queue_keys(pool)
        ]
        keda.ScaledObject(
            self,
            "Resource",
            metadata=crd_meta(deployment, cfg.namespace, identity),
            spec=keda.ScaledObjectSpec(
                scale_target_ref=keda.ScaledObjectSpecScaleTargetRef(
                    api_version="apps/v1", kind="Deployment", name=deployment
                ),
                min_replica_count=pool.min_replicas,
                max_replica_count=pool.max_replicas,
                polling_interval=cfg.keda.polling_interval_seconds,
                cooldown_period=cfg.keda.cooldown_period_seconds,
                advanced=keda.ScaledObjectSpecAdvanced(
                    horizontal_pod_autoscaler_config=keda.ScaledObjectSpecAdvancedHorizontalPodAutoscalerConfig(
                        behavior=keda.ScaledObjectSpecAdvancedHorizontalPodAutoscalerConfigBehavior(
                            scale_down=keda.ScaledObjectSpecAdvancedHorizontalPodAutoscalerConfigBehaviorScaleDown(
                                stabilization_window_seconds=300,
                                policies=[
                                    keda.ScaledObjectSpecAdvancedHorizontalPodAutoscalerConfigBehaviorScaleDownPolicies(
                                        type="Percent", value=50, period_seconds=60
                                    )
                                ],
                            )
                        )
                    )
                ),
                triggers=triggers,
            ),
        )
