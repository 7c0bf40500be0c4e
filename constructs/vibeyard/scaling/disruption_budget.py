"""A PodDisruptionBudget expressed as ``maxUnavailable``.

``maxUnavailable >= 1`` always lets a drain evict a pod, even at the minimum
replica count; ``minAvailable`` equal to the replica count would block node
upgrades forever. Config validation rejects 0.
"""

from __future__ import annotations

from cdk8s_plus_28 import k8s
from constructs import Construct

from ..kube import Workload, int_or_str, label_selector, meta


class DisruptionBudget(k8s.KubePodDisruptionBudget):
    """A PDB named after its workload (the construct is the object: one jsii object, not two).

    :param namespace: the environment's namespace.
    :param target: the workload whose pods it protects.
    :param max_unavailable: pods a drain may evict at once. Default 1.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        namespace: str,
        target: Workload,
        max_unavailable: int = 1,
    ) -> None:
        name, identity = target.name, target.identity
        super().__init__(
            scope,
            id,
            metadata=meta(name, namespace, identity),
            spec=k8s.PodDisruptionBudgetSpec(
                max_unavailable=int_or_str(max_unavailable),
                selector=label_selector(identity),
                unhealthy_pod_eviction_policy="AlwaysAllow",
            ),
        )
