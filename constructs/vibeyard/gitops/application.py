"""The Argo CD Applications that sync ``dist/<env>`` into each of the environment's clusters.

They are rendered to their own folder (``dist/argocd``) because they live in the
``argocd`` namespace and must exist before anything they deploy. Dev is applied
by hand and has none. Staging syncs on every commit and heals drift; production
syncs only when a person asks, so a merge to main is a release candidate, not a
release. An environment deployed to several clusters (regions) gets one
Application per cluster, all from the same folder. Each targets its cluster by
the name ``argocd cluster add --name`` registers, never by URL: moving a cluster
is then a registration, not a manifest change. While the environment still holds
placeholders (template values, unsealed secrets), nothing syncs by itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from imports.applications.io import argoproj

from ..config.types import Destination, EnvConfig, GitOpsConfig
from ..identity import Identity
from ..kube import crd_meta


@dataclass(frozen=True)
class SyncTarget:
    """One environment as Argo CD sees it; ``gitops`` is None for one applied by hand.
    ``ready``: it holds no placeholder, so it may sync by itself. ``image_policy``: it
    renders a ClusterImagePolicy, a cluster-scoped kind the project must allow."""

    environment: str
    namespace: str
    gitops: GitOpsConfig | None
    ready: bool = True
    image_policy: bool = False

    @staticmethod
    def of(cfg: EnvConfig, *, ready: bool) -> SyncTarget:
        return SyncTarget(cfg.name, cfg.namespace, cfg.gitops, ready, cfg.signatures.admission != "off")


class ArgoCdApplication(Construct):
    """
    :param target: the environment, its namespace, its GitOps settings and readiness.
    :param name: the Application's name (``GitOpsConfig.applications``).
    :param destination: the cluster to deploy to.
    :param identity: the environment's platform identity.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        target: SyncTarget,
        name: str,
        destination: Destination,
        identity: Identity,
    ) -> None:
        super().__init__(scope, id)
        git = target.gitops
        assert git is not None
        auto = git.auto_sync and target.ready
        automated = argoproj.ApplicationSpecSyncPolicyAutomated(prune=True, self_heal=True) if auto else None
        self.name = name
        retry = argoproj.ApplicationSpecSyncPolicyRetry(
            limit=5,
            backoff=argoproj.ApplicationSpecSyncPolicyRetryBackoff(
                duration="10s", factor=2, max_duration="3m"
            ),
        )
        argoproj.Application(
            self,
            "Resource",
            metadata=crd_meta(name, git.argocd_namespace, identity),
            spec=argoproj.ApplicationSpec(
                project=git.project,
                source=argoproj.ApplicationSpecSource(
                    repo_url=git.repo_url,
                    target_revision=git.target_revision,
                    path=f"dist/{target.environment}",
                    directory=argoproj.ApplicationSpecSourceDirectory(recurse=True),
                ),
                destination=argoproj.ApplicationSpecDestination(
                    name=destination.name, namespace=target.namespace
                ),
                revision_history_limit=10,
                sync_policy=argoproj.ApplicationSpecSyncPolicy(
                    automated=automated,
                    sync_options=["PruneLast=true", "ApplyOutOfSyncOnly=true"],
                    retry=retry,
                ),
            ),
        )
