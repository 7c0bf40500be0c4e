"""The environment's one Secret, from whichever provider the config names.

Consumers never see the provider: they read ``secrets.name`` through
``secretKeyRef`` under the same key names. So switching staging from sealed to
external secrets is a config change with no workload diff. A plain ``Secret``
with data is never rendered; git holds only ciphertext or references.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from constructs import Construct

from imports.sealedsecrets.com import bitnami

from ..config.types import SecretsConfig
from ..identity import Identity
from ..kube import crd_meta

if TYPE_CHECKING:
    from imports.externalsecrets.io import external_secrets as eso


class AppSecret(Construct):
    """The Secret ``secrets.name``, as a SealedSecret, an ExternalSecret, or nothing.

    :param secrets: the provider and its settings.
    :param namespace: the environment's namespace.
    :param environment: the environment's short name; external keys live under ``<prefix>/<environment>``.
    :param identity: the platform identity the object is labelled with.
    :param keys: the keys the Secret must hold (the topology's decision).
    :param sealed_data: the checked ``encryptedData`` when the provider is ``sealed``. Default none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        secrets: SecretsConfig,
        namespace: str,
        environment: str,
        identity: Identity,
        keys: Sequence[str],
        sealed_data: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.name = secrets.name
        metadata = crd_meta(secrets.name, namespace, identity)
        if secrets.provider == "sealed":
            if sealed_data is None:
                raise ValueError(f"{environment}: sealed provider needs the sealed data")
            template = bitnami.SealedSecretSpecTemplate(
                type="Opaque",
                metadata=bitnami.SealedSecretSpecTemplateMetadata(
                    name=secrets.name, namespace=namespace, labels=identity.labels
                ),
            )
            spec = bitnami.SealedSecretSpec(encrypted_data=dict(sealed_data), template=template)
            bitnami.SealedSecret(self, "Resource", metadata=metadata, spec=spec)
        elif secrets.provider == "external":
            # Imported only here: each CRD module loads its own jsii assembly (docs/synth.md).
            from imports.externalsecrets.io import external_secrets as eso  # noqa: PLC0415

            eso.ExternalSecret(
                self, "Resource", metadata=metadata, spec=_external(secrets, environment, identity, keys)
            )
        # "existing": created out of band (docs/operations.md); nothing to render.


def _external(
    secrets: SecretsConfig, environment: str, identity: Identity, keys: Sequence[str]
) -> eso.ExternalSecretSpec:
    """Each key from ``<prefix>/<environment>`` in the store, into a Secret the operator owns."""
    from imports.externalsecrets.io import external_secrets as eso  # noqa: PLC0415

    kinds = {
        "ClusterSecretStore": eso.ExternalSecretSpecSecretStoreRefKind.CLUSTER_SECRET_STORE,
        "SecretStore": eso.ExternalSecretSpecSecretStoreRefKind.SECRET_STORE,
    }
    return eso.ExternalSecretSpec(
        refresh_interval=secrets.refresh_interval,
        secret_store_ref=eso.ExternalSecretSpecSecretStoreRef(
            name=secrets.external_store, kind=kinds[secrets.external_store_kind]
        ),
        target=eso.ExternalSecretSpecTarget(
            name=secrets.name,
            creation_policy=eso.ExternalSecretSpecTargetCreationPolicy.OWNER,
            template=eso.ExternalSecretSpecTargetTemplate(
                type="Opaque", metadata=eso.ExternalSecretSpecTargetTemplateMetadata(labels=identity.labels)
            ),
        ),
        data=[
            eso.ExternalSecretSpecData(
                secret_key=key,
                remote_ref=eso.ExternalSecretSpecDataRemoteRef(
                    key=f"{secrets.external_key_prefix}/{environment}", property=key
                ),
            )
            for key in keys
        ],
    )
