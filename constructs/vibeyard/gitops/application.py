"""The Argo CD Application that syncs ``dist/<env>`` into the cluster.

It is rendered to its own folder (``dist/argocd``) because it lives in the
``argocd`` namespace and must exist before anything it deploys. Dev and staging
sync on every commit and heal drift; production syncs only when a person asks,
so a merge to main is a release candidate, not a release.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from imports.io import argoproj

from ..config.types import GitOpsConfig
from ..identity import Identity
from ..kube import crd_meta


@dataclass(frozen=True)
class SyncTarget:
    """One environment as Argo CD sees it: what to sync, from where, to where."""

    environment: str
    namespace: str
    gitops: GitOpsConfig

    @property
    def application_name(self) -> str:
        return f"vibeyard-{self.environment}"


class ArgoCdApplication(Construct):
    """
    :param target: the environment, its namespace and its GitOps settings.
    :param identity: the environment's platform identity.
    """

    def __init__(self, scope: Construct, id: str, *, target: SyncTarget, identity: Identity) -> None:
        super().__init__(scope, id)
        git = target.gitops
        automated = (
            argoproj.ApplicationSpecSyncPolicyAutomated(prune=True, self_heal=True) if git.auto_sync else None
        )
        argoproj.Application(
            self,
            "Resource",
            metadata=crd_meta(target.application_name, git.argocd_namespace, identity),
            spec=argoproj.ApplicationSpec(
                project=git.project,
                source=argoproj.ApplicationSpecSource(
                    repo_url=git.repo_url,
                    target_revision=git.target_revision,
                    path=f"dist/{target.environment}",
                    directory=argoproj.ApplicationSpecSourceDirectory(recurse=True),
                ),
                destination=argoproj.ApplicationSpecDestination(
                    server="https://kubernetes.default.svc", namespace=target.namespace
                ),
                revision_history_limit=10,
                sync_policy=argoproj.ApplicationSpecSyncPolicy(
                    automated=automated,
                    sync_options=["PruneLast=true", "ApplyOutOfSyncOnly=true"],
                    retry=argoproj.ApplicationSpecSyncPolicyRetry(
                        limit=5,
                        backoff=argoproj.ApplicationSpecSyncPolicyRetryBackoff(
                            duration="10s", factor=2, max_duration="3m"
                        ),
                    ),
                ),
            ),
        )
