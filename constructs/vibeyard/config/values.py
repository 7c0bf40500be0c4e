"""The value types every part of the config uses: resources, images, placement, autoscaling."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from typing import Literal

from .base import settings

StoreMode = Literal["in-cluster", "managed"]
PullPolicy = Literal["Always", "IfNotPresent", "Never"]


@settings
class Resources:
    """Container requests and limits as Kubernetes quantities.

    A CPU limit is optional on purpose: CFS throttling hurts Node.js latency more
    than it protects neighbours, but memory is always limited so one leak cannot
    take a node down.
    """

    cpu_request: str
    memory_request: str
    memory_limit: str
    cpu_limit: str | None = None


@settings
class Image:
    """An image pinned by tag, and by digest where one is known.

    With a digest the reference becomes ``repo:tag@sha256:…``: the runtime pulls by
    digest (a moved tag can never change what runs) and the tag stays for readers.
    """

    repository: str
    tag: str
    digest: str | None = None
    pull_policy: PullPolicy = "IfNotPresent"

    @property
    def ref(self) -> str:
        if self.digest:
            return f"{self.repository}:{self.tag}@{self.digest}"
        return f"{self.repository}:{self.tag}"


@settings
class Toleration:
    key: str
    value: str | None = None
    operator: Literal["Equal", "Exists"] = "Equal"
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = "NoSchedule"


@settings
class Placement:
    """Where pods may land. Spot is *preferred*, never required, so pods still
    schedule onto on-demand nodes when the spot pool is drained or exhausted. The
    spot node label and toleration come from ``cluster.provider``."""

    prefer_spot: bool = False
    spot_weight: int = 80
    node_selector: Mapping[str, str] = field(default_factory=dict)
    tolerations: tuple[Toleration, ...] = ()


@settings
class Autoscaling:
    """HPA bounds. ``enabled=False`` keeps a fixed replica count instead."""

    enabled: bool
    min_replicas: int
    max_replicas: int
    cpu_utilization: int = 70
    memory_utilization: int | None = 80
    scale_down_stabilization_seconds: int = 300
    scale_down_max_percent: int = 50
    scale_down_period_seconds: int = 60


@settings
class Disruption:
    """PodDisruptionBudget, as maxUnavailable so a drain can always evict one pod."""

    max_unavailable: int = 1
