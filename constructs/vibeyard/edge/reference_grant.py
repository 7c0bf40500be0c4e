"""ReferenceGrant ``<tls secret>-for-gateway``: a shared Gateway may read our TLS Secret.

Gateway API refuses a cross-namespace reference unless the referenced namespace grants
it. When the platform's Gateway terminates TLS for our host with a certificate kept in
our namespace (``SharedGateway.tls_secret_in_app_namespace``), this grants exactly that:
Gateways in its namespace, our one Secret. It is ``v1beta1``, which every Gateway API
release since v0.6 serves (``v1`` only the newest, and not as the storage version),
so a cluster whose CRDs are an implementation's older bundle accepts it too.
"""

from __future__ import annotations

from constructs import Construct

from imports.referencegrants.io.k8s.networking import gateway as grant

from ..identity import Identity
from ..kube import crd_meta


class SecretGrant(Construct):
    """
    :param namespace: the environment's namespace, where the Secret is.
    :param secret: the TLS Secret's name.
    :param gateway_namespace: the shared Gateway's namespace.
    :param identity: the identity it is labelled with.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        namespace: str,
        secret: str,
        gateway_namespace: str,
        identity: Identity,
    ) -> None:
        super().__init__(scope, id)
        grant.ReferenceGrantV1Beta1(
            self,
            "Resource",
            metadata=crd_meta(f"{secret}-for-gateway", namespace, identity),
            spec=grant.ReferenceGrantV1Beta1Spec(
                from_=[
                    grant.ReferenceGrantV1Beta1SpecFrom(
                        group="gateway.networking.k8s.io", kind="Gateway", namespace=gateway_namespace
                    )
                ],
                to=[grant.ReferenceGrantV1Beta1SpecTo(group="", kind="Secret", name=secret)],
            ),
        )
