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

from .. import identity
from .application import ArgoCdApplication, SyncTarget

FOLDER = "argocd"


class GitOpsChart(cdk8s.Chart):
    """
    :param targets: every environment Argo CD syncs.
    """

    def __init__(self, scope: Construct, id: str, *, targets: Sequence[SyncTarget]) -> None:
        super().__init__(scope, id, disable_resource_name_hashes=True)
        for target in targets:
            platform = identity.of(identity.PLATFORM, identity.instance_for(target.namespace))
            ArgoCdApplication(self, f"Application-{target.environment}", target=target, identity=platform)
