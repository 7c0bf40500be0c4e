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
from ..config.types import GitOpsConfig
from ..identity import Identity
from ..kube import crd_meta
from . import waves
from .application import ArgoCdApplication, SyncTarget
from .project import AppProject

FOLDER = "argocd"
ROOT_NAME = "vibeyard-apps"
ROOT_PROJECT = "vibeyard-root"
# dist/argocd is the same on every branch; the root follows main, where releases land.
ROOT_REVISION = "main"
IN_CLUSTER = "in-cluster"

# (group, kind) of every namespaced object an environment renders.
NAMESPACED_KINDS: tuple[tuple[str, str], ...] = (
    ("", "ConfigMap"),
    ("", "LimitRange"),
    ("", "ResourceQuota"),
    ("", "Service"),
    ("", "ServiceAccount"),
    ("apps", "Deployment"),
    ("apps", "StatefulSet"),
    ("autoscaling", "HorizontalPodAutoscaler"),
    ("autoscaling.k8s.io", "VerticalPodAutoscaler"),
    ("batch", "Job"),
    ("bitnami.com", "SealedSecret"),
    ("cert-manager.io", "Certificate"),
    ("external-secrets.io", "ExternalSecret"),
    ("keda.sh", "ScaledObject"),
    ("keda.sh", "TriggerAuthentication"),
    ("monitoring.coreos.com", "PrometheusRule"),
    ("monitoring.coreos.com", "ServiceMonitor"),
    ("networking.k8s.io", "Ingress"),
    ("gateway.networking.k8s.io", "Gateway"),
    ("gateway.networking.k8s.io", "HTTPRoute"),
    ("gateway.networking.k8s.io", "ReferenceGrant"),
    ("networking.k8s.io", "NetworkPolicy"),
    ("policy", "PodDisruptionBudget"),
)
IMAGE_POLICY_KIND = [("policy.sigstore.dev", "ClusterImagePolicy")]
# Ours on purpose, without an owner in git: the data volumes a StatefulSet retains
# (``data-<statefulset>-<n>``) and the certificates cert-manager issues (``*-tls``).
ORPHANS_IGNORED = (("PersistentVolumeClaim", "data-*"), ("Secret", "*-tls"))


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
        repos = [t.gitops.repo_url for t in synced if t.gitops]
        AppProject(
            self,
            "Project",
            name=first.project,
            namespace=first.argocd_namespace,
            identity=owner,
            description="Vibeyard: the app, its data stores and workers, per environment",
            repo_urls=repos,
            destinations=[(d.name, t.namespace) for t in synced if t.gitops for d in t.gitops.destinations],
            namespaced_kinds=NAMESPACED_KINDS,
            cluster_kinds=[("", "Namespace")]
            + (IMAGE_POLICY_KIND if any(t.image_policy for t in synced) else []),
            orphans_ignored=ORPHANS_IGNORED,
        )
        for target in synced:
            assert target.gitops is not None
            platform = identity.of(identity.PLATFORM, identity.instance_for(target.namespace))
            for name, dest in target.gitops.applications(target.environment):
                ArgoCdApplication(
                    self, f"Application-{name}", target=target, name=name, destination=dest, identity=platform
                )
        self._root(first, repos, owner)

    def _root(self, git: GitOpsConfig, repos: Sequence[str], owner: Identity) -> None:
        """The app of apps, fenced in its own project: it may only create Applications and
        AppProjects in Argo CD's namespace, so a commit to dist/argocd cannot add a
        ClusterRoleBinding or deploy anywhere else through it."""
        AppProject(
            self,
            "RootProject",
            name=ROOT_PROJECT,
            namespace=git.argocd_namespace,
            identity=owner,
            description="Vibeyard's root Application: the Applications and AppProjects in dist/argocd only",
            repo_urls=repos,
            destinations=[(IN_CLUSTER, git.argocd_namespace)],
            namespaced_kinds=[("argoproj.io", "Application"), ("argoproj.io", "AppProject")],
        )
        argoproj.Application(
            self,
            "Root",
            metadata=crd_meta(ROOT_NAME, git.argocd_namespace, owner),
            spec=argoproj.ApplicationSpec(
                project=ROOT_PROJECT,
                source=argoproj.ApplicationSpecSource(
                    repo_url=git.repo_url, target_revision=ROOT_REVISION, path=f"dist/{FOLDER}"
                ),
                destination=argoproj.ApplicationSpecDestination(
                    name=IN_CLUSTER, namespace=git.argocd_namespace
                ),
                sync_policy=argoproj.ApplicationSpecSyncPolicy(
                    automated=argoproj.ApplicationSpecSyncPolicyAutomated(prune=True, self_heal=True)
                ),
            ),
        )

    def manifests(self) -> list[dict[str, Any]]:
        """The projects first, then the Applications (``order.py``)."""
        out: list[dict[str, Any]] = self.to_json()
        for obj in out:
            waves.stamp(obj)
        return out
