"""The non-sensitive settings the app and workers read through ``envFrom``.

Its content hash is stamped on every pod template that reads it (``checksums.py``),
so a settings change rolls the pods instead of waiting for the next image release.
"""

from __future__ import annotations

from collections.abc import Mapping

from cdk8s_plus_28 import k8s
from constructs import Construct

from ..identity import Identity
from ..kube import meta


class AppSettings(Construct):
    """ConfigMap ``vibeyard-config``.

    :param namespace: the environment's namespace.
    :param identity: the platform identity the ConfigMap is labelled with.
    :param environment: the environment's short name (``APP_ENV``, ``SENTRY_ENVIRONMENT``).
    :param app_url: the public URL (``NEXTAUTH_URL``).
    :param port: the port Next.js listens on (``PORT``).
    :param log_level: ``LOG_LEVEL``.
    :param node_env: ``NODE_ENV``.
    :param sentry: add ``SENTRY_ENVIRONMENT``.
    :param extra: more variables, which win over the ones above. Default none.
    :param name: the ConfigMap's name. Default ``vibeyard-config``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        namespace: str,
        identity: Identity,
        environment: str,
        app_url: str,
        port: int,
        log_level: str,
        node_env: str,
        sentry: bool,
        extra: Mapping[str, str] | None = None,
        name: str = "vibeyard-config",
    ) -> None:
        super().__init__(scope, id)
        data = {
            "APP_ENV": environment,
            "HOSTNAME": "0.0.0.0",
            "LOG_LEVEL": log_level,
            "NEXTAUTH_URL": app_url,
            "NEXT_TELEMETRY_DISABLED": "1",
            "NODE_ENV": node_env,
            "PORT": str(port),
            **({"SENTRY_ENVIRONMENT": environment} if sentry else {}),
            **(extra or {}),
        }
        self.name = name
        self.data = dict(sorted(data.items()))
        k8s.KubeConfigMap(self, "Resource", metadata=meta(name, namespace, identity), data=self.data)
