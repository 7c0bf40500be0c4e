"""ResourceQuota and LimitRange: present, from the config, and large enough.

The headroom is computed twice, neither time with ``config/sizing.py``: once
from the config by the rule the quota promises (every autoscaler at its
maximum; for each Deployment a release at that maximum, so its 25% surge plus
the old pods still in their termination grace period, which the quota counts;
plus the singletons, the exporter sidecars and the migration Job), once from
the rendered objects (HPA/ScaledObject maxima, each Deployment's own maxSurge,
every container's requests, an init container's only where it is the larger).
A quota below either would refuse pods during exactly the release at peak.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support import Output
from tests.validators.manifests import containers, pod_template
from vibeyard.config import EnvConfig
from vibeyard.config.quantity import cpu_millis, memory_bytes
from vibeyard.config.types import Resources

SURGE = 0.25


@dataclass
class Need:
    cpu_m: int = 0
    mem_req: int = 0
    mem_lim: int = 0
    pods: int = 0
    pvcs: int = 0
    storage: int = 0

    def add(self, res: Resources, pods: int, *, sidecar: bool = False) -> None:
        self.cpu_m += (cpu_millis(res.cpu_request) or 0) * pods
        self.mem_req += (memory_bytes(res.memory_request) or 0) * pods
        self.mem_lim += (memory_bytes(res.memory_limit) or 0) * pods
        if not sidecar:
            self.pods += pods


def _cpu(q: Any) -> int:
    value = cpu_millis(str(q))
    assert value is not None, q
    return value


def _mem(q: Any) -> int:
    value = memory_bytes(str(q))
    assert value is not None, q
    return value


def need_from_config(cfg: EnvConfig) -> Need:
    need = Need()

    def released(n: int) -> int:
        """New pods, the surge, and the old ones terminating."""
        return n + math.ceil(n * SURGE) + n

    exporter = cfg.monitoring.exporters.resources if cfg.monitoring.enabled else None
    hpa = cfg.web.autoscaling
    need.add(cfg.web.resources, released(hpa.max_replicas if hpa.enabled else cfg.web.replicas))
    for pool in cfg.workers:
        scales = cfg.keda.enabled or pool.max_replicas > max(pool.min_replicas, 1)
        need.add(pool.resources, released(max(pool.max_replicas, pool.replicas) if scales else pool.replicas))
    if cfg.pgbouncer.enabled:
        need.add(cfg.pgbouncer.resources, released(cfg.pgbouncer.replicas))
        if exporter:
            need.add(exporter, released(cfg.pgbouncer.replicas), sidecar=True)
    for mode, res, size in (
        (cfg.postgres.mode, cfg.postgres.resources, cfg.postgres.storage_size),
        (cfg.redis.mode, cfg.redis.resources, cfg.redis.storage_size),
    ):
        if mode == "in-cluster":
            need.add(res, 1)
            if exporter:
                need.add(exporter, 1, sidecar=True)
            need.pvcs += 1
            need.storage += _mem(size)
    if cfg.redis.mode == "in-cluster":
        need.add(cfg.cache.resources, released(1))
        if exporter:
            need.add(exporter, released(1), sidecar=True)
    if cfg.migration.enabled:
        need.add(cfg.web.resources, 1)
    return need


def need_from_manifests(objects: list[dict[str, Any]]) -> Need:
    maxima: dict[str, int] = {}
    for o in objects:
        if o["kind"] == "HorizontalPodAutoscaler":
            maxima[o["spec"]["scaleTargetRef"]["name"]] = o["spec"]["maxReplicas"]
        elif o["kind"] == "ScaledObject":
            maxima[o["spec"]["scaleTargetRef"]["name"]] = o["spec"]["maxReplicaCount"]
    need = Need()
    for o in objects:
        template = pod_template(o)
        if template is None or o["kind"] == "Pod":
            continue
        spec = o["spec"]
        name = o["metadata"]["name"]
        pods = spec.get("parallelism", 1) if o["kind"] == "Job" else maxima.get(name, spec.get("replicas", 1))
        if o["kind"] == "Deployment":
            surge = (spec.get("strategy", {}).get("rollingUpdate") or {}).get("maxSurge", "25%")
            # The surge, and the old ReplicaSet's pods terminating while the new ones start.
            pods += (math.ceil(pods * int(surge[:-1]) / 100) if isinstance(surge, str) else int(surge)) + pods
        per_pod = {"cpu": 0, "req": 0, "lim": 0}
        init = {"cpu": 0, "req": 0, "lim": 0}
        for field, c in containers(template["spec"]):
            res = c.get("resources") or {}
            row = {
                "cpu": _cpu(res.get("requests", {}).get("cpu", "0")),
                "req": _mem(res.get("requests", {}).get("memory", "0")),
                "lim": _mem(res.get("limits", {}).get("memory", "0")),
            }
            for key, value in row.items():
                if field == "initContainers":  # init containers run before, not beside, the others
                    init[key] = max(init[key], value)
                else:
                    per_pod[key] += value
        need.cpu_m += max(per_pod["cpu"], init["cpu"]) * pods
        need.mem_req += max(per_pod["req"], init["req"]) * pods
        need.mem_lim += max(per_pod["lim"], init["lim"]) * pods
        need.pods += pods
        for claim in spec.get("volumeClaimTemplates") or []:
            need.pvcs += spec.get("replicas", 1)
            need.storage += _mem(claim["spec"]["resources"]["requests"]["storage"]) * spec.get("replicas", 1)
    return need


def shortfalls(env: str, quota: dict[str, Any], need: Need, source: str) -> list[str]:
    hard = quota["spec"]["hard"]
    rows = [
        ("requests.cpu", _cpu(hard["requests.cpu"]), need.cpu_m, "m"),
        ("requests.memory", _mem(hard["requests.memory"]), need.mem_req, "B"),
        ("limits.memory", _mem(hard["limits.memory"]), need.mem_lim, "B"),
        ("pods", int(hard["pods"]), need.pods, ""),
        ("persistentvolumeclaims", int(hard["persistentvolumeclaims"]), need.pvcs, ""),
        ("requests.storage", _mem(hard["requests.storage"]), need.storage, "B"),
    ]
    return [
        f"{env}: ResourceQuota/{quota['metadata']['name']}: quota headroom: {key} is {have}{unit} but the "
        f"peak from the {source} needs {want}{unit}"
        for key, have, want, unit in rows
        if have < want
    ]


def test_quota_and_limit_range_follow_the_config(out: Output) -> None:
    (quota,) = out.of_kind("ResourceQuota")
    (limits,) = out.of_kind("LimitRange")
    q = out.cfg.quota
    hard = quota["spec"]["hard"]
    assert _cpu(hard["requests.cpu"]) == _cpu(q.cpu_requests)
    assert _mem(hard["requests.memory"]) == _mem(q.memory_requests)
    assert _mem(hard["limits.memory"]) == _mem(q.memory_limits)
    assert int(hard["pods"]) == q.pods and int(hard["persistentvolumeclaims"]) == q.pvcs
    (item,) = limits["spec"]["limits"]
    assert item["type"] == "Container" and {"cpu", "memory"} <= item["defaultRequest"].keys()
    assert "memory" in item["default"] and "cpu" not in item["default"], "no default CPU limit, by design"


def test_quota_covers_peak_computed_from_config(out: Output) -> None:
    (quota,) = out.of_kind("ResourceQuota")
    problems = shortfalls(out.cfg.name, quota, need_from_config(out.cfg), "config")
    assert not problems, "\n".join(problems)


def test_quota_covers_peak_computed_from_rendered_objects(out: Output) -> None:
    (quota,) = out.of_kind("ResourceQuota")
    problems = shortfalls(out.cfg.name, quota, need_from_manifests(out.objects), "rendered objects")
    assert not problems, "\n".join(problems)


def test_planted_quota_below_peak_is_caught(outputs: dict[str, Output]) -> None:
    quota = copy.deepcopy(outputs["prod"].of_kind("ResourceQuota")[0])
    quota["spec"]["hard"]["pods"] = 3
    problems = shortfalls("prod", quota, need_from_manifests(outputs["prod"].objects), "rendered objects")
    assert len(problems) == 1 and problems[0].startswith(
        "prod: ResourceQuota/vibeyard-quota: quota headroom: pods is 3 but the peak"
    ), problems


@pytest.mark.parametrize("name", ["keda-off", "managed-redis", "bare"])
def test_variants_quota_covers_their_rendered_peak(variants: dict[str, Output], name: str) -> None:
    out = variants[name]
    (quota,) = out.of_kind("ResourceQuota")
    problems = shortfalls(name, quota, need_from_manifests(out.objects), "rendered objects")
    assert not problems, "\n".join(problems)
