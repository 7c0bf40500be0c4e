"""The Argo CD chart, rendered to ``dist/argocd``: an AppProject, one Application per
environment and cluster, and the root Application that keeps them in sync.

Separate from the environment charts because it targets the ``argocd`` namespace.
One ``kubectl apply -f dist/argocd`` installs all of it; from then on the root
Application ("app of apps") syncs this folder itself, so adding a cluster or an
environment is a commit. It does not depend on the image tag, and is rendered
for every environment on every synth, so a single-environment synth still
leaves a complete, unchanged ``dist/argocd``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cdk8s
from constructs import Construct

from imports.applications.io import argoproj

from .. import identity
from ..kube import crd_meta
from . import waves
from .application import ArgoCdApplication, SyncTarget
from .project import AppProject

FOLDER = "argocd"
ROOT_NAME = "vibeyard-apps"
# dist/argocd is the same on every branch; the root follows main, where releases land.
ROOT_REVISION = "main"
IN_CLUSTER = "https://kubernetes.default.svc"


class GitOpsChart(cdk8s.Chart):
    """
    :param targets: every environment; those without GitOps settings get no Application.
    """

    def __init__(self, scope: Construct, id: str, *, targets: Sequence[SyncTarget]) -> None:
        super().__init__(scope, id, disable_resource_name_hashes=True)
        synced = [t for t in targets if t.gitops is not None]
        if not synced:
            return
        first = synced[0].gitops
        assert first is not None
        owner = identity.of(identity.PLATFORM, "vibeyard-argocd")
        AppProject(
            self,
            "Project",
            name=first.project,
            namespace=first.argocd_namespace,
            identity=owner,
            repo_urls=[t.gitops.repo_url for t in synced if t.gitops],
            destinations=[(d.server, t.namespace) for t in synced if t.gitops for d in t.gitops.destinations],
        )
        for target in synced:
            assert target.gitops is not None
            platform = identity.of(identity.PLATFORM, identity.instance_for(target.namespace))
            for dest in target.gitops.destinations:
                ArgoCdApplication(
                    self,
                    f"Application-{target.environment}-{dest.name}",
                    target=target,
                    destination=dest,
                    identity=platform,
                )
        argoproj.Application(
            self,
            "Root",
            metadata=crd_meta(ROOT_NAME, first.argocd_namespace, owner),
            spec=argoproj.ApplicationSpec(
                project="default",
                source=argoproj.ApplicationSpecSource(
                    repo_url=first.repo_url, target_revision=ROOT_REVISION, path=f"dist/{FOLDER}"
                ),
                destination=argoproj.ApplicationSpecDestination(
                    server=IN_CLUSTER, namespace=first.argocd_namespace
                ),
                sync_policy=argoproj.ApplicationSpecSyncPolicy(
                    automated=argoproj.ApplicationSpecSyncPolicyAutomated(prune=True, self_heal=True)
                ),
            ),
        )

    def manifests(self) -> list[dict[str, Any]]:
        """The project first, then the Applications (``order.py``)."""
        out: list[dict[str, Any]] = self.to_json()
        for obj in out:
            waves.stamp(obj)
        return out
