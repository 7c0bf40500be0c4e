"""Typed, frozen configuration: the cdk8s counterpart of the design doc's Helm values.

Every knob an environment may turn is declared in this package, so a reviewer can
read it to know what is configurable: the shared value types and ``EnvConfig``
here, the workloads in ``workloads.py``, the data stores and the Secret in
``stores.py``, and the cluster, network, scaling, monitoring and GitOps settings
in ``platform.py``. Instances are immutable; environments derive from the
production baseline with ``dataclasses.replace`` (see ``environments.py``), the
way ``values-<env>.yaml`` overlays ``values.yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from typing import Literal

from .base import settings
from .platform import (
    ClusterConfig,
    Destination,
    DnsConfig,
    Exporters,
    GitOpsConfig,
    KedaConfig,
    ManagedEgress,
    MetricNames,
    MonitoringConfig,
    NetworkConfig,
    QuotaConfig,
)
from .stores import CacheConfig, PgBouncerConfig, PostgresConfig, RedisConfig, SecretsConfig
from .values import Autoscaling, Disruption, Image, Placement, PullPolicy, Resources, StoreMode, Toleration
from .workloads import IngressConfig, MigrationConfig, WebConfig, WorkerPool

__all__ = [
    "Autoscaling",
    "CacheConfig",
    "ClusterConfig",
    "Destination",
    "Disruption",
    "DnsConfig",
    "EnvConfig",
    "Exporters",
    "GitOpsConfig",
    "Image",
    "IngressConfig",
    "KedaConfig",
    "ManagedEgress",
    "MetricNames",
    "MigrationConfig",
    "MonitoringConfig",
    "NetworkConfig",
    "PgBouncerConfig",
    "Placement",
    "PostgresConfig",
    "PullPolicy",
    "QuotaConfig",
    "RedisConfig",
    "Resources",
    "SecretsConfig",
    "StoreMode",
    "Toleration",
    "WebConfig",
    "WorkerPool",
]


@settings
class EnvConfig:
    """Everything one environment renders. ``name`` is the short name used on the
    command line and in ``dist/<name>``; ``namespace`` is the Kubernetes one.
    ``gitops`` is None for an environment applied by hand (dev)."""

    name: str
    namespace: str
    app_url: str
    image: Image
    ingress: IngressConfig
    web: WebConfig
    workers: tuple[WorkerPool, ...]
    postgres: PostgresConfig
    pgbouncer: PgBouncerConfig
    redis: RedisConfig
    cache: CacheConfig
    secrets: SecretsConfig
    cluster: ClusterConfig
    keda: KedaConfig
    vpa_enabled: bool
    network: NetworkConfig
    quota: QuotaConfig
    monitoring: MonitoringConfig
    migration: MigrationConfig
    gitops: GitOpsConfig | None
    node_env: str = "production"
    log_level: Literal["trace", "debug", "info", "warn", "error", "fatal"] = "info"
    sentry_enabled: bool = True
    image_pull_secrets: tuple[str, ...] = ()
    extra_env: Mapping[str, str] = field(default_factory=dict)
