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

from imports.sh import keda as keda_

from ..config.topology import ServiceAddress
from ..config.types import KedaConfig, WorkerPool
from ..kube import Workload, crd_meta
from .trigger_auth import RedisTriggerAuth


def queue_keys(pool: WorkerPool) -> list[str]:
    keys = []
    for queue in pool.queues:
        keys.append(f"bull:{queue}:wait")
        if pool.prioritized:
            keys.append(f"bull:{queue}:prioritized")
    return keys


class QueueScaler(Construct):
    """ScaledObject named after the pool's Deployment.

    :param namespace: the environment's namespace.
    :param target: the pool's Deployment.
    :param pool: queues, bounds and the backlog per replica.
    :param keda: polling interval and cooldown.
    :param auth: the TriggerAuthentication with the Redis password.
    :param redis: the in-cluster Redis Service; None when the address is in the Secret.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        namespace: str,
        target: Workload,
        pool: WorkerPool,
        keda: KedaConfig,
        auth: RedisTriggerAuth,
        redis: ServiceAddress | None,
    ) -> None:
        super().__init__(scope, id)
        metadata: dict[str, str] = {"databaseIndex": "0", "listLength": str(pool.queue_list_length)}
        if redis is not None:
            metadata["address"] = f"{redis.fqdn}:{redis.port}"
        triggers = [
            keda_.ScaledObjectSpecTriggers(
                type="redis",
                name=key.replace(":", "-"),
                metadata={**metadata, "listName": key},
                authentication_ref=keda_.ScaledObjectSpecTriggersAuthenticationRef(name=auth.name),
            )
            for key in queue_keys(pool)
        ]
        behavior = keda_.ScaledObjectSpecAdvancedHorizontalPodAutoscalerConfigBehavior
        keda_.ScaledObject(
            self,
            "Resource",
            metadata=crd_meta(target.name, namespace, target.identity),
            spec=keda_.ScaledObjectSpec(
                scale_target_ref=keda_.ScaledObjectSpecScaleTargetRef(
                    api_version="apps/v1", kind="Deployment", name=target.name
                ),
                min_replica_count=pool.min_replicas,
                max_replica_count=pool.max_replicas,
                polling_interval=keda.polling_interval_seconds,
                cooldown_period=keda.cooldown_period_seconds,
                advanced=keda_.ScaledObjectSpecAdvanced(
                    horizontal_pod_autoscaler_config=keda_.ScaledObjectSpecAdvancedHorizontalPodAutoscalerConfig(
                        behavior=behavior(
                            scale_down=keda_.ScaledObjectSpecAdvancedHorizontalPodAutoscalerConfigBehaviorScaleDown(
                                stabilization_window_seconds=300,
                                policies=[
                                    keda_.ScaledObjectSpecAdvancedHorizontalPodAutoscalerConfigBehaviorScaleDownPolicies(
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
