"""The selectors and peers our NetworkPolicies are written in.

Policies name *who* may talk, so every "who" is defined once here from the label
conventions in ``identity.py``. Namespaces are matched by the
``kubernetes.io/metadata.name`` label the API server sets on every namespace
(Kubernetes >= 1.21): unlike a hand-written label it cannot be forged by someone
who may only label their own namespace, and it needs no cluster change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from cdk8s_plus_28 import k8s

from .. import identity
from ..config.types import DataPlane
from ..identity import Identity
from ..kube import Listener, int_or_str

INTERNET = "0.0.0.0/0"
HTTPS = 443
# cert-manager's HTTP-01 solver pods carry this label and listen on this port.
ACME_SOLVER_LABELS = {"acme.cert-manager.io/http01-solver": "true"}
ACME_SOLVER_PORT = 8089
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
COMPONENT_LABEL = "app.kubernetes.io/component"
INSTANCE_LABEL = "app.kubernetes.io/instance"

# The app is the web tier plus every worker pool: they share code, secrets and
# therefore network needs. One selector keeps a new pool covered automatically.
APP_COMPONENTS = ("web", identity.WORKER_COMPONENT)


def labels(match: Mapping[str, str]) -> k8s.LabelSelector:
    return k8s.LabelSelector(match_labels=dict(match))


def of(who: Identity) -> k8s.LabelSelector:
    return labels(who.selector)


def app(instance: str) -> k8s.LabelSelector:
    return k8s.LabelSelector(
        match_labels={INSTANCE_LABEL: instance},
        match_expressions=[
            k8s.LabelSelectorRequirement(key=COMPONENT_LABEL, operator="In", values=list(APP_COMPONENTS))
        ],
    )


def pods(selector: k8s.LabelSelector) -> k8s.NetworkPolicyPeer:
    """Pods of our own namespace only: a bare podSelector never crosses namespaces."""
    return k8s.NetworkPolicyPeer(pod_selector=selector)


def namespace(name: str, pod_labels: Mapping[str, str] | None = None) -> k8s.NetworkPolicyPeer:
    """Pods in another namespace, narrowed to ``pod_labels`` when given."""
    return k8s.NetworkPolicyPeer(
        namespace_selector=labels({NAMESPACE_NAME_LABEL: name}),
        pod_selector=labels(pod_labels) if pod_labels else None,
    )


def cidr(block: str, exclude: Iterable[str] = ()) -> k8s.NetworkPolicyPeer:
    excluded = list(exclude)
    return k8s.NetworkPolicyPeer(ip_block=k8s.IpBlock(cidr=block, except_=excluded or None))


def tcp(*numbers: int) -> list[k8s.NetworkPolicyPort]:
    return [k8s.NetworkPolicyPort(protocol="TCP", port=int_or_str(n)) for n in numbers]


def dns() -> list[k8s.NetworkPolicyPort]:
    # TCP as well as UDP: answers over 512 bytes (many AAAA records, DNSSEC) fall back to TCP.
    return [k8s.NetworkPolicyPort(protocol=proto, port=int_or_str(53)) for proto in ("UDP", "TCP")]


def to(listener: Listener) -> tuple[k8s.NetworkPolicyPeer, int]:
    """``listener``'s pods on its port, as an egress destination."""
    return pods(of(listener.identity)), listener.port


def data_plane(plane: DataPlane) -> list[k8s.NetworkPolicyPeer]:
    """An edge's proxies as peers: their pods, or the ranges a load balancer sends from."""
    if plane.namespace is not None:
        return [namespace(plane.namespace, plane.pod_labels)]
    return [cidr(block) for block in plane.cidrs]
