"""Ingress ``vibeyard``: nginx, TLS from cert-manager, one host, path ``/``.

cert-manager's ingress-shim reads the cluster-issuer annotation and fills the TLS
secret, so each environment names its own secret and never shares a certificate.
"""

from __future__ import annotations

from cdk8s_plus_28 import k8s
from constructs import Construct

from ..config.types import IngressConfig
from ..kube import meta
from .web_app import WebApp

# cert-manager's HTTP-01 solver pods carry this label and listen on this port.
ACME_SOLVER_LABELS = {"acme.cert-manager.io/http01-solver": "true"}
ACME_SOLVER_PORT = 8089


class WebIngress(Construct):
    """Ingress named after the web tier, routing ``ingress.host`` to its Service.

    :param namespace: the environment's namespace.
    :param ingress: host, TLS secret, issuer, class and body size.
    :param backend: the web tier; its identity, Service and port name are used.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        namespace: str,
        ingress: IngressConfig,
        backend: WebApp,
    ) -> None:
        super().__init__(scope, id)
        name, identity = backend.name, backend.identity
        annotations = {
            "cert-manager.io/cluster-issuer": ingress.cluster_issuer,
            "nginx.ingress.kubernetes.io/proxy-body-size": ingress.proxy_body_size,
            "nginx.ingress.kubernetes.io/ssl-redirect": "true",
        }
        k8s.KubeIngress(
            self,
            "Resource",
            metadata=meta(name, namespace, identity, annotations),
            spec=k8s.IngressSpec(
                ingress_class_name=ingress.class_name,
                tls=[k8s.IngressTls(hosts=[ingress.host], secret_name=ingress.tls_secret)],
                rules=[
                    k8s.IngressRule(
                        host=ingress.host,
                        http=k8s.HttpIngressRuleValue(
                            paths=[
                                k8s.HttpIngressPath(
                                    path="/",
                                    path_type="Prefix",
                                    backend=k8s.IngressBackend(
                                        service=k8s.IngressServiceBackend(
                                            name=backend.name,
                                            port=k8s.ServiceBackendPort(name=backend.port_name),
                                        )
                                    ),
                                )
                            ]
                        ),
                    )
                ],
            ),
        )
