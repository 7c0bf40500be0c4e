"""Reasoned checkov skips, declared by each workload for itself.

A workload knows its own resources, image and probes, so it decides which of
checkov's rules it departs from and says why; the reasons are written once
here so every workload gives the same one. A skip is granted only while it is
needed: give the app image a digest, or a pool a health command, or a
container a CPU limit, and the skip disappears so checkov checks it again.
The reason travels with the manifest as a ``checkov.io/skip<N>`` annotation,
so any other scanner run on ``dist/`` sees it. ``tests/test_security_checkov.py``
fails on a skip without a reason and on any failed check that is not skipped.
"""

from __future__ import annotations

from collections.abc import Mapping

from .config.types import Image, Resources

Skip = tuple[str, str]  # (check id, reason)

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
    "a BullMQ worker serves no traffic, so readiness gates nothing; liveness is a TCP probe of its "
    "metrics port or the pool's health_command where set, and BullMQ's stalled-job check re-queues "
    "the work of a hung worker"
)


def workload_skips(
    resources: Resources,
    *,
    app_image: Image | None = None,
    liveness: bool = True,
    readiness: bool = True,
    secret_env: bool = True,
) -> list[Skip]:
    """The skips of one workload.

    :param resources: its containers' resources; no CPU limit needs a skip.
    :param app_image: the app image, if it runs it; without a digest it needs two skips.
    :param liveness: False for a workload with no liveness probe.
    :param readiness: False for a workload with no readiness probe.
    :param secret_env: it reads a credential from the Secret through an environment variable.
    """
    skips: list[Skip] = [("CKV_K8S_40", UID_REASON)]
    if secret_env:
        skips.append(("CKV_K8S_35", SECRET_ENV_REASON))
    if app_image is not None and app_image.digest is None:
        skips += [("CKV_K8S_43", TAG_ONLY_REASON), ("CKV_K8S_15", PULL_POLICY_REASON)]
    if resources.cpu_limit is None:
        skips.append(("CKV_K8S_11", CPU_LIMIT_REASON))
    if not liveness:
        skips.append(("CKV_K8S_8", WORKER_PROBE_REASON))
    if not readiness:
        skips.append(("CKV_K8S_9", WORKER_PROBE_REASON))
    return skips


def as_annotations(skips: list[Skip], others: Mapping[str, str] | None = None) -> dict[str, str]:
    """``checkov.io/skip<N>: <check>=<reason>``, merged with ``others``."""
    for check, reason in skips:
        # checkov splits the annotation value on every "=", so a second one crashes the scan.
        if not reason.strip() or "=" in reason or "=" in check:
            raise ValueError(f"checkov skip {check}: the reason must be non-empty and contain no '='")
    notes = dict(others or {})
    notes.update({f"checkov.io/skip{i}": f"{c}={why}" for i, (c, why) in enumerate(skips, start=1)})
    return dict(sorted(notes.items()))
