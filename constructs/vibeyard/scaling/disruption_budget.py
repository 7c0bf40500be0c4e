"""A PodDisruptionBudget expressed as ``maxUnavailable``.

``maxUnavailable >= 1`` always lets a drain evict a pod, even at the minimum
replica count; ``minAvailable`` equal to the replica count would block node
upgrades forever. Config validation rejects 0.
"""

from __future__ import annotations

from cdk8s_plus_28 import k8s
from constructs import Construct

from ..kube import Workload, int_or_str, label_selector, meta


class DisruptionBudget(Construct):
    """A PDB named after its workload.

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
        super().__init__(scope, id)
        name, identity = target.name, target.identity
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
