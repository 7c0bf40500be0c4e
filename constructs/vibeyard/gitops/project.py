"""An Argo CD AppProject: the fence around the Applications that belong to it.

Argo CD's ``default`` project may deploy anything anywhere. The environments'
project allows only this repository, only the environments' namespaces on their
own clusters, and only the kinds the environments render, with the Namespace as
the one cluster-scoped kind: a compromised commit cannot create a ClusterRole or
deploy into ``kube-system``. The root Application gets a project of its own that
allows Applications and AppProjects in Argo CD's namespace and nothing else.
Resources in those namespaces that git does not hold are reported
(``orphanedResources``), never deleted; the ones that are ours on purpose (the
retained data volumes, cert-manager's certificates) are ignored.
"""

from __future__ import annotations

from collections.abc import Sequence

import cdk8s
from constructs import Construct

from ..identity import Identity

KIND = "AppProject"
API_VERSION = "argoproj.io/v1alpha1"
Kind = tuple[str, str]  # (API group, kind)


class AppProject(Construct):
    """
    :param name: the project's name.
    :param namespace: Argo CD's namespace.
    :param identity: the platform identity it is labelled with.
    :param description: what the project is for.
    :param repo_urls: the repositories its Applications may sync from.
    :param destinations: ``(cluster name, namespace)`` pairs its Applications may deploy to.
    :param namespaced_kinds: the namespaced kinds they may create.
    :param cluster_kinds: the cluster-scoped kinds they may create. Default none.
    :param orphans_ignored: ``(kind, name glob)`` not reported as orphaned. Default none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        namespace: str,
        identity: Identity,
        description: str,
        repo_urls: Sequence[str],
        destinations: Sequence[tuple[str, str]],
        namespaced_kinds: Sequence[Kind],
        cluster_kinds: Sequence[Kind] = (),
        orphans_ignored: Sequence[tuple[str, str]] = (),
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
        orphans: dict[str, object] = {"warn": True}
        if orphans_ignored:
            orphans["ignore"] = [{"group": "", "kind": k, "name": n} for k, n in orphans_ignored]
        spec = {
            "description": description,
            "sourceRepos": sorted(set(repo_urls)),
            "destinations": [{"name": c, "namespace": ns} for c, ns in sorted(set(destinations))],
            "clusterResourceWhitelist": [{"group": g, "kind": k} for g, k in cluster_kinds],
            "namespaceResourceWhitelist": [{"group": g, "kind": k} for g, k in namespaced_kinds],
            "orphanedResources": orphans,
        }
        project.add_json_patch(cdk8s.JsonPatch.add("/spec", spec))
