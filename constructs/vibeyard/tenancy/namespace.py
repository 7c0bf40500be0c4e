"""The environment's Namespace, with Pod Security "restricted" enforced.

Enforcing at the namespace (not just writing compliant pods) means a future
manifest that forgets a security field is refused by the API server.
"""

from __future__ import annotations

from collections.abc import Mapping

from cdk8s_plus_28 import k8s
from constructs import Construct

from ..identity import Identity
from ..kube import meta

PSA_VERSION = "v1.28"


class Namespace(Construct):
    """
    :param name: the namespace's name.
    :param identity: the platform identity it is labelled with.
    :param labels: more labels, that other namespaces select it by (a shared Gateway). Default none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        identity: Identity,
        labels: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, id)
        metadata = meta(name, None, identity)
        labels = {**(metadata.labels or {}), **(labels or {})}
        for mode in ("enforce", "audit", "warn"):
            labels[f"pod-security.kubernetes.io/{mode}"] = "restricted"
            labels[f"pod-security.kubernetes.io/{mode}-version"] = PSA_VERSION
        k8s.KubeNamespace(self, "Resource", metadata=k8s.ObjectMeta(name=name, labels=labels))
        self.name = name
