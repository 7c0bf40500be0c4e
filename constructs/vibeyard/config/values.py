"""The value types every part of the config uses: resources, images, placement, autoscaling."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from . import rules
from .fields import check, setting, settings
from .quantity import cpu_millis, memory_bytes

StoreMode = Literal["in-cluster", "managed"]
PullPolicy = Literal["Always", "IfNotPresent", "Never"]


@settings
class Resources:
    """Container requests and limits as Kubernetes quantities.

    A CPU limit is optional on purpose: CFS throttling hurts Node.js latency more
    than it protects neighbours, but memory is always limited so one leak cannot
    take a node down.
    """

    cpu_request: str = setting(doc="requests.cpu, like '250m'", rule=rules.cpu)
    memory_request: str = setting(doc="requests.memory, like '512Mi'", rule=rules.memory)
    memory_limit: str = setting(doc="limits.memory, like '1Gi'", rule=rules.memory)
    cpu_limit: str | None = setting(
        default=None, doc="limits.cpu; None: no CPU limit", rule=rules.optional(rules.cpu)
    )

    @check("memory_request")
    def _memory_within_limit(self) -> str | None:
        ok = (memory_bytes(self.memory_request) or 0) <= (memory_bytes(self.memory_limit) or 0)
        return None if ok else f"at most the memory limit {self.memory_limit}"

    @check("cpu_request")
    def _cpu_within_limit(self) -> str | None:
        if self.cpu_limit is None or (cpu_millis(self.cpu_request) or 0) <= (cpu_millis(self.cpu_limit) or 0):
            return None
        return f"at most the CPU limit {self.cpu_limit}"


@settings
class Image:
    """An image pinned by tag, and by digest where one is known.

    With a digest the reference becomes ``repo:tag@sha256:…``: the runtime pulls by
    digest (a moved tag can never change what runs) and the tag stays for readers.
    """

    repository: str = setting(doc="registry and path, without a tag", rule=rules.repository)
    tag: str = setting(doc="the release tag; never 'latest'", rule=rules.image_tag)
    digest: str | None = setting(default=None, doc="'sha256:…'; pins the image exactly", rule=rules.digest)
    pull_policy: PullPolicy = setting(default="IfNotPresent", doc="imagePullPolicy")

    @property
    def ref(self) -> str:
        if self.digest:
            return f"{self.repository}:{self.tag}@{self.digest}"
        return f"{self.repository}:{self.tag}"


@settings
class Signatures:
    """The app image's cosign signature, from the build workflow ``organisation.py`` names.

    ``verify``: deploy.yml checks the release's signature before publishing, so the release
    must name a digest (a signature is over a digest). ``admission``: the cluster itself
    refuses unsigned app images in the namespace (sigstore policy-controller, which must be
    installed: docs/operations.md); ``warn`` admits them with a warning, to roll it out.
    """

    signer_identity: str = setting(
        doc="regular expression for the build workflow's certificate identity (organisation.py)",
        rule=rules.regex,
    )
    signer_issuer: str = setting(
        doc="that certificate's OIDC issuer (organisation.py)", rule=rules.url("https")
    )
    verify: bool = setting(default=False, doc="deploy.yml verifies the signature; releases need a digest")
    admission: Literal["off", "warn", "enforce"] = setting(
        default="off", doc="render the ClusterImagePolicy that checks it at admission"
    )
    # Platform components start pods in the namespace by tag, which no digest pin covers.
    unsigned_repositories: tuple[str, ...] = setting(
        default=("quay.io/jetstack/cert-manager-acmesolver",),
        doc="admitted unsigned at any tag: cert-manager's HTTP-01 solver",
        rule=rules.each(rules.repository),
    )

    @check("admission")
    def _admission_after_verify(self) -> str | None:
        ok = self.admission == "off" or self.verify
        return None if ok else "'off' unless verify is on: the pipeline checks first, then the cluster"


@settings
class Toleration:
    key: str = setting(doc="the taint key", rule=rules.matches(rules.QUALIFIED_NAME, "a taint key"))
    value: str | None = setting(default=None, doc="the taint value; None with 'Exists'")
    operator: Literal["Equal", "Exists"] = setting(default="Equal", doc="how the value is compared")
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = setting(
        default="NoSchedule", doc="the taint effect tolerated"
    )

    @check("value")
    def _value_fits_operator(self) -> str | None:
        if self.operator == "Exists":
            return None if self.value is None else "None with 'Exists'"
        return rules.label_value_63(self.value or "")


@settings
class Placement:
    """Where pods may land. Spot is *preferred*, never required, so pods still
    schedule onto on-demand nodes when the spot pool is drained or exhausted. The
    spot node label and toleration come from ``cluster.provider``."""

    prefer_spot: bool = setting(default=False, doc="prefer the provider's spot nodes")
    spot_weight: int = setting(default=80, doc="weight of the spot preference", rule=rules.percent)
    node_selector: Mapping[str, str] = setting(factory=dict, doc="required node labels", rule=rules.labels)
    tolerations: tuple[Toleration, ...] = setting(default=(), doc="taints tolerated besides spot's")


@settings
class ScaleDown:
    """How fast an autoscaler may remove pods: after a quiet window, a share per period,
    so a short dip does not tear down capacity that is needed a minute later."""

    stabilization_seconds: int = setting(
        default=300, doc="quiet time before scaling in", rule=rules.between(0, 3600)
    )
    max_percent: int = setting(default=50, doc="share of pods removed per period", rule=rules.percent)
    period_seconds: int = setting(default=60, doc="length of that period", rule=rules.between(1, 1800))


@settings
class Autoscaling:
    """HPA bounds. ``enabled=False`` keeps a fixed replica count instead."""

    enabled: bool = setting(doc="an HPA owns the replica count")
    min_replicas: int = setting(doc="the HPA's minimum", rule=rules.between(1))
    max_replicas: int = setting(doc="the HPA's maximum", rule=rules.between(1))
    cpu_utilization: int = setting(default=70, doc="target average CPU, % of requests", rule=rules.percent)
    memory_utilization: int | None = setting(
        default=80,
        doc="target average memory, % of requests; None: CPU only",
        rule=rules.optional(rules.percent),
    )
    scale_down: ScaleDown = setting(factory=ScaleDown, doc="scale-in damping")

    @check("min_replicas")
    def _min_within_max(self) -> str | None:
        return (
            None if self.min_replicas <= self.max_replicas else f"at most max_replicas ({self.max_replicas})"
        )


@settings
class Disruption:
    """PodDisruptionBudget, as maxUnavailable so a drain can always evict one pod."""

    max_unavailable: int = setting(default=1, doc="pods a drain may evict at once", rule=rules.between(1))
