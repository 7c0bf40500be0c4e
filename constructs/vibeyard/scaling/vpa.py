"""A VerticalPodAutoscaler in recommendation-only mode (``updateMode: Off``).

The design doc wants VPA to right-size requests (its cost section). Letting VPA
*apply* them would fight the HPA over the same pods, evicting and resizing while
the HPA counts utilization against the old requests. In ``Off`` mode it only
publishes recommendations (``kubectl describe vpa``), which we fold back into the
config by hand.
"""

from __future__ import annotations

from constructs import Construct

from imports.verticalpodautoscalers.io.k8s import autoscaling as vpa

from ..kube import Workload, crd_meta


class RecommendationOnlyVpa(vpa.VerticalPodAutoscaler):
    """A VPA named after its target, in ``updateMode: Off`` (the construct is the object).

    :param namespace: the environment's namespace.
    :param target: the workload it recommends requests for.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        namespace: str,
        target: Workload,
    ) -> None:
        target_name, identity = target.name, target.identity
        super().__init__(
            scope,
            id,
            metadata=crd_meta(target_name, namespace, identity),
            spec=vpa.VerticalPodAutoscalerSpec(
                target_ref=vpa.VerticalPodAutoscalerSpecTargetRef(
                    api_version="apps/v1", kind=target.kind, name=target_name
                ),
                update_policy=vpa.VerticalPodAutoscalerSpecUpdatePolicy(
                    update_mode=vpa.VerticalPodAutoscalerSpecUpdatePolicyUpdateMode.OFF
                ),
            ),
        )
