"""The rules that span an environment: they need its topology, not one block.

Field rules live beside their fields (``setting(rule=...)``) and rules across one
block's fields beside them (``@check``); what is left here reads several blocks
or what the environment runs. Each check is registered in ``ENV_CHECKS`` under
an id, so tests can prove that every rule has a failing example.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator

from .fields import Problem
from .quantity import cpu_millis, memory_bytes
from .sizing import namespace_peak
from .topology import Topology
from .types import EnvConfig

EnvCheck = Callable[[EnvConfig, Topology], Iterator[Problem]]


def _named_once(cfg: EnvConfig, topo: Topology) -> Iterator[Problem]:
    """Pool and cluster names name objects (a Deployment, an Application): each once."""
    clusters = cfg.gitops.destinations if cfg.gitops else ()
    for path, names in (
        ("workers", [p.name for p in cfg.workers]),
        ("gitops.destinations", [d.name for d in clusters]),
    ):
        for i, name in enumerate(names):
            if name in names[:i]:
                yield Problem(f"{path}[{i}].name", name, "a name used only once", "")


def _spot_reclaim(cfg: EnvConfig, topo: Topology) -> Iterator[Problem]:
    spot = topo.spot
    for i, pool in enumerate(cfg.workers):
        if pool.placement is None or not pool.placement.prefer_spot or pool.interruptible:
            continue
        if pool.longest_job_seconds > spot.reclaim_notice_seconds:
            yield Problem(
                f"workers[{i}].placement.prefer_spot",
                True,
                f"False, or workers[{i}].interruptible=True: its jobs ({pool.longest_job_seconds}s) outlast "
                f"{cfg.cluster.provider}'s {spot.reclaim_notice_seconds}s spot reclaim notice",
                "",
            )


def _managed_database_host(cfg: EnvConfig, topo: Topology) -> Iterator[Problem]:
    if cfg.postgres.mode == "managed" and cfg.pgbouncer.enabled and cfg.postgres.host is None:
        yield Problem(
            "postgres.host", None, "the managed database's DNS name, which PgBouncer connects to", ""
        )


def _managed_database_egress(cfg: EnvConfig, topo: Topology) -> Iterator[Problem]:
    if cfg.postgres.mode == "managed" and not cfg.network.managed_egress:
        why = "at least one CIDR and port for the managed database when postgres.mode is 'managed'"
        yield Problem("network.managed_egress", (), why, "")


def _quota(cfg: EnvConfig, topo: Topology) -> Iterator[Problem]:
    """One line per ceiling below the peak, each with the value that would fit."""
    q, peak = cfg.quota, namespace_peak(topo)
    for field, have, need, unit in (
        ("cpu_requests", cpu_millis(q.cpu_requests), peak.cpu_requests_millis, "m"),
        ("memory_requests", memory_bytes(q.memory_requests), peak.memory_requests_bytes, "Mi"),
        ("memory_limits", memory_bytes(q.memory_limits), peak.memory_limits_bytes, "Mi"),
        ("pods", q.pods, peak.pods, ""),
        ("storage", memory_bytes(q.storage), peak.storage_bytes, "Mi"),
    ):
        if (have or 0) < need:
            shown = need if unit in ("", "m") else math.ceil(need / 1024**2)
            why = f"at least {shown}{unit}, the peak of every workload at its maximum during a rollout"
            yield Problem(f"quota.{field}", getattr(q, field), why, "")


ENV_CHECKS: dict[str, EnvCheck] = {
    "env.named_once": _named_once,
    "env.spot_reclaim": _spot_reclaim,
    "env.managed_database_host": _managed_database_host,
    "env.managed_database_egress": _managed_database_egress,
    "env.quota": _quota,
}


def validate(cfg: EnvConfig) -> Iterator[Problem]:
    """Every environment-wide problem of a config whose blocks already passed their own rules."""
    topo = Topology.of(cfg)
    for rule, check in ENV_CHECKS.items():
        yield from (dataclasses.replace(p, rule=rule) for p in check(cfg, topo))
