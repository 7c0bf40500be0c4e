"""Environments grouped by the rendered config of what a test runs.

Where two environments render the same config for the servers under test, running the
same servers with the same config twice proves nothing new: such a test runs once per
distinct config, its id naming every environment that shares it (``staging+prod``).

The groups are read from dist/ at collection: the synthesis is a session fixture, not there
yet. A test then runs the first environment of its group and every other one whose config,
in the session's own synthesis, differs from those already run, so a stale dist/ costs
time, never a run.

An environment's config for a server is what a local run of it reads from the render: the
pod template (not its metadata, resources or scheduling, which no local run reads, nor the
exporter sidecars, which these tests do not start, nor the app's image, which the harness
never runs), the ConfigMap data and test Secret values it reads, the ports of the Services
in front of it, and the app's env variables a test connects with.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import pytest

from tests.support import ROOT, Manifest, Output
from vibeyard.config import all_configs, names

from .discover import WORKLOAD_KINDS, runs
from .secrets import TestSecret

Key = Callable[[Output], object]
APP_COMPONENTS = ("web", "worker", "migration")
NOT_READ_POD = ("affinity", "topologySpreadConstraints", "nodeSelector", "tolerations", "priorityClassName")
NOT_READ_CONTAINER = ("resources", "imagePullPolicy")
# Fixed passwords: the grouping must not depend on the session's random ones.
PASSWORDS = {"postgres": "postgres", "redis": "redis", "redis-cache": "redis-cache"}


def servers(
    *programs: str, jobs: bool = False, app_env: Sequence[str] = (), objects: Sequence[str] = ()
) -> Key:
    """The config of every workload running one of ``programs`` (``jobs``: and every Job),
    the app's ``app_env`` variables, and every rendered object of the kinds ``objects``."""

    def key(out: Output) -> object:
        secret = TestSecret(out.cfg, passwords=PASSWORDS)
        chosen = [w for k in WORKLOAD_KINDS for w in out.of_kind(k) if any(runs(w, p) for p in programs)]
        chosen += out.of_kind("Job") if jobs else []
        return {
            "workloads": [_local(out, secret, w) for w in chosen],
            "app_env": _app_env(out, secret, app_env),
            "objects": [
                {"name": o["metadata"]["name"], "spec": o["spec"]} for k in objects for o in out.of_kind(k)
            ],
        }

    return key


def groups(key: Key) -> list[Any]:
    """pytest params: one tuple of environment names per config in dist/, ids joined by '+'."""
    found: dict[str, list[str]] = {}
    for env in names():
        out = dist(env)
        found.setdefault(_canonical(key, out) if out else f"not rendered: {env}", []).append(env)
    return [pytest.param(tuple(envs), id="+".join(envs)) for envs in found.values()]


def runs_of(group: Sequence[str], outputs: Mapping[str, Output], key: Key) -> list[str]:
    """The environments of ``group`` to run: one per config the session's synthesis renders."""
    seen: dict[str, str] = {}
    for env in group:
        seen.setdefault(_canonical(key, outputs[env]), env)
    return list(seen.values())


@functools.cache
def dist(env: str) -> Output | None:
    """The environment's committed render (dist/<env>), None if it has none yet."""
    folder = ROOT / "dist" / env
    files = {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.yaml"))}
    return Output(all_configs()[env], files) if files else None


def _canonical(key: Key, out: Output) -> str:
    return json.dumps(key(out), sort_keys=True)


def _local(out: Output, secret: TestSecret, workload: Manifest) -> dict[str, Any]:
    spec = copy.deepcopy(workload["spec"]["template"]["spec"])
    for field in NOT_READ_POD:
        spec.pop(field, None)
    app = workload["metadata"].get("labels", {}).get("app.kubernetes.io/component") in APP_COMPONENTS
    spec["containers"] = [c for c in spec["containers"] if c["name"] != "exporter"]
    for c in [*spec["containers"], *spec.get("initContainers", [])]:
        for field in NOT_READ_CONTAINER:
            c.pop(field, None)
        if app:
            c.pop("image", None)
    labels = workload["spec"]["template"]["metadata"].get("labels", {})
    ports = [p for c in spec["containers"] for p in c.get("ports", [])]
    served = {p["containerPort"] for p in ports} | {p["name"] for p in ports if "name" in p}
    services = [
        {"name": svc["metadata"]["name"], "ports": [p for p in svc["spec"]["ports"] if _target(p) in served]}
        for svc in out.of_kind("Service")
        if _selects(svc["spec"].get("selector", {}), labels)
    ]
    maps, keys = _references(spec, secret)
    return {
        "kind": workload["kind"],
        # A Job's name changes with each release and is read by nothing a local run does.
        "name": workload["metadata"]["name"] if workload["kind"] != "Job" else "",
        "claims": sorted(t["metadata"]["name"] for t in workload["spec"].get("volumeClaimTemplates", [])),
        "pod": spec,
        "config_maps": {name: out.get("ConfigMap", name).get("data", {}) for name in sorted(maps)},
        "secret": {k: secret.values.get(k) for k in sorted(keys)},
        "services": services,
    }


def _references(spec: Manifest, secret: TestSecret) -> tuple[set[str], set[str]]:
    """The ConfigMaps and the Secret keys a pod spec reads."""
    maps: set[str] = set()
    keys: set[str] = set()
    for volume in spec.get("volumes", []):
        if "configMap" in volume:
            maps.add(volume["configMap"]["name"])
        if "secret" in volume:
            items = volume["secret"].get("items")
            keys |= {i["key"] for i in items} if items else secret.keys
    for c in [*spec["containers"], *spec.get("initContainers", [])]:
        for source in c.get("envFrom", []):
            if "configMapRef" in source:
                maps.add(source["configMapRef"]["name"])
            else:
                keys |= secret.keys
        for var in c.get("env", []):
            ref = var.get("valueFrom", {})
            if "configMapKeyRef" in ref:
                maps.add(ref["configMapKeyRef"]["name"])
            if "secretKeyRef" in ref:
                keys.add(ref["secretKeyRef"]["key"])
    return maps, keys


def _app_env(out: Output, secret: TestSecret, wanted: Sequence[str]) -> list[str]:
    """Each distinct definition of the ``wanted`` variables in the app's containers."""
    found = set()
    for component, var in _app_vars(out):
        if var["name"] in wanted:
            source = var.get("valueFrom", {})
            value = None
            if "secretKeyRef" in source:
                value = secret.values.get(source["secretKeyRef"]["key"])
            elif "configMapKeyRef" in source:
                ref = source["configMapKeyRef"]
                value = out.get("ConfigMap", ref["name"]).get("data", {}).get(ref["key"])
            found.add(json.dumps([component, var, value], sort_keys=True))
    return sorted(found)


def _app_vars(out: Output) -> Iterator[tuple[str, Manifest]]:
    for o in out.workloads():
        component = o["metadata"].get("labels", {}).get("app.kubernetes.io/component")
        if component in APP_COMPONENTS:
            for c in o["spec"]["template"]["spec"]["containers"]:
                for var in c.get("env", []):
                    yield component, var


def _target(port: Manifest) -> object:
    return port.get("targetPort", port["port"])


def _selects(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())
