"""Node placement from config: spot preferred, never required.

A *required* spot affinity leaves pods Pending when the spot pool is reclaimed;
a *preferred* one with a weight keeps the cost saving and the availability.
"""

from __future__ import annotations

from cdk8s_plus_28 import k8s

from ..config.types import Placement


def node_selector(placement: Placement) -> dict[str, str] | None:
    return dict(placement.node_selector) or None


def tolerations(placement: Placement) -> list[k8s.Toleration] | None:
    out = [
        k8s.Toleration(key=t.key, operator=t.operator, value=t.value, effect=t.effect)
        for t in placement.tolerations
    ]
    return out or None


def affinity(placement: Placement) -> k8s.Affinity | None:
    if not placement.prefer_spot:
        return None
    term = k8s.NodeSelectorTerm(
        match_expressions=[
            k8s.NodeSelectorRequirement(
                key=placement.spot_label_key, operator="In", values=[placement.spot_label_value]
            )
        ]
    )
    return k8s.Affinity(
        node_affinity=k8s.NodeAffinity(
            preferred_during_scheduling_ignored_during_execution=[
                k8s.PreferredSchedulingTerm(weight=placement.spot_weight, preference=term)
            ]
        )
    )
