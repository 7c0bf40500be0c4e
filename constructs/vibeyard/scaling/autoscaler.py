"""An ``autoscaling/v2`` HorizontalPodAutoscaler with damped scale-down.

Scale-up stays fast (the default policy), but scale-down waits for a
stabilization window and removes at most a bounded share of pods per period,
so a short traffic dip does not tear down capacity that is needed a minute later.
"""

from __future__ import annotations

from cdk8s_plus_28 import k8s
from constructs import Construct

from ..config.types import ScaleDown
from ..kube import Workload, meta


def _utilization(resource: str, percent: int) -> k8s.MetricSpecV2:
    return k8s.MetricSpecV2(
        type="Resource",
        resource=k8s.ResourceMetricSourceV2(
            name=resource,
            target=k8s.MetricTargetV2(type="Utilization", average_utilization=percent),
        ),
    )


class HorizontalAutoscaler(k8s.KubeHorizontalPodAutoscalerV2):
    """An HPA named after its Deployment.

    :param namespace: the environment's namespace.
    :param target: the Deployment it scales.
    :param min_replicas: the fewest pods.
    :param max_replicas: the most pods.
    :param scale_down: scale-in damping.
    :param cpu_utilization: target average CPU, % of requests. Default 70.
    :param memory_utilization: target average memory, % of requests; None: CPU only. Default none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        namespace: str,
        target: Workload,
        min_replicas: int,
        max_replicas: int,
        scale_down: ScaleDown,
        cpu_utilization: int = 70,
        memory_utilization: int | None = None,
    ) -> None:
        metrics = [_utilization("cpu", cpu_utilization)]
        if memory_utilization is not None:
            metrics.append(_utilization("memory", memory_utilization))
        super().__init__(
            scope,
            id,
            metadata=meta(target.name, namespace, target.identity),
            spec=k8s.HorizontalPodAutoscalerSpecV2(
                scale_target_ref=k8s.CrossVersionObjectReferenceV2(
                    api_version="apps/v1", kind=target.kind, name=target.name
                ),
                min_replicas=min_replicas,
                max_replicas=max_replicas,
                metrics=metrics,
                behavior=k8s.HorizontalPodAutoscalerBehaviorV2(
                    scale_down=k8s.HpaScalingRulesV2(
                        stabilization_window_seconds=scale_down.stabilization_seconds,
                        select_policy="Min",
                        policies=[
                            k8s.HpaScalingPolicyV2(
                                type="Percent",
                                value=scale_down.max_percent,
                                period_seconds=scale_down.period_seconds,
                            )
                        ],
                    ),
                ),
            ),
        )
