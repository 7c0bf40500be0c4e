"""The AppProject that fences Vibeyard's Applications in.

Argo CD's ``default`` project may deploy anything anywhere. This one allows only
this repository, only the environments' namespaces on their own clusters, and
only the kinds the environments render, with the Namespace as the one
cluster-scoped kind: a compromised commit cannot create a ClusterRole or deploy
into ``kube-system``. Resources in those namespaces that git does not hold are
reported (``orphanedResources``), never deleted.
"""

from __future__ import annotations

from collections.abc import Sequence

import cdk8s
from constructs import Construct

from ..identity import Identity

KIND = "AppProject"
API_VERSION = "argoproj.io/v1alpha1"

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
    ("external-secrets.io", "ExternalSecret"),
    ("keda.sh", "ScaledObject"),
    ("keda.sh", "TriggerAuthentication"),
    ("monitoring.coreos.com", "PrometheusRule"),
    ("monitoring.coreos.com", "ServiceMonitor"),
    ("networking.k8s.io", "Ingress"),
    ("networking.k8s.io", "NetworkPolicy"),
    ("policy", "PodDisruptionBudget"),
)


class AppProject(Construct):
    """
    :param name: the project's name (``gitops.project``).
    :param namespace: Argo CD's namespace.
    :param identity: the platform identity it is labelled with.
    :param repo_urls: the repositories Applications may sync from.
    :param destinations: ``(server, namespace)`` pairs Applications may deploy to.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        namespace: str,
        identity: Identity,
        repo_urls: Sequence[str],
        destinations: Sequence[tuple[str, str]],
    ) -> None:
        super().__init__(scope, id)
        self.name = name
        project = cdk8s.ApiObject(
            self,
            "Resource",
            api_version=API_VERSION,
            kind=KIND,
            metadata=cdk8s.ApiObjectMetadata(name=name, namespace=namespace, labels=identity.labels),
        )
        spec = {
            "description": "Vibeyard: the app, its data stores and workers, per environment",
            "sourceRepos": sorted(set(repo_urls)),
            "destinations": [{"server": s, "namespace": ns} for s, ns in sorted(set(destinations))],
            "clusterResourceWhitelist": [{"group": "", "kind": "Namespace"}],
            "namespaceResourceWhitelist": [{"group": g, "kind": k} for g, k in NAMESPACED_KINDS],
            "orphanedResources": {"warn": True},
        }
        project.add_json_patch(cdk8s.JsonPatch.add("/spec", spec))
