"""KEDA TriggerAuthentication for the queue Redis, shared by every pool's triggers.

KEDA's operator reads the password (and, for a managed Redis, the address) from
the environment's Secret at poll time, so no credential is copied into a
ScaledObject and rotating the Secret needs no manifest change.
"""

from __future__ import annotations

from constructs import Construct

from imports.triggerauthentications.sh import keda

from ..config import secret_keys as keys
from ..identity import Identity
from ..kube import crd_meta


class RedisTriggerAuth(Construct):
    """TriggerAuthentication ``vibeyard-redis``.

    :param namespace: the environment's namespace.
    :param identity: the platform identity it is labelled with.
    :param secret: the Secret holding the Redis password.
    :param address_in_secret: the Secret also holds ``host:port`` (a managed Redis). Default False.
    :param name: the object's name. Default ``vibeyard-redis``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        namespace: str,
        identity: Identity,
        secret: str,
        address_in_secret: bool = False,
        name: str = "vibeyard-redis",
    ) -> None:
        super().__init__(scope, id)
        self.name = name
        refs = [
            keda.TriggerAuthenticationSpecSecretTargetRef(
                parameter="password", name=secret, key=keys.REDIS_PASSWORD
            )
        ]
        if address_in_secret:
            refs.append(
                keda.TriggerAuthenticationSpecSecretTargetRef(
                    parameter="address", name=secret, key=keys.REDIS_ADDRESS
                )
            )
        keda.TriggerAuthentication(
            self,
            "Resource",
            metadata=crd_meta(name, namespace, identity),
            spec=keda.TriggerAuthenticationSpec(secret_target_ref=refs),
        )
