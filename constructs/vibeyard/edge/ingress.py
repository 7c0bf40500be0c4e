"""Ingress ``vibeyard``, for clusters still on an Ingress controller: TLS from cert-manager,
one host, ``/`` to the web tier, the metrics path to nothing.

It is the Ingress of the releases before Gateway API but for two changes: its
annotations, and the metrics path. cert-manager's ingress-shim reads the issuer
annotation and fills the TLS Secret, so each environment names its own Secret. The
request limits are annotations, and each controller understands only its own: only
the chosen controller's are rendered (``ANNOTATIONS``). An Ingress cannot refuse a
path, so ``/api/metrics`` goes to Service ``vibeyard-unrouted``, which selects no
pods: every controller answers 503 there, and the app's metrics stay with Prometheus.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from cdk8s_plus_28 import k8s
from constructs import Construct

from .. import identity as ids
from ..config.types import EdgeConfig
from ..identity import Identity
from ..kube import Listener, meta

UNROUTED = "vibeyard-unrouted"


def _nginx(edge: EdgeConfig) -> dict[str, str]:
    timeout = str(edge.request_timeout_seconds)
    prefix = "nginx.ingress.kubernetes.io"
    return {
        f"{prefix}/proxy-body-size": edge.max_body_size,
        f"{prefix}/proxy-read-timeout": timeout,
        f"{prefix}/proxy-send-timeout": timeout,
        f"{prefix}/ssl-redirect": "true",
    }


def _f5_nginx(edge: EdgeConfig) -> dict[str, str]:
    timeout = f"{edge.request_timeout_seconds}s"
    return {
        "nginx.org/client-max-body-size": edge.max_body_size,
        "nginx.org/proxy-read-timeout": timeout,
        "nginx.org/proxy-send-timeout": timeout,
        "nginx.org/redirect-to-https": "true",
    }


def _traefik(edge: EdgeConfig) -> dict[str, str]:
    # Traefik redirects to HTTPS and limits bodies in its static config and Middlewares,
    # not annotations (docs/operations.md); this only binds the router to TLS.
    return {"traefik.ingress.kubernetes.io/router.tls": "true"}


ANNOTATIONS: Mapping[str, Callable[[EdgeConfig], dict[str, str]]] = {
    "ingress-nginx": _nginx,
    "f5-nginx": _f5_nginx,
    "traefik": _traefik,
}


def _path(path: str, service: str, port_name: str) -> k8s.HttpIngressPath:
    port = k8s.ServiceBackendPort(name=port_name)
    backend = k8s.IngressBackend(service=k8s.IngressServiceBackend(name=service, port=port))
    return k8s.HttpIngressPath(path=path, path_type="Prefix", backend=backend)


class WebIngress(Construct):
    """Ingress named after the web tier, and Service ``vibeyard-unrouted``.

    :param namespace: the environment's namespace.
    :param edge: host, TLS Secret, issuer, limits and the controller.
    :param class_name: the IngressClass (the topology's).
    :param backend: the web tier: its Service name and port name.
    :param port_name: the web Service's port name.
    :param unrouted: a path the edge refuses (the web tier's metrics path).
    :param identity: the web tier's identity, which labels the Ingress.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        namespace: str,
        edge: EdgeConfig,
        class_name: str,
        backend: Listener,
        port_name: str,
        unrouted: str,
        identity: Identity,
    ) -> None:
        super().__init__(scope, id)
        annotations = {
            "cert-manager.io/cluster-issuer": edge.cluster_issuer,
            **ANNOTATIONS[edge.ingress.controller](edge),
        }
        k8s.KubeService(
            self,
            "Unrouted",
            # Its own labels: with the web tier's, the web ServiceMonitor would select it too.
            metadata=meta(UNROUTED, namespace, ids.of((UNROUTED, "edge"), identity.instance)),
            spec=k8s.ServiceSpec(ports=[k8s.ServicePort(name="http", port=80, protocol="TCP")]),
        )
        k8s.KubeIngress(
            self,
            "Resource",
            metadata=meta(backend.name, namespace, identity, dict(sorted(annotations.items()))),
            spec=k8s.IngressSpec(
                ingress_class_name=class_name,
                tls=[k8s.IngressTls(hosts=[edge.host], secret_name=edge.tls_secret)],
                rules=[
                    k8s.IngressRule(
                        host=edge.host,
                        http=k8s.HttpIngressRuleValue(
                            paths=[
                                _path(unrouted, UNROUTED, "http"),
                                _path("/", backend.name, port_name),
                            ]
                        ),
                    )
                ],
            ),
        )
