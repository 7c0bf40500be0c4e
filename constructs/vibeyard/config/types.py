"""Typed, frozen configuration: the cdk8s counterpart of the design doc's Helm values.

Every knob an environment may turn is declared in this package, so a reviewer can
read it to know what is configurable: the shared value types and ``EnvConfig``
here, the workloads in ``workloads.py``, the data stores and the Secret in
``stores.py``, and the cluster, network, scaling, monitoring and GitOps settings
in ``platform.py``. Instances are immutable and built from data: a base plus one
overlay per environment (``environments/``), the way ``values-<env>.yaml``
overlays ``values.yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from . import rules
from .edge import DataPlane, EdgeConfig, GatewayConfig, IngressConfig, SharedGateway
from .fields import setting, settings
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
from .values import (
    Autoscaling,
    Disruption,
    Image,
    Placement,
    PullPolicy,
    Resources,
    ScaleDown,
    Signatures,
    StoreMode,
    Toleration,
)
from .workloads import MigrationConfig, WebConfig, WorkerPool

__all__ = [
    "Autoscaling",
    "CacheConfig",
    "ClusterConfig",
    "DataPlane",
    "Destination",
    "Disruption",
    "DnsConfig",
    "EdgeConfig",
    "EnvConfig",
    "Exporters",
    "GatewayConfig",
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
    "ScaleDown",
    "SecretsConfig",
    "SharedGateway",
    "StoreMode",
    "Toleration",
    "WebConfig",
    "WorkerPool",
]


# Variables the app's pods get from us; ``extra_env`` may not shadow them.
RESERVED_ENV = frozenset(
    {"APP_ENV", "HOSTNAME", "LOG_LEVEL", "NEXTAUTH_URL", "NODE_ENV", "PORT", "SENTRY_ENVIRONMENT"}
)
# Objects are labelled ``app.kubernetes.io/instance: vibeyard-<namespace>`` and a label value
# holds at most 63 characters.
NAMESPACE_MAX = 63 - len("vibeyard-")


def _extra_env(value: Mapping[str, str]) -> str | None:
    bad = [k for k in value if not rules.ENV_NAME.fullmatch(k) or k in RESERVED_ENV]
    if bad:
        allowed = "variable names of letters, digits and '_' that the chart does not set itself"
        return f"{allowed} ({bad[0]!r} is not)"
    return None


@settings
class EnvConfig:
    """Everything one environment renders."""

    name: str = setting(
        doc="the environment: dist/<name>, its file in environments/", rule=rules.dns_label(20)
    )
    namespace: str = setting(doc="its namespace; default: its name", rule=rules.dns_label(NAMESPACE_MAX))
    image: Image = setting(doc="the app image; a release pins it in dist/releases/<env>.json")
    signatures: Signatures = setting(doc="checking the app image's signature")
    edge: EdgeConfig = setting(doc="the public edge")
    web: WebConfig = setting(doc="the Next.js tier")
    workers: tuple[WorkerPool, ...] = setting(doc="the BullMQ worker pools")
    postgres: PostgresConfig = setting(doc="the database")
    pgbouncer: PgBouncerConfig = setting(doc="the connection pooler")
    redis: RedisConfig = setting(doc="the queue Redis")
    cache: CacheConfig = setting(doc="the cache Redis")
    secrets: SecretsConfig = setting(doc="where the Secret comes from")
    cluster: ClusterConfig = setting(doc="facts about the cluster")
    keda: KedaConfig = setting(doc="queue-depth autoscaling")
    vpa_enabled: bool = setting(doc="render recommendation-only VPAs")
    network: NetworkConfig = setting(doc="NetworkPolicy neighbours and egress")
    quota: QuotaConfig = setting(doc="the namespace's ResourceQuota")
    monitoring: MonitoringConfig = setting(doc="metrics, alerts and dashboards")
    migration: MigrationConfig = setting(doc="the schema migration Job")
    gitops: GitOpsConfig | None = setting(doc="Argo CD; None: applied by hand")
    node_env: str = setting(default="production", doc="NODE_ENV")
    log_level: Literal["trace", "debug", "info", "warn", "error", "fatal"] = setting(
        default="info", doc="LOG_LEVEL"
    )
    sentry_enabled: bool = setting(default=True, doc="pass SENTRY_DSN and SENTRY_ENVIRONMENT")
    image_pull_secrets: tuple[str, ...] = setting(
        default=(), doc="imagePullSecrets for a private registry", rule=rules.each(rules.dns_subdomain)
    )
    extra_env: Mapping[str, str] = setting(
        factory=dict, doc="more variables for the app's pods", rule=_extra_env
    )

    @property
    def app_url(self) -> str:
        """The public URL (``NEXTAUTH_URL``): the edge's host, always over TLS."""
        return f"https://{self.edge.host}"
