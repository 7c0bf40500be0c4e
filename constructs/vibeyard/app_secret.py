"""The environment's one Secret, from whichever provider the config names.

Consumers never see the provider: they read ``secrets.name`` through
``secretKeyRef`` under the same key names. So switching staging from sealed to
external secrets is a config change with no workload diff. A plain ``Secret``
with data is never rendered; git holds only ciphertext or references.
"""

from __future__ import annotations

from collections.abc import Mapping

from constructs import Construct

from imports.com import bitnami
from imports.io import external_secrets as eso

from .config.secret_keys import required_secret_keys
from .config.types import EnvConfig
from .identity import Identity
from .kube import crd_meta

_STORE_KINDS = {
    "ClusterSecretStore": eso.ExternalSecretSpecSecretStoreRefKind.CLUSTER_SECRET_STORE,
    "SecretStore": eso.ExternalSecretSpecSecretStoreRefKind.SECRET_STORE,
}


class AppSecret(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cfg: EnvConfig,
        identity: Identity,
        sealed_data: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, id)
        secrets = cfg.secrets
        self.name = secrets.name
        metadata = crd_meta(secrets.name, cfg.namespace, identity)
        if secrets.provider == "sealed":
            if sealed_data is None:
                raise ValueError(f"{cfg.name}: sealed provider needs the sealed data")
            bitnami.SealedSecret(
                self,
                "Resource",
                metadata=metadata,
                spec=bitnami.SealedSecretSpec(
                    encrypted_data=dict(sealed_data),
                    template=bitnami.SealedSecretSpecTemplate(
                        type="Opaque",
                        metadata=bitnami.SealedSecretSpecTemplateMetadata(
                            name=secrets.name, namespace=cfg.namespace, labels=identity.labels
                        ),
                    ),
                ),
            )
        elif secrets.provider == "external":
            eso.ExternalSecret(
                self,
                "Resource",
                metadata=metadata,
                spec=eso.ExternalSecretSpec(
                    refresh_interval=secrets.refresh_interval,
                    secret_store_ref=eso.ExternalSecretSpecSecretStoreRef(
                        name=secrets.external_store,
                        kind=_STORE_KINDS[secrets.external_store_kind],
                    ),
                    target=eso.ExternalSecretSpecTarget(
                        name=secrets.name,
                        creation_policy=eso.ExternalSecretSpecTargetCreationPolicy.OWNER,
                        template=eso.ExternalSecretSpecTargetTemplate(
                            type="Opaque",
                            metadata=eso.ExternalSecretSpecTargetTemplateMetadata(labels=identity.labels),
                        ),
                    ),
                    data=[
                        eso.ExternalSecretSpecData(
                            secret_key=key,
                            remote_ref=eso.ExternalSecretSpecDataRemoteRef(
                                key=f"{secrets.external_key_prefix}/{cfg.name}", property=key
                            ),
                        )
                        for key in required_secret_keys(cfg)
                    ],
                ),
            )
        # "existing": created out of band (README); nothing to render.
