"""Helpers shared by the validators: walking objects, pods and containers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import yaml

Manifest = dict[str, Any]


def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` through libyaml: the same objects, eight times faster on our output."""
    return yaml.load(text, Loader=yaml.CSafeLoader)


def load_yaml_all(text: str) -> list[Any]:
    return list(yaml.load_all(text, Loader=yaml.CSafeLoader))


POD_TEMPLATE_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"})


def ref(manifest: Manifest) -> str:
    return f"{manifest.get('kind', '?')}/{manifest.get('metadata', {}).get('name', '?')}"


def violation(env: str, manifest: Manifest, rule: str, detail: str) -> str:
    return f"{env}: {ref(manifest)}: {rule}: {detail}"


def pod_template(manifest: Manifest) -> Manifest | None:
    """The pod template of a workload (CronJobs nest one level deeper), else None."""
    kind = manifest.get("kind")
    if kind == "CronJob":
        template: Manifest = manifest["spec"]["jobTemplate"]["spec"]["template"]
        return template
    if kind in POD_TEMPLATE_KINDS:
        template = manifest["spec"]["template"]
        return template
    if kind == "Pod":
        return manifest
    return None


def pod_spec(manifest: Manifest) -> Manifest | None:
    template = pod_template(manifest)
    return None if template is None else template.get("spec", {})


def containers(spec: Manifest) -> Iterator[tuple[str, Manifest]]:
    """Every container of a pod spec, with the list it sits in (init containers count)."""
    for field in ("initContainers", "containers", "ephemeralContainers"):
        for container in spec.get(field) or []:
            yield field, container


def workloads(objects: list[Manifest]) -> Iterator[tuple[Manifest, Manifest]]:
    for obj in objects:
        spec = pod_spec(obj)
        if spec is not None:
            yield obj, spec


def matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """Kubernetes label-selector semantics (matchLabels AND matchExpressions)."""
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        ok = {
            "In": key in labels and labels[key] in values,
            "NotIn": key not in labels or labels[key] not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[op]
        if not ok:
            return False
    return True
