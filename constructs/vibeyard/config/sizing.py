"""The namespace's worst case, derived from the config.

A ResourceQuota that is smaller than what the autoscalers may ask for fails
silently at the worst moment: the HPA wants more pods during a traffic spike and
the API server refuses them. The peak below is every autoscaler at its maximum,
plus the extra pods a RollingUpdate surges, plus the singletons. The quota is
checked against it at synth time, and a test recomputes it independently.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .quantity import cpu_millis, memory_bytes
from .types import EnvConfig, Resources, WorkerPool

SURGE_FRACTION = 0.25


@dataclass(frozen=True)
class Peak:
    cpu_requests_millis: int
    memory_requests_bytes: int
    memory_limits_bytes: int
    pods: int
    storage_bytes: int


def web_max_replicas(cfg: EnvConfig) -> int:
    hpa = cfg.web.autoscaling
    return max(hpa.max_replicas, cfg.web.replicas) if hpa.enabled else cfg.web.replicas


def pool_is_autoscaled(cfg: EnvConfig, pool: WorkerPool) -> bool:
    """KEDA scales every pool when enabled; otherwise a CPU HPA does, if the
    pool has room to scale at all."""
    return cfg.keda.enabled or pool.max_replicas > max(pool.min_replicas, 1)


def pool_max_replicas(cfg: EnvConfig, pool: WorkerPool) -> int:
    return max(pool.max_replicas, pool.replicas) if pool_is_autoscaled(cfg, pool) else pool.replicas


def namespace_peak(cfg: EnvConfig) -> Peak:
    rows: list[tuple[Resources, int]] = []

    def deployment(res: Resources, replicas: int) -> None:
        rows.append((res, replicas + math.ceil(replicas * SURGE_FRACTION)))

    deployment(cfg.web.resources, web_max_replicas(cfg))
    for pool in cfg.workers:
        deployment(pool.resources, pool_max_replicas(cfg, pool))
    if cfg.pgbouncer.enabled:
        deployment(cfg.pgbouncer.resources, cfg.pgbouncer.replicas)
    storage = 0
    if cfg.postgres.mode == "in-cluster":
        rows.append((cfg.postgres.resources, 1))
        storage += memory_bytes(cfg.postgres.storage_size) or 0
    if cfg.redis.mode == "in-cluster":
        rows.append((cfg.redis.resources, 1))
        storage += memory_bytes(cfg.redis.storage_size) or 0
    if cfg.migration.enabled:
        rows.append((cfg.web.resources, 1))
    return Peak(
        cpu_requests_millis=sum((cpu_millis(r.cpu_request) or 0) * n for r, n in rows),
        memory_requests_bytes=sum((memory_bytes(r.memory_request) or 0) * n for r, n in rows),
        memory_limits_bytes=sum((memory_bytes(r.memory_limit) or 0) * n for r, n in rows),
        pods=sum(n for _, n in rows),
        storage_bytes=storage,
    )
