"""Gateway ``vibeyard``: the environment's own edge, when it does not share the platform's.

One HTTP listener (port 80, which only redirects to HTTPS and serves ACME HTTP-01
challenges) and one HTTPS listener terminating TLS for the one host. cert-manager's
Gateway support reads the issuer annotation and fills ``tls_secret`` for the
listener's hostname (cert-manager with ``enableGatewayAPI``; docs/operations.md). Only
routes from this namespace may attach.
"""

from __future__ import annotations

from constructs import Construct

from imports.gateways.io.k8s.networking import gateway as gw

from ..config.topology import GatewayRef
from ..config.types import EdgeConfig
from ..identity import Identity
from ..kube import crd_meta

ISSUER_ANNOTATION = "cert-manager.io/cluster-issuer"


def _same_namespace() -> gw.GatewaySpecListenersAllowedRoutes:
    return gw.GatewaySpecListenersAllowedRoutes(
        namespaces=gw.GatewaySpecListenersAllowedRoutesNamespaces(
            from_=gw.GatewaySpecListenersAllowedRoutesNamespacesFrom.SAME
        )
    )


class WebGateway(Construct):
    """Gateway ``<ref.name>`` with listeners ``<ref.http_listener>`` and ``<ref.https_listener>``.

    :param namespace: the environment's namespace.
    :param ref: the Gateway's name, class and listener names (the topology's).
    :param edge: the host, the TLS Secret and the issuer.
    :param identity: the web tier's identity, which labels the Gateway.
    :param issues_certificate: cert-manager issues the listener's certificate through the Gateway.
        Default True; False while an Ingress for the same host still owns that Certificate (the
        migration release: two shims issuing into one Secret would fight over it).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        namespace: str,
        ref: GatewayRef,
        edge: EdgeConfig,
        identity: Identity,
        issues_certificate: bool = True,
    ) -> None:
        super().__init__(scope, id)
        issuer = {ISSUER_ANNOTATION: edge.cluster_issuer} if issues_certificate else None
        metadata = crd_meta(ref.name, namespace, identity, issuer)
        gw.Gateway(
            self,
            "Resource",
            metadata=metadata,
            spec=gw.GatewaySpec(
                gateway_class_name=ref.class_name,
                listeners=[
                    gw.GatewaySpecListeners(
                        name=ref.http_listener,
                        protocol="HTTP",
                        port=80,
                        hostname=edge.host,
                        allowed_routes=_same_namespace(),
                    ),
                    gw.GatewaySpecListeners(
                        name=ref.https_listener,
                        protocol="HTTPS",
                        port=443,
                        hostname=edge.host,
                        tls=gw.GatewaySpecListenersTls(
                            mode=gw.GatewaySpecListenersTlsMode.TERMINATE,
                            certificate_refs=[
                                gw.GatewaySpecListenersTlsCertificateRefs(name=edge.tls_secret)
                            ],
                        ),
                        allowed_routes=_same_namespace(),
                    ),
                ],
            ),
        )
