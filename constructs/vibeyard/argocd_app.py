"""The Argo CD Application that syncs ``dist/<env>`` into the cluster.

It is rendered to its own folder (``dist/argocd/<env>``) because it lives in the
``argocd`` namespace and must exist before anything it deploys. Dev and staging
sync on every commit and heal drift; production syncs only when a person asks,
so a merge to main is a release candidate, not a release.
"""

from __future__ import annotations

from constructs import Construct

from imports.io import argoproj

from .config.types import EnvConfig
from .identity import Identity
from .kube import crd_meta


def application_name(cfg: EnvConfig) -> str:
    return f"vibeyard-{cfg.name}"


class ArgoCdApplication(Construct):
    def __init__(self, scope: Construct, id: str, *, cfg: EnvConfig, identity: Identity) -> None:
        super().__init__(scope, id)
        git = cfg.gitops
        automated = (
            argoproj.ApplicationSpecSyncPolicyAutomated(prune=True, self_heal=True) if git.auto_sync else None
        )
        argoproj.Application(
            self,
            "Resource",
            metadata=crd_meta(application_name(cfg), git.argocd_namespace, identity),
            spec=argoproj.ApplicationSpec(
                project=git.project,
                source=argoproj.ApplicationSpecSource(
                    repo_url=git.repo_url,
                    target_revision=git.target_revision,
                    path=f"dist/{cfg.name}",
                    directory=argoproj.ApplicationSpecSourceDirectory(recurse=True),
                ),
                destination=argoproj.ApplicationSpecDestination(
                    server="https://kubernetes.default.svc", namespace=cfg.namespace
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
