"""The scaffolding every pod of ours shares, in one place.

Every namespace enforces Pod Security "restricted", so a pod that misses one of
these fields is refused at admission, not at review. Building every pod through
``pod_template`` and every container through ``container`` means a workload
cannot forget one: its own ServiceAccount with no API token (none of our
workloads talks to the API server), non-root with a fixed uid and group,
seccomp ``RuntimeDefault``, no privilege escalation, all capabilities dropped,
and a read-only root filesystem with a size-limited ``/tmp``. (The checksums that
roll pods when what they read changes are stamped on the output: ``checksums.py``.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cdk8s_plus_28 import k8s

from .config.types import Image, Placement
from .identity import Identity
from .kube import Site, empty_dir
from .scaling import placement as placing

RUNTIME_DEFAULT = k8s.SeccompProfile(type="RuntimeDefault")
TMP_VOLUME = "tmp"


@dataclass(frozen=True)
class RunAs:
    """The uid and gid an image's own non-root user has; files it writes on a
    volume get the gid through ``fsGroup``."""

    uid: int
    gid: int | None = None

    @property
    def group(self) -> int:
        return self.uid if self.gid is None else self.gid


def container(
    *,
    name: str,
    image: Image,
    mounts: Sequence[k8s.VolumeMount] = (),
    run_as: RunAs | None = None,
    tmp: bool = True,
    **spec: Any,
) -> k8s.Container:
    """A restricted container with ``/tmp`` mounted last.

    :param run_as: a sidecar image's own user, when it differs from the pod's. Default: the pod's.
    :param tmp: mount the pod's ``/tmp``. Default True; a sidecar that writes nothing says False.
    :param spec: the rest of ``k8s.Container``.
    """
    return k8s.Container(
        name=name,
        image=image.ref,
        image_pull_policy=image.pull_policy,
        security_context=k8s.SecurityContext(
            allow_privilege_escalation=False,
            privileged=False,
            read_only_root_filesystem=True,
            run_as_non_root=True,
            run_as_user=run_as.uid if run_as else None,
            run_as_group=run_as.group if run_as else None,
            capabilities=k8s.Capabilities(drop=["ALL"]),
            seccomp_profile=RUNTIME_DEFAULT,
        ),
        volume_mounts=[*mounts, *([k8s.VolumeMount(name=TMP_VOLUME, mount_path="/tmp")] if tmp else [])]
        or None,
        **spec,
    )


def pod_template(
    *,
    identity: Identity,
    site: Site,
    run_as: RunAs,
    containers: Sequence[k8s.Container],
    placement: Placement | None = None,
    tmp_size: str = "256Mi",
    volumes: Sequence[k8s.Volume] = (),
    **spec: Any,
) -> k8s.PodTemplateSpec:
    """A pod template with the shared scaffolding.

    :param identity: labels of the pods (and so what selectors match); its name is the
        workload's own ServiceAccount, whose token is never mounted.
    :param site: the namespace's pull secrets and the provider's spot nodes.
    :param run_as: the image's non-root user; also the ``fsGroup``.
    :param containers: built with ``container`` so each mounts ``/tmp``.
    :param placement: node selector, tolerations and spot preference. Default: anywhere.
    :param tmp_size: size limit of the ``/tmp`` emptyDir. Default 256Mi.
    :param volumes: volumes besides ``/tmp``. Default none.
    :param spec: the rest of ``k8s.PodSpec`` (grace period, spread, init containers...).
    """
    pod = k8s.PodSpec(
        service_account_name=identity.name,
        automount_service_account_token=False,
        security_context=k8s.PodSecurityContext(
            run_as_non_root=True,
            run_as_user=run_as.uid,
            run_as_group=run_as.group,
            fs_group=run_as.group,
            fs_group_change_policy="OnRootMismatch",
            seccomp_profile=RUNTIME_DEFAULT,
        ),
        affinity=placing.affinity(placement, site.spot) if placement else None,
        node_selector=placing.node_selector(placement) if placement else None,
        tolerations=placing.tolerations(placement, site.spot) if placement else None,
        image_pull_secrets=[k8s.LocalObjectReference(name=n) for n in site.pull_secrets] or None,
        containers=list(containers),
        volumes=[*volumes, empty_dir(TMP_VOLUME, tmp_size)],
        **spec,
    )
    return k8s.PodTemplateSpec(
        metadata=k8s.ObjectMeta(labels=identity.running_labels),
        spec=pod,
    )
