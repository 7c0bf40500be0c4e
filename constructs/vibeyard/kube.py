"""Small adapters from our config types to the L1 ``k8s`` structs.

They exist so every workload expresses resources, env and metadata the same way;
they hold no policy of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Literal, Protocol

import cdk8s
from cdk8s_plus_28 import k8s
from constructs import Construct

from .config.platform import SpotNodes
from .config.types import Resources
from .identity import Identity


@dataclass(frozen=True)
class Site:
    """Where one environment's workloads run: what every workload construct reads
    besides its own config."""

    namespace: str
    instance: str
    pull_secrets: tuple[str, ...]
    spot: SpotNodes


@dataclass(frozen=True)
class Metrics:
    """Where Prometheus scrapes a workload: the Service port's name, its number and the path."""

    port_name: str
    port: int
    path: str = "/metrics"


class Workload(Protocol):
    """A construct that owns pods: what autoscalers, budgets, VPAs and monitoring point at."""

    name: str
    identity: Identity
    kind: Literal["Deployment", "StatefulSet"]
    metrics: Metrics | None


class Listener(Protocol):
    """A workload that accepts connections: its pods and the port they listen on."""

    name: str
    identity: Identity
    port: int


def meta(
    name: str,
    namespace: str | None,
    identity: Identity,
    annotations: Mapping[str, str] | None = None,
    *,
    runs_image: bool = False,
    extra_labels: Mapping[str, str] | None = None,
) -> k8s.ObjectMeta:
    """``runs_image``: a workload, which also carries its version label. ``extra_labels``:
    labels that another controller selects on (set here, not added later: one jsii call)."""
    labels = identity.running_labels if runs_image else identity.labels
    return k8s.ObjectMeta(
        name=name,
        namespace=namespace,
        labels={**labels, **extra_labels} if extra_labels else labels,
        annotations=dict(annotations) if annotations else None,
    )


def crd_meta(
    name: str, namespace: str | None, identity: Identity, annotations: Mapping[str, str] | None = None
) -> cdk8s.ApiObjectMetadata:
    """Metadata for imported CRD classes, which take cdk8s's own metadata type."""
    return cdk8s.ApiObjectMetadata(
        name=name,
        namespace=namespace,
        labels=identity.labels,
        annotations=dict(annotations) if annotations else None,
    )


@cache
def quantity(value: str) -> k8s.Quantity:
    """Each distinct quantity crosses into jsii once per process."""
    return k8s.Quantity.from_string(value)


def resources(res: Resources) -> k8s.ResourceRequirements:
    limits = {"memory": quantity(res.memory_limit)}
    if res.cpu_limit is not None:
        limits["cpu"] = quantity(res.cpu_limit)
    return k8s.ResourceRequirements(
        requests={"cpu": quantity(res.cpu_request), "memory": quantity(res.memory_request)},
        limits=limits,
    )


def secret_env(name: str, secret: str, key: str, optional: bool = False) -> k8s.EnvVar:
    return k8s.EnvVar(
        name=name,
        value_from=k8s.EnvVarSource(
            secret_key_ref=k8s.SecretKeySelector(name=secret, key=key, optional=optional or None)
        ),
    )


def env(name: str, value: str) -> k8s.EnvVar:
    return k8s.EnvVar(name=name, value=value)


@cache
def int_or_str(value: int | str) -> k8s.IntOrString:
    if isinstance(value, int):
        return k8s.IntOrString.from_number(value)
    return k8s.IntOrString.from_string(value)


def label_selector(identity: Identity) -> k8s.LabelSelector:
    return k8s.LabelSelector(match_labels=identity.selector)


def empty_dir(name: str, size_limit: str) -> k8s.Volume:
    return k8s.Volume(name=name, empty_dir=k8s.EmptyDirVolumeSource(size_limit=quantity(size_limit)))


def memory_dir(name: str, size_limit: str) -> k8s.Volume:
    """A tmpfs emptyDir; its size counts against the container's memory limit."""
    return k8s.Volume(
        name=name, empty_dir=k8s.EmptyDirVolumeSource(medium="Memory", size_limit=quantity(size_limit))
    )


def service_account(scope: Construct, name: str, namespace: str, identity: Identity) -> None:
    """A workload's own ServiceAccount. No workload talks to the API server, so no token."""
    k8s.KubeServiceAccount(
        scope,
        "ServiceAccount",
        metadata=meta(name, namespace, identity),
        automount_service_account_token=False,
    )


def service(
    scope: Construct,
    id: str,
    *,
    name: str,
    namespace: str,
    identity: Identity,
    ports: Mapping[str, int],
    headless: bool = False,
) -> None:
    """A Service whose named ports target the pods' ports by *name*, so a container
    port can move without touching the Service."""
    k8s.KubeService(
        scope,
        id,
        metadata=meta(name, namespace, identity),
        spec=k8s.ServiceSpec(
            type=None if headless else "ClusterIP",
            cluster_ip="None" if headless else None,
            selector=identity.selector,
            ports=[
                k8s.ServicePort(name=port_name, port=port, target_port=int_or_str(port_name), protocol="TCP")
                for port_name, port in ports.items()
            ],
        ),
    )


def surge_without_downtime() -> k8s.DeploymentStrategy:
    """RollingUpdate that adds pods before removing any: capacity never dips."""
    return k8s.DeploymentStrategy(
        type="RollingUpdate",
        rolling_update=k8s.RollingUpdateDeployment(
            max_surge=int_or_str("25%"), max_unavailable=int_or_str(0)
        ),
    )


def deployment(
    scope: Construct,
    *,
    namespace: str,
    identity: Identity,
    replicas: int | None,
    template: k8s.PodTemplateSpec,
    annotations: Mapping[str, str],
    progress_deadline_seconds: int | None = None,
) -> None:
    """Deployment ``identity.name``, rolled without losing capacity; ``replicas`` is None
    when an autoscaler owns the count, so an apply or a sync never resets it."""
    k8s.KubeDeployment(
        scope,
        "Deployment",
        metadata=meta(identity.name, namespace, identity, annotations, runs_image=True),
        spec=k8s.DeploymentSpec(
            replicas=replicas,
            revision_history_limit=10,
            progress_deadline_seconds=progress_deadline_seconds,
            selector=label_selector(identity),
            strategy=surge_without_downtime(),
            template=template,
        ),
    )
