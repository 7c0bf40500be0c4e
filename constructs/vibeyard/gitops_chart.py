"""The Argo CD chart, rendered to ``dist/argocd`` with one Application per environment.

Separate from the environment charts because it targets the ``argocd`` namespace
and is applied once by hand, before GitOps takes over. It is rendered for every
environment on every synth (it does not depend on the image tag), so a
single-environment synth still leaves a complete, unchanged ``dist/argocd``.
"""

from __future__ import annotations

from collections.abc import Sequence

import cdk8s
from constructs import Construct

from . import identity
from .argocd_app import ArgoCdApplication
from .config.types import EnvConfig
from .identity import instance_for

FOLDER = "argocd"


class GitOpsChart(cdk8s.Chart):
    def __init__(self, scope: Construct, id: str, *, configs: Sequence[EnvConfig]) -> None:
        super().__init__(scope, id, disable_resource_name_hashes=True)
        for cfg in configs:
            platform = identity.of(identity.PLATFORM, instance_for(cfg.namespace))
            ArgoCdApplication(self, f"Application-{cfg.name}", cfg=cfg, identity=platform)
