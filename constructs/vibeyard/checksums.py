"""Roll a workload exactly when what it reads changes: ``checksum/*`` pod annotations.

Kubernetes does not restart pods when a ConfigMap or Secret they read changes. A
checksum of that content in the pod template does: a change to it is a new pod
template, so the Deployment or StatefulSet rolls. Each checksum covers only what
that pod reads, found in the rendered pod spec itself (``env`` and ``envFrom``
references, ConfigMap and Secret volumes): rotating ``openai-api-key`` rolls the
web tier and the workers, never the queue Redis, whose restart would stop every
enqueue while it reloads its AOF. A Secret's content is known only when it is
rendered here (sealed); an external or existing one relies on Reloader
(``secrets.reloader``). Jobs are left alone: their pod template is immutable, and
the migration Job is recreated on every sync anyway.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

Manifest = dict[str, Any]
ROLLED = ("Deployment", "StatefulSet")


def _digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def _reads(pod: Mapping[str, Any], secret: str) -> tuple[set[str], set[str] | None]:
    """``(ConfigMap names, keys of ``secret``)`` the pod reads; None: all of the Secret's keys."""
    maps: set[str] = set()
    keys: set[str] | None = set()
    for c in [*pod.get("initContainers", []), *pod.get("containers", [])]:
        for source in c.get("envFrom", []):
            maps |= {source["configMapRef"]["name"]} if "configMapRef" in source else set()
            if source.get("secretRef", {}).get("name") == secret:
                keys = None
        for var in c.get("env", []):
            ref = var.get("valueFrom", {})
            if "configMapKeyRef" in ref:
                maps.add(ref["configMapKeyRef"]["name"])
            if keys is not None and ref.get("secretKeyRef", {}).get("name") == secret:
                keys.add(ref["secretKeyRef"]["key"])
    for volume in pod.get("volumes", []):
        maps |= {volume["configMap"]["name"]} if "configMap" in volume else set()
        if volume.get("secret", {}).get("secretName") == secret and keys is not None:
            items = volume["secret"].get("items")
            keys = keys | {i["key"] for i in items} if items else None
    return maps, keys


def _templates(objects: list[Manifest]) -> Iterator[Manifest]:
    for obj in objects:
        if obj["kind"] in ROLLED:
            yield obj["spec"]["template"]


def stamp(objects: list[Manifest], secret: str, sealed: Mapping[str, str] | None) -> None:
    """Add ``checksum/config`` and ``checksum/secret`` to every rolled pod template."""
    data = {o["metadata"]["name"]: o.get("data", {}) for o in objects if o["kind"] == "ConfigMap"}
    for template in _templates(objects):
        maps, keys = _reads(template["spec"], secret)
        sums = {}
        if maps & set(data):
            sums["checksum/config"] = _digest({name: data[name] for name in sorted(maps & set(data))})
        if sealed and keys != set():
            read = sealed if keys is None else {k: v for k, v in sealed.items() if k in keys}
            sums["checksum/secret"] = _digest(read)
        if sums:
            meta = template.setdefault("metadata", {})
            meta["annotations"] = dict(sorted({**meta.get("annotations", {}), **sums}.items()))
