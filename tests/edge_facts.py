"""What the edge implementations do, from their own documentation, for the edge tests and nca.

Written from upstream documentation, not from the code under test: who sends the
traffic (the data plane a NetworkPolicy must admit), each GatewayClass's name, and
each Ingress controller's namespace, labels, class and annotation prefix.
"""

from __future__ import annotations

from typing import Any

from vibeyard.config import EnvConfig

# Envoy Gateway's proxies run in its own namespace, labelled with the Gateway they
# serve; GKE's load balancer sends from Google's front ends to pod IPs.
ENVOY_NAMESPACE = "envoy-gateway-system"
ENVOY_OWNER = ("gateway.envoyproxy.io/owning-gateway-name", "gateway.envoyproxy.io/owning-gateway-namespace")
GATEWAY_CLASSES = {"envoy-gateway": "eg", "gke": "gke-l7-global-external-managed"}
GKE_SOURCES = ["35.191.0.0/16", "130.211.0.0/22"]
# controller: (IngressClass, namespace, pod labels)
INGRESS = {
    "ingress-nginx": ("nginx", "ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"}),
    "f5-nginx": ("nginx", "nginx-ingress", {"app.kubernetes.io/name": "nginx-ingress"}),
    "traefik": ("traefik", "traefik", {"app.kubernetes.io/name": "traefik"}),
}
ANNOTATION_PREFIX = {
    "ingress-nginx": "nginx.ingress.kubernetes.io/",
    "f5-nginx": "nginx.org/",
    "traefik": "traefik.ingress.kubernetes.io/",
}
ISSUER = "cert-manager.io/cluster-issuer"
ACME_SOLVER = ({"acme.cert-manager.io/http01-solver": "true"}, 8089)
NS_LABEL = "kubernetes.io/metadata.name"


def gateway_mode(cfg: EnvConfig) -> bool:
    return cfg.edge.mode in ("gateway-api", "both")


def ingress_mode(cfg: EnvConfig) -> bool:
    return cfg.edge.mode in ("ingress", "both")


def edges(cfg: EnvConfig) -> list[str]:
    """The edges an environment runs: ``gateway``, ``ingress`` or both."""
    return [e for e, on in (("gateway", gateway_mode(cfg)), ("ingress", ingress_mode(cfg))) if on]


def parent(cfg: EnvConfig) -> tuple[str, str, str, str]:
    """(Gateway name, its namespace, HTTP listener, HTTPS listener) the routes attach to."""
    shared = cfg.edge.gateway.shared
    if shared is None:
        return "vibeyard", cfg.namespace, "http", "https"
    return shared.name, shared.namespace, shared.http_listener, shared.https_listener


def pods(namespace: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    peer: dict[str, Any] = {"namespaceSelector": {"matchLabels": {NS_LABEL: namespace}}}
    if labels:
        peer["podSelector"] = {"matchLabels": labels}
    return peer


def data_plane(cfg: EnvConfig, edge: str) -> list[dict[str, Any]]:
    """The peers that ``edge``'s proxies connect to our pods as, and nothing else."""
    custom = cfg.edge.gateway.data_plane if edge == "gateway" else cfg.edge.ingress.data_plane
    if custom is not None:
        if custom.cidrs:
            return [{"ipBlock": {"cidr": c}} for c in custom.cidrs]
        return [pods(str(custom.namespace), dict(custom.pod_labels))]
    if edge == "ingress":
        _, namespace, labels = INGRESS[cfg.edge.ingress.controller]
        return [pods(namespace, labels)]
    if cfg.edge.gateway.implementation == "gke":
        return [{"ipBlock": {"cidr": c}} for c in GKE_SOURCES]
    name, namespace, _, _ = parent(cfg)
    return [pods(ENVOY_NAMESPACE, dict(zip(ENVOY_OWNER, (name, namespace), strict=True)))]
