"""ResourceQuota and LimitRange for one namespace.

The quota is a ceiling for the whole environment, sized in the config to the
peak of every autoscaler at its maximum plus a rollout surge (``config/sizing.py``
checks that at synth, a test recomputes it). A ceiling that is too low fails at
the worst moment, so the sizing is not left to guesswork.

Because the quota limits ``requests.cpu``, ``requests.memory`` and
``limits.memory``, the API server refuses any pod that does not state them. The
LimitRange supplies defaults for pods we did not write (``kubectl run`` while
debugging), so those still start, small, instead of failing admission. There is
no default CPU limit on purpose: see ``Resources`` in the config.
"""

from __future__ import annotations

from cdk8s_plus_28 import k8s
from constructs import Construct

from ..config.types import QuotaConfig
from ..identity import Identity
from ..kube import meta, quantity

QUOTA_NAME = "vibeyard-quota"
LIMITS_NAME = "vibeyard-limits"
DEFAULT_CPU_REQUEST = "50m"
DEFAULT_MEMORY_REQUEST = "64Mi"
DEFAULT_MEMORY_LIMIT = "256Mi"


def _q(value: str | int) -> k8s.Quantity:
    return k8s.Quantity.from_number(value) if isinstance(value, int) else quantity(value)


class NamespaceQuota(Construct):
    """ResourceQuota ``vibeyard-quota`` and LimitRange ``vibeyard-limits``.

    :param namespace: the environment's namespace.
    :param identity: the platform identity they are labelled with.
    :param quota: the ceilings, checked at synth against the topology's peak.
    """

    def __init__(
        self, scope: Construct, id: str, *, namespace: str, identity: Identity, quota: QuotaConfig
    ) -> None:
        super().__init__(scope, id)
        ns = namespace
        k8s.KubeResourceQuota(
            self,
            "ResourceQuota",
            metadata=meta(QUOTA_NAME, ns, identity),
            spec=k8s.ResourceQuotaSpec(
                hard={
                    "requests.cpu": _q(quota.cpu_requests),
                    "requests.memory": _q(quota.memory_requests),
                    "limits.memory": _q(quota.memory_limits),
                    "pods": _q(quota.pods),
                    "persistentvolumeclaims": _q(quota.pvcs),
                    "requests.storage": _q(quota.storage),
                }
            ),
        )
        k8s.KubeLimitRange(
            self,
            "LimitRange",
            metadata=meta(LIMITS_NAME, ns, identity),
            spec=k8s.LimitRangeSpec(
                limits=[
                    k8s.LimitRangeItem(
                        type="Container",
                        default_request={
                            "cpu": _q(DEFAULT_CPU_REQUEST),
                            "memory": _q(DEFAULT_MEMORY_REQUEST),
                        },
                        default={"memory": _q(DEFAULT_MEMORY_LIMIT)},
                    )
                ]
            ),
        )
