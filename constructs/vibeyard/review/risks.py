"""Risk flags: what a real cluster refuses or loses (blocking), and what a reviewer should see.

Blocking: the API server rejects an update of an immutable field, so the sync stops at that
object's wave; or pruning a removed stateful object loses data; or an Argo CD Application
moves, which builds a second copy of the environment while the first keeps running
unmanaged. Each needs hand steps, which an upgrade note gives (notes.py).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from vibeyard.review.tree import Doc, Obj

WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet")
# Pruning these loses data (volumes, sealed keys) or, for a Namespace, everything in it.
STATEFUL = ("StatefulSet", "PersistentVolumeClaim", "Namespace", "SealedSecret", "Secret", "ExternalSecret")
HOOK = "argocd.argoproj.io/hook"


@dataclass(frozen=True)
class Flag:
    blocking: bool
    folder: str
    key: str  # the object (kind/namespace/name), or "" for a connection
    text: str


def _get(doc: Any, path: str) -> Any:
    for part in path.split("."):
        doc = doc.get(part) if isinstance(doc, dict) else None
    return doc


def _annotations(doc: Doc) -> dict[str, Any]:
    found = _get(doc, "metadata.annotations")
    return found if isinstance(found, dict) else {}


def _service(old: Doc, new: Doc) -> Iterator[str]:
    for field in ("clusterIP", "clusterIPs"):
        if _get(old, f"spec.{field}") != _get(new, f"spec.{field}"):
            yield f"spec.{field} changed (immutable once allocated): delete and re-create the Service"
    before, after = _get(old, "spec.type") or "ClusterIP", _get(new, "spec.type") or "ClusterIP"
    headless = _get(old, "spec.clusterIP") == "None"
    if before != after and ("ExternalName" in (before, after) or (headless and after != "ClusterIP")):
        yield f"spec.type {before} → {after} needs a new Service (no cluster IP is added or dropped in place)"


def _without_storage(resources: Any) -> Any:
    trimmed = copy.deepcopy(resources) if isinstance(resources, dict) else {}
    requests = trimmed.get("requests")
    if isinstance(requests, dict):
        requests.pop("storage", None)
    return trimmed


def _pvc(old: Doc, new: Doc) -> Iterator[str]:
    """A PVC's spec is immutable but for a storage request that grows (volume expansion)."""
    old_spec, new_spec = dict(_get(old, "spec") or {}), dict(_get(new, "spec") or {})
    old_res, new_res = old_spec.pop("resources", None), new_spec.pop("resources", None)
    if old_spec != new_spec or _without_storage(old_res) != _without_storage(new_res):
        yield "spec changed (immutable but for a larger storage request): the API server refuses the update"
        return
    before = quantity(_get(old_res, "requests.storage"))
    after = quantity(_get(new_res, "requests.storage"))
    if before != after and (before is None or after is None or after < before):
        yield "storage request shrinks or goes away: a volume never shrinks, the API server refuses it"


def _immutable(old: Obj, new: Obj) -> Iterator[str]:
    kind, o, n = new.kind, old.body, new.body
    if kind in WORKLOADS and _get(o, "spec.selector") != _get(n, "spec.selector"):
        yield "spec.selector changed (immutable): the API server refuses the update"
    if kind == "StatefulSet":
        for field in ("serviceName", "volumeClaimTemplates", "podManagementPolicy"):
            if _get(o, f"spec.{field}") != _get(n, f"spec.{field}"):
                yield f"spec.{field} changed (immutable): the API server refuses the update"
    if kind == "PersistentVolumeClaim":
        yield from _pvc(o, n)
    hooks = HOOK in _annotations(o) and HOOK in _annotations(n)
    if kind == "Job" and not hooks and _get(o, "spec.template") != _get(n, "spec.template"):
        yield "spec.template of a Job that is not an Argo CD hook changed (immutable): delete the Job first"
    if kind == "Service":
        yield from _service(o, n)
    sealed = kind in ("ConfigMap", "Secret") and o.get("immutable") is True
    if sealed and any(o.get(f) != n.get(f) for f in ("data", "binaryData", "stringData", "immutable")):
        yield "changed although it is immutable: true; create one under a new name instead"
    if kind == "Application" and str(o.get("apiVersion", "")).startswith("argoproj.io/"):
        moved = [
            f"{f}: {_get(o, f'spec.destination.{f}')} → {_get(n, f'spec.destination.{f}')}"
            for f in ("server", "name", "namespace")
            if _get(o, f"spec.destination.{f}") != _get(n, f"spec.destination.{f}")
        ]
        if moved:
            yield (
                f"destination moved ({', '.join(moved)}): Argo CD builds a second copy there "
                "while the old one keeps running unmanaged"
            )


def blocking(folder: str, old: dict[str, Obj], new: dict[str, Obj]) -> list[Flag]:
    flags = []
    for key in sorted(old.keys() & new.keys()):
        flags += [Flag(True, folder, key, text) for text in _immutable(old[key], new[key])]
    for key in sorted(old.keys() - new.keys()):
        if old[key].kind in STATEFUL:
            what = "everything in it" if old[key].kind == "Namespace" else "its data"
            flags.append(Flag(True, folder, key, f"removed: deleting or pruning it loses {what}"))
    return flags


# --------------------------------------------------------------------------- informational

_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$")
_SUFFIX = {
    **{s: 1024.0**i for i, s in enumerate(("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"))},
    **{s: 1000.0**i for i, s in enumerate(("", "k", "M", "G", "T", "P", "E"))},
    **{"n": 1e-9, "u": 1e-6, "m": 1e-3},
}


def quantity(value: Any) -> float | None:
    """A Kubernetes quantity (``500m``, ``8Gi``, ``10``) as a number, or None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    match = _QUANTITY.match(str(value).strip()) if isinstance(value, str) else None
    return float(match[1]) * _SUFFIX[match[2] or ""] if match else None


def _secret_keys(doc: Doc) -> set[str]:
    kind = doc.get("kind")
    if kind == "SealedSecret":
        return set(_get(doc, "spec.encryptedData") or {})
    if kind == "ExternalSecret":
        items = _get(doc, "spec.data") or []
        return {str(item["secretKey"]) for item in items if isinstance(item, dict) and "secretKey" in item}
    if kind == "Secret":
        return set(doc.get("data") or {}) | set(doc.get("stringData") or {})
    return set()


def _secrets(o: Doc, n: Doc) -> Iterator[str]:
    before, after = _secret_keys(o), _secret_keys(n)
    if after - before:
        yield f"secret keys added: {', '.join(sorted(after - before))}"
    if before - after:
        yield f"secret keys removed: {', '.join(sorted(before - after))}"


# kind -> (field, default when absent): the floor of the replica count.
_FLOORS = {
    "Deployment": ("spec.replicas", None),
    "StatefulSet": ("spec.replicas", None),
    "HorizontalPodAutoscaler": ("spec.minReplicas", 1),
    "ScaledObject": ("spec.minReplicaCount", 0),
}


def _replicas(o: Doc, n: Doc) -> Iterator[str]:
    field, default = _FLOORS.get(str(n.get("kind")), ("", None))
    if not field:
        return
    before, after = _get(o, field), _get(n, field)
    before, after = default if before is None else before, default if after is None else after
    if isinstance(before, int) and isinstance(after, int) and after < before:
        yield f"minimum replicas lowered: {field} {before} → {after}"


def _budget(o: Doc, n: Doc) -> Iterator[str]:
    if n.get("kind") != "PodDisruptionBudget":
        return
    for field, looser in (("maxUnavailable", 1), ("minAvailable", -1)):
        before, after = _get(o, f"spec.{field}"), _get(n, f"spec.{field}")
        if before == after:
            continue
        percent = [isinstance(v, str) and v.endswith("%") for v in (before, after)]
        b, a = (quantity(str(v).removesuffix("%")) if v is not None else None for v in (before, after))
        if b is None or a is None or percent[0] != percent[1]:
            yield f"disruption budget changed: spec.{field} {before} → {after} (compare by hand)"
        elif (a - b) * looser > 0:
            yield f"disruption budget looser: spec.{field} {before} → {after}"


def _quota(o: Doc, n: Doc) -> Iterator[str]:
    if n.get("kind") != "ResourceQuota":
        return
    before, after = _get(o, "spec.hard") or {}, _get(n, "spec.hard") or {}
    for resource, value in after.items():
        old = before.get(resource)
        if old is None:
            yield f"quota added: {resource} {value}"
        elif (
            (q_new := quantity(value)) is not None and (q_old := quantity(old)) is not None and q_new < q_old
        ):
            yield f"quota lowered: {resource} {old} → {value}"


def _pod_spec(doc: Doc) -> Any:
    return _get(doc, "spec.jobTemplate.spec.template.spec") or _get(doc, "spec.template.spec")


def _images(o: Doc, n: Doc) -> Iterator[str]:
    old_spec, new_spec = _pod_spec(o), _pod_spec(n)
    if not (isinstance(old_spec, dict) and isinstance(new_spec, dict)):
        return
    for group in ("initContainers", "containers"):
        before = {c.get("name"): c.get("image") for c in old_spec.get(group) or [] if isinstance(c, dict)}
        for c in new_spec.get(group) or []:
            name = c.get("name") if isinstance(c, dict) else None
            if name in before and before[name] != c.get("image"):
                yield f"image of {name}: {before[name]} → {c.get('image')}"


INFO_RULES: tuple[Callable[[Doc, Doc], Iterator[str]], ...] = (_images, _secrets, _replicas, _budget, _quota)


def informational(folder: str, old: dict[str, Obj], new: dict[str, Obj]) -> list[Flag]:
    flags = []
    for key in sorted(old.keys() & new.keys()):
        for rule in INFO_RULES:
            flags += [Flag(False, folder, key, text) for text in rule(old[key].body, new[key].body)]
    for key in sorted(old.keys() - new.keys()):
        if old[key].kind == "Application":
            text = (
                "Argo CD Application removed: if it was applied by hand, nothing prunes it; delete it by hand"
            )
            flags.append(Flag(False, folder, key, text))
    return flags


def connections(env: str, old: list[str] | None, new: list[str] | None) -> list[Flag]:
    """Connections allowed now (+) or no longer (-), per the connectivity lists (if both sides have one)."""
    if old is None or new is None:
        return []
    added = [Flag(False, env, "", f"+ {line}") for line in sorted(set(new) - set(old))]
    return added + [Flag(False, env, "", f"- {line}") for line in sorted(set(old) - set(new))]
