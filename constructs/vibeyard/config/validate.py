"""The rules that span an environment: they need its topology, not one block.

Field rules live beside their fields (``setting(rule=...)``) and rules across one
block's fields beside them (``@check``); what is left here reads several blocks
or what the environment runs (``ENV_CHECKS``), or several environments at once
(``TOGETHER_CHECKS``). Each check is registered under an id, so tests can prove
that every rule has a failing example.

They run even when a field broke its own rule, so that one run reports every
mistake: a check reads such values without failing (a quantity that does not
parse counts as zero), and ``load`` drops its line for a field that has one.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator, Mapping

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
        ("pvcs", q.pvcs, sum(w.replicas for w in topo.workloads if w.storage is not None), ""),
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
    """Every environment-wide problem of one environment."""
    topo = Topology.of(cfg)
    for rule, check in ENV_CHECKS.items():
        yield from (dataclasses.replace(p, rule=rule) for p in check(cfg, topo))


Named = Iterator[tuple[str, Problem]]  # a problem and the environment it is reported for


def _namespace_unique(configs: Mapping[str, EnvConfig]) -> Named:
    """Two environments in one namespace would overwrite each other's objects and prune
    each other in Argo CD."""
    seen: dict[str, str] = {}
    for env, cfg in configs.items():
        other = seen.setdefault(cfg.namespace, env)
        if other != env:
            why = f"a namespace of its own; {other} uses it already"
            yield env, Problem("namespace", cfg.namespace, why, "")


def _branch_unique(configs: Mapping[str, EnvConfig]) -> Named:
    """A push to a branch releases the one environment that tracks it (deploy.yml): a second
    environment on the same branch would leave every push to it with no environment to deploy."""
    seen: dict[str, str] = {}
    for env, cfg in configs.items():
        if cfg.gitops is None:
            continue
        other = seen.setdefault(cfg.gitops.target_revision, env)
        if other != env:
            why = f"a branch of its own; {other} tracks it already"
            yield env, Problem("gitops.target_revision", cfg.gitops.target_revision, why, "")


def _promote_from(configs: Mapping[str, EnvConfig]) -> Named:
    for env, cfg in configs.items():
        source = cfg.gitops.promote_from if cfg.gitops else None
        if source is not None and (source == env or source not in configs or configs[source].gitops is None):
            why = "another environment deployed by Argo CD, or None"
            yield env, Problem("gitops.promote_from", source, why, "")


TOGETHER_CHECKS: dict[str, Callable[[Mapping[str, EnvConfig]], Named]] = {
    "env.namespace_unique": _namespace_unique,
    "env.branch_unique": _branch_unique,
    "env.promote_from": _promote_from,
}


def validate_together(configs: Mapping[str, EnvConfig]) -> Named:
    """What no single environment can check, over environments that each passed their own."""
    for rule, check in TOGETHER_CHECKS.items():
        yield from ((env, dataclasses.replace(p, rule=rule)) for env, p in check(configs))
