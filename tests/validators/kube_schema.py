"""kubernetes-validate, strict, on every built-in object.

Two versions: 1.28, the API our cdk8s-plus-28 target generates, and the newest
schema kubernetes-validate bundles, so an API version that a future cluster
removes fails here first. Strict mode rejects unknown fields, which catches a
misspelt key that the API server would silently drop. Custom resources
(SealedSecret, ScaledObject, VerticalPodAutoscaler, ServiceMonitor...) have no
bundled schema and are out of scope; a built-in kind whose schema is missing is
a removed API version and fails.
"""

from __future__ import annotations

import functools

import kubernetes_validate
import kubernetes_validate.utils

from .manifests import Manifest, violation

TARGET_VERSION = "1.28"

# API groups served by kube-apiserver itself. Note autoscaling.k8s.io (VPA) is a CRD.
BUILTIN_GROUPS = frozenset(
    {
        "",
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "apps",
        "autoscaling",
        "batch",
        "certificates.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "flowcontrol.apiserver.k8s.io",
        "networking.k8s.io",
        "node.k8s.io",
        "policy",
        "rbac.authorization.k8s.io",
        "scheduling.k8s.io",
        "storage.k8s.io",
    }
)


# kubernetes-validate re-reads and re-parses the multi-megabyte _definitions.json on
# every call; memoising its loader (pure: file name -> parsed JSON, never mutated
# by the validator) cuts this suite's schema time several-fold.
if hasattr(kubernetes_validate.utils, "schema_contents"):
    kubernetes_validate.utils.schema_contents = functools.cache(kubernetes_validate.utils.schema_contents)


def versions() -> tuple[str, str]:
    return TARGET_VERSION, str(kubernetes_validate.latest_version())


def is_builtin(manifest: Manifest) -> bool:
    api_version = str(manifest.get("apiVersion", ""))
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    return group in BUILTIN_GROUPS


def schema_violations(env: str, objects: list[Manifest], version: str) -> list[str]:
    out: list[str] = []
    for obj in objects:
        if not is_builtin(obj):
            continue
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError as err:
            out.append(violation(env, obj, f"kubernetes {version} schema", err.message))
        except kubernetes_validate.ValidationError as err:
            where = ".".join(str(p) for p in err.path) or "(root)"
            out.append(violation(env, obj, f"kubernetes {version} schema", f"at {where}: {err.message}"))
    return out
