"""A PodDisruptionBudget expressed as ``maxUnavailable``.

``maxUnavailable >= 1`` always lets a drain evict a pod, even at the minimum
replica count; ``minAvailable`` equal to the replica count would block node
upgrades forever. Config validation rejects 0.
"""

from __future__ import annotations

from cdk8s_plus_28 import k8s
from constructs import Construct

from .identity import Identity
from .kube import int_or_str, label_selector, meta


class DisruptionBudget(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        namespace: str,
        identity: Identity,
        max_unavailable: int = 1,
    ) -> None:
        super().__init__(scope, id)
        k8s.KubePodDisruptionBudget(
            self,
            "Resource",
            metadata=meta(name, namespace, identity),
            spec=k8s.PodDisruptionBudgetSpec(
                max_unavailable=int_or_str(max_unavailable),
                selector=label_selector(identity),
                unhealthy_pod_eviction_policy="AlwaysAllow",
            ),
        )
