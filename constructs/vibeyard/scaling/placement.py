"""Node placement from config: spot preferred, never required.

A *required* spot affinity leaves pods Pending when the spot pool is reclaimed;
a *preferred* one with a weight keeps the cost saving and the availability. The
label to prefer and the taint to tolerate are the ones the cluster's provider
(Karpenter, EKS, GKE, AKS) actually sets, from ``cluster.provider``.
"""

from __future__ import annotations

from cdk8s_plus_28 import k8s

from ..config.platform import SpotNodes
from ..config.types import Placement
from ..identity import Identity


def node_selector(placement: Placement) -> dict[str, str] | None:
    return dict(placement.node_selector) or None


def tolerations(placement: Placement, spot: SpotNodes | None) -> list[k8s.Toleration] | None:
    out = [
        k8s.Toleration(key=t.key, operator=t.operator, value=t.value, effect=t.effect)
        for t in placement.tolerations
    ]
    if placement.prefer_spot and spot is not None and spot.taint_key is not None:
        out.append(
            k8s.Toleration(key=spot.taint_key, operator="Equal", value=spot.label_value, effect="NoSchedule")
        )
    return out or None


def affinity(placement: Placement, spot: SpotNodes | None) -> k8s.Affinity | None:
    if not placement.prefer_spot:
        return None
    if spot is None:
        raise ValueError("a placement that prefers spot needs the provider's spot nodes")
    term = k8s.NodeSelectorTerm(
        match_expressions=[
            k8s.NodeSelectorRequirement(key=spot.label_key, operator="In", values=[spot.label_value])
        ]
    )
    return k8s.Affinity(
        node_affinity=k8s.NodeAffinity(
            preferred_during_scheduling_ignored_during_execution=[
                k8s.PreferredSchedulingTerm(weight=placement.spot_weight, preference=term)
            ]
        )
    )


def spread(identity: Identity, *, one_per_node: bool = False) -> list[k8s.TopologySpreadConstraint]:
    """Replicas spread over zones and nodes. Soft by default, so a single-zone or small
    cluster still schedules every pod; ``one_per_node`` makes the node spread hard, for a
    pooler whose replicas exist only to survive a node (it still schedules on one node,
    which is then the only domain)."""
    selector = k8s.LabelSelector(match_labels=identity.selector)
    return [
        k8s.TopologySpreadConstraint(
            topology_key=key,
            max_skew=1,
            when_unsatisfiable="DoNotSchedule" if hard else "ScheduleAnyway",
            label_selector=selector,
        )
        for key, hard in (("topology.kubernetes.io/zone", False), ("kubernetes.io/hostname", one_per_node))
    ]
