"""KEDA TriggerAuthentication for the queue Redis, shared by every pool's triggers.

KEDA's operator reads the password (and, for a managed Redis, the address) from
the environment's Secret at poll time, so no credential is copied into a
ScaledObject and rotating the Secret needs no manifest change.
"""

from __future__ import annotations

from constructs import Construct

from imports.sh import keda

from .config import secret_keys as keys
from .config.types import EnvConfig
from .identity import Identity
from .kube import crd_meta

NAME = "vibeyard-redis"


class RedisTriggerAuth(Construct):
    def __init__(self, scope: Construct, id: str, *, cfg: EnvConfig, identity: Identity) -> None:
        super().__init__(scope, id)
        self.name = NAME
        refs = [
            keda.TriggerAuthenticationSpecSecretTargetRef(
                parameter="password", name=cfg.secrets.name, key=keys.REDIS_PASSWORD
            )
        ]
        if cfg.redis.mode == "managed":
            refs.append(
                keda.TriggerAuthenticationSpecSecretTargetRef(
                    parameter="address", name=cfg.secrets.name, key=keys.REDIS_ADDRESS
                )
            )
        keda.TriggerAuthentication(
            self,
            "Resource",
            metadata=crd_meta(NAME, cfg.namespace, identity),
            spec=keda.TriggerAuthenticationSpec(secret_target_ref=refs),
        )
