"""Pod Security Standards "restricted" (v1.28), plus our own stricter bar.

The namespaces enforce "restricted", so a violating pod is refused at admission,
after the rollout has started. Checking the rendered pods here moves that
failure to review. On top of the standard we require a read-only root
filesystem (the images we run allow it) and a ServiceAccount of the workload's
own with no token mounted, since none of our pods talks to the API server.
"""

from __future__ import annotations

from collections import Counter

from .manifests import Manifest, containers, violation, workloads

ALLOWED_VOLUME_TYPES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)
HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")
SECCOMP_OK = frozenset({"RuntimeDefault", "Localhost"})


def _effective(pod_ctx: Manifest, ctx: Manifest, key: str) -> object:
    """A container's securityContext field, falling back to the pod's."""
    return ctx[key] if key in ctx else pod_ctx.get(key)


def restricted_violations(env: str, objects: list[Manifest]) -> list[str]:
    out: list[str] = []
    for obj, spec in workloads(objects):

        def fail(rule: str, detail: str, obj: Manifest = obj) -> None:
            out.append(violation(env, obj, rule, detail))

        pod_ctx = spec.get("securityContext") or {}
        for field in HOST_NAMESPACES:
            if spec.get(field):
                fail("pod security: host namespaces", f"{field} must not be true")
        for volume in spec.get("volumes") or []:
            kinds = set(volume) - {"name"}
            if not kinds <= ALLOWED_VOLUME_TYPES:
                fail("pod security: volume types", f"volume {volume['name']} uses {sorted(kinds)}")
        if pod_ctx.get("seccompProfile", {}).get("type") == "Unconfined":
            fail("pod security: seccomp", "the pod's seccompProfile must not be Unconfined")
        for _, c in containers(spec):
            ctx = c.get("securityContext") or {}
            name = c["name"]
            if ctx.get("privileged"):
                fail("pod security: privileged", f"container {name} is privileged")
            if ctx.get("allowPrivilegeEscalation") is not False:
                fail(
                    "pod security: privilege escalation",
                    f"container {name} must set allowPrivilegeEscalation false",
                )
            caps = ctx.get("capabilities") or {}
            if "ALL" not in (caps.get("drop") or []):
                fail("pod security: capabilities", f"container {name} must drop ALL capabilities")
            if set(caps.get("add") or []) - {"NET_BIND_SERVICE"}:
                fail("pod security: capabilities", f"container {name} adds {caps['add']}")
            if _effective(pod_ctx, ctx, "runAsNonRoot") is not True:
                fail("pod security: runAsNonRoot", f"container {name} must run with runAsNonRoot true")
            uid = _effective(pod_ctx, ctx, "runAsUser")
            if not isinstance(uid, int) or uid == 0:
                fail(
                    "pod security: runAsUser",
                    f"container {name} must run as an explicit non-zero uid, not {uid!r}",
                )
            seccomp = (ctx.get("seccompProfile") or pod_ctx.get("seccompProfile") or {}).get("type")
            if seccomp not in SECCOMP_OK:
                fail(
                    "pod security: seccomp",
                    f"container {name} needs seccompProfile RuntimeDefault, has {seccomp!r}",
                )
            if any(p.get("hostPort") for p in c.get("ports") or []):
                fail("pod security: host ports", f"container {name} must not use hostPort")
            if ctx.get("readOnlyRootFilesystem") is not True:
                fail("read-only root filesystem", f"container {name} must set readOnlyRootFilesystem true")
    return out


def service_account_violations(env: str, objects: list[Manifest]) -> list[str]:
    out: list[str] = []
    accounts = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ServiceAccount"}
    used: Counter[str] = Counter()
    for obj, spec in workloads(objects):
        name = spec.get("serviceAccountName")
        if not name or name == "default":
            out.append(violation(env, obj, "service account", "must name a dedicated ServiceAccount"))
            continue
        used[name] += 1
        if spec.get("automountServiceAccountToken") is not False:
            out.append(
                violation(env, obj, "service account", "pod must set automountServiceAccountToken false")
            )
        account = accounts.get(name)
        if account is None:
            out.append(violation(env, obj, "service account", f"ServiceAccount {name} is not rendered"))
        elif account.get("automountServiceAccountToken") is not False:
            out.append(
                violation(env, account, "service account", "must set automountServiceAccountToken false")
            )
    for name, count in used.items():
        if count > 1:
            out.append(f"{env}: ServiceAccount/{name}: service account: shared by {count} workloads")
    return out


def namespace_violations(env: str, objects: list[Manifest]) -> list[str]:
    out: list[str] = []
    for ns in (o for o in objects if o["kind"] == "Namespace"):
        labels = ns["metadata"].get("labels") or {}
        if labels.get("pod-security.kubernetes.io/enforce") != "restricted":
            out.append(violation(env, ns, "pod security admission", "namespace must enforce 'restricted'"))
    return out
