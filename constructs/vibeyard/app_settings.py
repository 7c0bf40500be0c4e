"""The non-sensitive settings the app and workers read through ``envFrom``.

Its content hash is stamped on every pod template that consumes it, so a settings
change rolls the pods instead of waiting for the next image release.
"""

from __future__ import annotations

import hashlib
import json

from cdk8s_plus_28 import k8s
from constructs import Construct

from .app_env import CONFIG_MAP_NAME
from .config.types import EnvConfig
from .identity import Identity
from .kube import meta


class AppSettings(Construct):
    def __init__(self, scope: Construct, id: str, *, cfg: EnvConfig, identity: Identity) -> None:
        super().__init__(scope, id)
        data = {
            "APP_ENV": cfg.name,
            "HOSTNAME": "0.0.0.0",
            "LOG_LEVEL": cfg.log_level,
            "NEXTAUTH_URL": cfg.app_url,
            "NEXT_TELEMETRY_DISABLED": "1",
            "NODE_ENV": cfg.node_env,
            "PORT": str(cfg.web.port),
            **({"SENTRY_ENVIRONMENT": cfg.name} if cfg.sentry_enabled else {}),
            **cfg.extra_env,
        }
        self.data = dict(sorted(data.items()))
        self.checksum = hashlib.sha256(json.dumps(self.data, sort_keys=True).encode()).hexdigest()
        k8s.KubeConfigMap(
            self, "Resource", metadata=meta(CONFIG_MAP_NAME, cfg.namespace, identity), data=self.data
        )
