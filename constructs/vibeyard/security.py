"""Pod Security "restricted", in one place.

Every namespace enforces the restricted profile, so a pod that misses one of
these fields is rejected at admission, not at review. Keeping the settings in
one module means a workload cannot forget one.
"""

from __future__ import annotations

from cdk8s_plus_28 import k8s

RUNTIME_DEFAULT = k8s.SeccompProfile(type="RuntimeDefault")


def pod_security(uid: int, gid: int | None = None, fs_group: int | None = None) -> k8s.PodSecurityContext:
    return k8s.PodSecurityContext(
        run_as_non_root=True,
        run_as_user=uid,
        run_as_group=gid if gid is not None else uid,
        fs_group=fs_group,
        fs_group_change_policy="OnRootMismatch" if fs_group is not None else None,
        seccomp_profile=RUNTIME_DEFAULT,
    )


def container_security(read_only_root: bool = True) -> k8s.SecurityContext:
    return k8s.SecurityContext(
        allow_privilege_escalation=False,
        privileged=False,
        read_only_root_filesystem=read_only_root,
        run_as_non_root=True,
        capabilities=k8s.Capabilities(drop=["ALL"]),
        seccomp_profile=RUNTIME_DEFAULT,
    )
