"""Certificate ``<tls secret>``: our host's certificate, for a shared Gateway's listener.

cert-manager's gateway-shim issues certificates only for Gateways that carry its
issuer annotation, which a platform team's shared Gateway does for its own
namespace. When that Gateway instead terminates our host with a Secret kept in our
namespace (``SharedGateway.tls_secret_in_app_namespace``), nothing would fill the
Secret: this Certificate does, and ReferenceGrant ``<secret>-for-gateway`` lets the
listener read it. HTTP-01 challenges for it are answered through the issuer's own
``gatewayHTTPRoute`` solver, which the platform configures on the ClusterIssuer.

cert-manager's CRD is not vendored (no byte-exact upstream copy reaches this
machine), so it is an untyped object here; tests/test_edge.py checks it against the
cert-manager models published on npm.
"""

from __future__ import annotations

import cdk8s
from constructs import Construct

from ..identity import Identity
from ..kube import crd_meta

API_VERSION = "cert-manager.io/v1"


class ListenerCertificate(Construct):
    """
    :param namespace: the environment's namespace, where the Secret is written.
    :param secret: the TLS Secret it fills; also the Certificate's name.
    :param host: the one DNS name it is for.
    :param cluster_issuer: the cert-manager ClusterIssuer that signs it.
    :param identity: the identity it is labelled with.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        namespace: str,
        secret: str,
        host: str,
        cluster_issuer: str,
        identity: Identity,
    ) -> None:
        super().__init__(scope, id)
        issuer = {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": cluster_issuer}
        cdk8s.ApiObject(
            self,
            "Resource",
            api_version=API_VERSION,
            kind="Certificate",
            metadata=crd_meta(secret, namespace, identity),
        ).add_json_patch(
            cdk8s.JsonPatch.add("/spec", {"dnsNames": [host], "issuerRef": issuer, "secretName": secret})
        )
