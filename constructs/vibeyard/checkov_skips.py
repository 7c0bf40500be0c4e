"""Reasoned checkov skips, applied as ``checkov.io/skip<N>`` annotations.

Every exception to a checkov rule lives in this one table with its reason, so a
reviewer reads all of them in one place, and the reason travels with the
manifest into any other scanner run on ``dist/``. A skip is granted per object
and only while the config makes it necessary: give the app image a digest, or
a pool a health command, or a component a CPU limit, and the skip disappears so
checkov checks the object again. ``tests/test_security_checkov.py`` fails on a
skip without a reason and on any failed check that is not skipped here.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import identity
from .config.types import EnvConfig, Resources

Skip = tuple[str, str]  # (check id, reason)

WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "Job", "CronJob", "DaemonSet"})

UID_REASON = (
    "runs as the image's own non-root user (app 1001, postgres/pgbouncer 70, redis 999) that owns "
    "its files; a uid of 10000 or more would break that ownership. runAsNonRoot is enforced and the "
    "namespace enforces Pod Security restricted"
)
SECRET_ENV_REASON = (
    "the app (Next.js, Prisma, BullMQ) and the stock postgres/redis/pgbouncer images read their "
    "credentials from environment variables; values come from a secretKeyRef to the one "
    "SealedSecret/ExternalSecret, never from plain text in git"
)
TAG_ONLY_REASON = (
    "the app image is pinned to an immutable release tag; its digest is only known at release, "
    "when CD sets VIBEYARD_IMAGE_DIGEST and this skip disappears"
)
PULL_POLICY_REASON = (
    "pull policy follows the config: IfNotPresent for an immutable release tag (no registry "
    "round trip per pod start), Never for dev's locally built image; digest-pinned images pass"
)
CPU_LIMIT_REASON = (
    "no CPU limit by design (config Resources): CFS throttling hurts request latency more "
    "than it protects neighbours; CPU requests and the namespace ResourceQuota bound usage"
)
WORKER_PROBE_REASON = (
    "a BullMQ worker serves no traffic, so readiness gates nothing, and this pool sets no "
    "health_command for an exec probe; BullMQ's stalled-job check re-queues work of a hung worker"
)


def _resources_of(kind: str, name: str, cfg: EnvConfig) -> Resources | None:
    """The configured resources of the workload ``kind/name``, if it is one of ours."""
    if name == identity.WEB[0] and kind == "Deployment":
        return cfg.web.resources
    if name.startswith(identity.MIGRATION[0]) and kind == "Job":
        return cfg.web.resources
    for pool in cfg.workers:
        if name == identity.worker_name(pool.name):
            return pool.resources
    stores = {
        identity.POSTGRES[0]: cfg.postgres.resources,
        identity.REDIS[0]: cfg.redis.resources,
        identity.PGBOUNCER[0]: cfg.pgbouncer.resources,
    }
    return stores.get(name)


def _runs_app_image(kind: str, name: str) -> bool:
    return kind in WORKLOAD_KINDS and name.startswith(identity.WEB[0])


def _checked(skips: list[Skip]) -> list[Skip]:
    # checkov splits the annotation value on every "=", so a second one crashes the scan.
    for check, reason in skips:
        if not reason.strip() or "=" in reason or "=" in check:
            raise ValueError(f"checkov skip {check}: the reason must be non-empty and contain no '='")
    return skips


def skips_for(kind: str, name: str, cfg: EnvConfig) -> Sequence[Skip]:
    res = _resources_of(kind, name, cfg) if kind in WORKLOAD_KINDS else None
    if res is None:
        return ()  # not one of our workloads: checkov must pass it as is
    skips: list[Skip] = [("CKV_K8S_40", UID_REASON), ("CKV_K8S_35", SECRET_ENV_REASON)]
    if _runs_app_image(kind, name) and cfg.image.digest is None:
        skips += [("CKV_K8S_43", TAG_ONLY_REASON), ("CKV_K8S_15", PULL_POLICY_REASON)]
    if res.cpu_limit is None:
        skips.append(("CKV_K8S_11", CPU_LIMIT_REASON))
    for pool in cfg.workers:
        if name == identity.worker_name(pool.name) and pool.health_command is None:
            skips += [("CKV_K8S_8", WORKER_PROBE_REASON), ("CKV_K8S_9", WORKER_PROBE_REASON)]
    return _checked(skips)
