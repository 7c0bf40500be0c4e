"""Queue-depth autoscaling for one worker pool, with a KEDA ScaledObject.

CPU is a poor signal for workers that mostly wait on OpenAI and GitHub APIs; the
backlog is the real one. BullMQ keeps waiting jobs in the list ``bull:<q>:wait``
and prioritized ones in the sorted set ``bull:<q>:prioritized``; KEDA's redis
scaler counts either (LLEN or ZCARD), one trigger per key, and the HPA follows
the largest. The jobs in flight are in the list ``bull:<q>:active``: a trigger on
it with the pool's concurrency as the per-replica target keeps as many replicas
as the running jobs need, so the backlog draining does not scale in pods that
are mid-job. A pod that is scaled in anyway finishes its jobs: the grace period
covers the pool's longest job. Scale-down damping is the pool's config.
"""

from __future__ import annotations

from constructs import Construct

from imports.scaledobjects.sh import keda as keda_

from ..config.topology import ServiceAddress
from ..config.types import KedaConfig, WorkerPool
from ..kube import Workload, crd_meta
from .trigger_auth import RedisTriggerAuth


def queue_keys(pool: WorkerPool) -> list[tuple[str, int]]:
    """Every Redis key a trigger reads, with the count one replica should take on."""
    keys = []
    for queue in pool.queues:
        keys.append((f"bull:{queue}:wait", pool.queue_list_length))
        if pool.prioritized:
            keys.append((f"bull:{queue}:prioritized", pool.queue_list_length))
        keys.append((f"bull:{queue}:active", pool.concurrency))
    return keys


class QueueScaler(keda_.ScaledObject):
    """ScaledObject named after the pool's Deployment.

    :param namespace: the environment's namespace.
    :param target: the pool's Deployment.
    :param pool: queues, bounds, the backlog per replica, concurrency and scale-down damping.
    :param keda: polling interval and cooldown (to zero only).
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
        metadata: dict[str, str] = {"databaseIndex": "0"}
        if redis is not None:
            metadata["address"] = f"{redis.fqdn}:{redis.port}"
        triggers = [
            keda_.ScaledObjectSpecTriggers(
                type="redis",
                name=key.replace(":", "-"),
                metadata={**metadata, "listName": key, "listLength": str(per_replica)},
                authentication_ref=keda_.ScaledObjectSpecTriggersAuthenticationRef(name=auth.name),
            )
            for key, per_replica in queue_keys(pool)
        ]
        behavior = keda_.ScaledObjectSpecAdvancedHorizontalPodAutoscalerConfigBehavior
        super().__init__(
            scope,
            id,
            metadata=crd_meta(target.name, namespace, target.identity),
            spec=keda_.ScaledObjectSpec(
                scale_target_ref=keda_.ScaledObjectSpecScaleTargetRef(
                    api_version="apps/v1", kind=target.kind, name=target.name
                ),
                min_replica_count=pool.min_replicas,
                max_replica_count=pool.max_replicas,
                polling_interval=keda.polling_interval_seconds,
                cooldown_period=keda.cooldown_period_seconds,
                advanced=keda_.ScaledObjectSpecAdvanced(
                    horizontal_pod_autoscaler_config=keda_.ScaledObjectSpecAdvancedHorizontalPodAutoscalerConfig(
                        behavior=behavior(
                            scale_down=keda_.ScaledObjectSpecAdvancedHorizontalPodAutoscalerConfigBehaviorScaleDown(
                                stabilization_window_seconds=pool.scale_down.stabilization_seconds,
                                policies=[
                                    keda_.ScaledObjectSpecAdvancedHorizontalPodAutoscalerConfigBehaviorScaleDownPolicies(
                                        type="Percent",
                                        value=pool.scale_down.max_percent,
                                        period_seconds=pool.scale_down.period_seconds,
                                    )
                                ],
                            )
                        )
                    )
                ),
                triggers=triggers,
            ),
        )
