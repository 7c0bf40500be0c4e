"""The public edge: Gateway API by default, an Ingress for clusters not yet migrated.

The community ingress-nginx controller was retired in March 2026 (no more security
fixes); Gateway API is its successor and is served by every major cloud and mesh.
``mode`` picks the edge, and ``both`` renders the two side by side for the release
that moves traffic by DNS (upgrades/, docs/operations.md "Moving the edge to Gateway
API"). Each implementation's data plane (where its proxies connect to our pods
from) has a default here, used by the NetworkPolicy that admits the edge; a
platform that runs it elsewhere says so in ``data_plane``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from . import rules
from .fields import check, setting, settings

EdgeMode = Literal["gateway-api", "ingress", "both"]
GatewayImplementation = Literal["envoy-gateway", "gke", "custom"]
IngressController = Literal["ingress-nginx", "f5-nginx", "traefik"]
# Envoy Gateway labels each Gateway's proxy pods with the Gateway they serve.
OWNING_GATEWAY = (
    "gateway.envoyproxy.io/owning-gateway-name",
    "gateway.envoyproxy.io/owning-gateway-namespace",
)


@settings
class DataPlane:
    """Where an edge's proxies open connections to our pods from: their pods (a namespace
    and labels) or, for a load balancer that sends to pod IPs, address ranges."""

    namespace: str | None = setting(
        default=None, doc="the proxies' namespace", rule=rules.optional(rules.dns_label())
    )
    pod_labels: Mapping[str, str] = setting(factory=dict, doc="the proxies' pod labels", rule=rules.labels)
    cidrs: tuple[str, ...] = setting(
        default=(), doc="address ranges the proxies connect from", rule=rules.each(rules.cidr)
    )

    @check("cidrs")
    def _pods_or_ranges(self) -> str | None:
        return (
            None if (self.namespace is None) != (not self.cidrs) else "pods (namespace) or cidrs, exactly one"
        )


@dataclass(frozen=True)
class Implementation:
    """What we know about one edge implementation: its default class and data plane."""

    class_name: str
    data_plane: DataPlane | None  # None: it depends on the Gateway (Envoy Gateway's owning labels)


# GKE's global external Application Load Balancer sends from Google's front ends to
# pod IPs (container-native load balancing): its documented source ranges.
GKE_FRONT_ENDS = ("35.191.0.0/16", "130.211.0.0/22")
GATEWAYS: Mapping[str, Implementation] = {
    "envoy-gateway": Implementation("eg", None),
    "gke": Implementation("gke-l7-global-external-managed", DataPlane(cidrs=GKE_FRONT_ENDS)),
}
INGRESS_CONTROLLERS: Mapping[str, Implementation] = {
    "ingress-nginx": Implementation(
        "nginx", DataPlane(namespace="ingress-nginx", pod_labels={"app.kubernetes.io/name": "ingress-nginx"})
    ),
    "f5-nginx": Implementation(
        "nginx", DataPlane(namespace="nginx-ingress", pod_labels={"app.kubernetes.io/name": "nginx-ingress"})
    ),
    "traefik": Implementation(
        "traefik", DataPlane(namespace="traefik", pod_labels={"app.kubernetes.io/name": "traefik"})
    ),
}
ENVOY_GATEWAY_NAMESPACE = "envoy-gateway-system"


@settings
class SharedGateway:
    """A Gateway the platform team owns in its own namespace, which our routes attach to."""

    name: str = setting(doc="the Gateway's name", rule=rules.dns_subdomain)
    namespace: str = setting(doc="its namespace", rule=rules.dns_label())
    http_listener: str = setting(default="http", doc="its listener on port 80", rule=rules.dns_label())
    https_listener: str = setting(
        default="https", doc="its TLS listener for our host", rule=rules.dns_label()
    )
    namespace_labels: Mapping[str, str] = setting(
        factory=lambda: {"gateway-access": "vibeyard"},
        doc="labels its allowedRoutes selector matches; our Namespace carries them",
        rule=rules.labels,
    )
    tls_secret_in_app_namespace: bool = setting(
        default=False, doc="its listener reads our TLS Secret: render the ReferenceGrant that allows it"
    )


@settings
class GatewayConfig:
    """The Gateway API edge."""

    implementation: GatewayImplementation = setting(default="envoy-gateway", doc="who serves the Gateway")
    class_name: str | None = setting(
        default=None,
        doc="our Gateway's GatewayClass; default: the implementation's",
        rule=rules.optional(rules.dns_subdomain),
    )
    shared: SharedGateway | None = setting(
        default=None, doc="attach to the platform's Gateway; None: render our own"
    )
    data_plane: DataPlane | None = setting(
        default=None, doc="where its proxies connect from; default: the implementation's"
    )

    @check("data_plane")
    def _custom_needs_data_plane(self) -> str | None:
        ok = self.implementation != "custom" or self.data_plane is not None
        return None if ok else "the proxies' namespace and labels, or cidrs, for implementation 'custom'"


@settings
class IngressConfig:
    """The Ingress edge, for clusters that still run an Ingress controller."""

    controller: IngressController = setting(
        default="ingress-nginx", doc="the controller; its annotations only"
    )
    class_name: str | None = setting(
        default=None,
        doc="ingressClassName; default: the controller's",
        rule=rules.optional(rules.dns_subdomain),
    )
    data_plane: DataPlane | None = setting(
        default=None, doc="where it connects from; default: the controller's"
    )


@settings
class EdgeConfig:
    """The public edge: one host, TLS from cert-manager."""

    mode: EdgeMode = setting(default="gateway-api", doc="Gateway API, an Ingress, or both while moving")
    host: str = setting(doc="the public host; default <env>.<organisation base_domain>", rule=rules.hostname)
    tls_secret: str = setting(
        doc="the certificate's Secret; default vibeyard-<env>-tls", rule=rules.dns_subdomain
    )
    cluster_issuer: str = setting(doc="cert-manager ClusterIssuer", rule=rules.dns_subdomain)
    # cert-manager then serves challenges from a solver pod in our namespace, which the edge must reach.
    acme_http01: bool = setting(default=True, doc="the issuer solves ACME HTTP-01 challenges")
    max_body_size: str = setting(
        default="10m",
        doc="largest request body: an annotation for the nginx controllers; Gateway API has no field",
        rule=rules.nginx_size,
    )
    request_timeout_seconds: int = setting(
        default=60, doc="longest request, end to end", rule=rules.between(1, 3600)
    )
    gateway: GatewayConfig = setting(factory=GatewayConfig, doc="the Gateway API edge")
    ingress: IngressConfig = setting(factory=IngressConfig, doc="the Ingress edge")
