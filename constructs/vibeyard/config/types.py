"""Typed, frozen configuration: the cdk8s counterpart of the design doc's Helm values.

Every knob an environment may turn lives here, so a reviewer can read one file to
know what is configurable. Instances are immutable; environments derive from the
production baseline with ``dataclasses.replace`` (see ``environments.py``), the way
``values-<env>.yaml`` overlays ``values.yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from typing import Literal

from .base import settings

StoreMode = Literal["in-cluster", "managed"]
SecretProvider = Literal["sealed", "external", "existing"]
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
    schedule onto on-demand nodes when the spot pool is drained or exhausted."""

    prefer_spot: bool = False
    spot_label_key: str = "node.kubernetes.io/capacity-type"
    spot_label_value: str = "spot"
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


@settings
class IngressConfig:
    host: str
    tls_secret: str
    cluster_issuer: str
    class_name: str = "nginx"
    proxy_body_size: str = "10m"
    # The issuer solves ACME HTTP-01 challenges: cert-manager then runs a solver pod in
    # our namespace, which the ingress controller must be allowed to reach.
    acme_http01: bool = True


@settings
class WebConfig:
    replicas: int
    resources: Resources
    autoscaling: Autoscaling
    disruption: Disruption = field(default_factory=Disruption)
    port: int = 3000
    health_path: str = "/api/health"
    metrics_path: str = "/api/metrics"
    termination_grace_seconds: int = 45
    pre_stop_sleep_seconds: int = 10
    spread_across_zones: bool = True
    placement: Placement = field(default_factory=Placement)


@settings
class WorkerPool:
    """One BullMQ worker Deployment. Pools separate job types so a slow queue
    (analysis) cannot starve a fast one, and each scales on its own backlog."""

    name: str
    queues: tuple[str, ...]
    replicas: int = 2
    min_replicas: int = 1
    max_replicas: int = 10
    concurrency: int = 5
    command: tuple[str, ...] = ("node", "dist/worker.js")
    args: tuple[str, ...] = ()
    resources: Resources = field(
        default_factory=lambda: Resources(
            cpu_request="100m", memory_request="256Mi", cpu_limit="500m", memory_limit="512Mi"
        )
    )
    termination_grace_seconds: int = 120
    queue_list_length: int = 20
    prioritized: bool = False
    health_command: tuple[str, ...] | None = None
    metrics_port: int | None = None
    placement: Placement | None = None


@settings
class PostgresConfig:
    mode: StoreMode
    image: Image
    storage_size: str = "20Gi"
    storage_class: str | None = None
    resources: Resources = field(
        default_factory=lambda: Resources(
            cpu_request="250m", memory_request="512Mi", cpu_limit="1", memory_limit="1Gi"
        )
    )
    read_replica: bool = False
    termination_grace_seconds: int = 120
    uid: int = 999
    port: int = 5432


@settings
class PgBouncerConfig:
    enabled: bool
    image: Image
    replicas: int = 2
    pool_mode: Literal["transaction", "session", "statement"] = "transaction"
    default_pool_size: int = 20
    max_client_conn: int = 500
    resources: Resources = field(
        default_factory=lambda: Resources(
            cpu_request="50m", memory_request="64Mi", cpu_limit="500m", memory_limit="128Mi"
        )
    )
    port: int = 5432
    uid: int = 70
    server_tls_sslmode: str = "prefer"


@settings
class RedisConfig:
    mode: StoreMode
    image: Image
    storage_size: str = "8Gi"
    storage_class: str | None = None
    resources: Resources = field(
        default_factory=lambda: Resources(
            cpu_request="100m", memory_request="256Mi", cpu_limit="500m", memory_limit="512Mi"
        )
    )
    maxmemory_percent: int = 75
    uid: int = 999
    gid: int = 1000
    port: int = 6379


@settings
class SecretsConfig:
    """Where the one per-environment Secret comes from.

    ``sealed``: committed kubeseal output; ``external``: External Secrets Operator;
    ``existing``: created out of band (``kubectl create secret``), nothing rendered.
    """

    provider: SecretProvider
    name: str = "vibeyard-secrets"
    sealed_file: str | None = None
    external_store: str = "vibeyard-store"
    external_store_kind: Literal["ClusterSecretStore", "SecretStore"] = "ClusterSecretStore"
    external_key_prefix: str = "vibeyard"
    refresh_interval: str = "1h"


@settings
class KedaConfig:
    enabled: bool
    polling_interval_seconds: int = 15
    cooldown_period_seconds: int = 300


@settings
class ManagedEgress:
    """A managed data store's address range, for egress NetworkPolicy."""

    cidr: str
    port: int


@settings
class NetworkConfig:
    ingress_namespace: str = "ingress-nginx"
    ingress_pod_labels: Mapping[str, str] = field(
        default_factory=lambda: {"app.kubernetes.io/name": "ingress-nginx"}
    )
    monitoring_namespace: str = "monitoring"
    dns_namespace: str = "kube-system"
    dns_pod_labels: Mapping[str, str] = field(default_factory=lambda: {"k8s-app": "kube-dns"})
    https_except: tuple[str, ...] = (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "169.254.0.0/16",
    )
    managed_egress: tuple[ManagedEgress, ...] = ()


@settings
class QuotaConfig:
    """Namespace ceilings. Sized to cover every autoscaler at its maximum plus one
    rollout surge; a test recomputes that headroom from the rest of the config."""

    cpu_requests: str
    memory_requests: str
    memory_limits: str
    pods: int
    pvcs: int = 10
    storage: str = "200Gi"


@settings
class MetricNames:
    """Metric names the app and workers export; dashboards and alerts read these,
    so renaming a metric in the app is a one-line config change here."""

    http_requests_total: str = "http_requests_total"
    http_duration_bucket: str = "http_request_duration_seconds_bucket"
    status_label: str = "status"
    queue_waiting: str = "bullmq_queue_waiting"
    queue_failed_total: str = "bullmq_jobs_failed_total"
    queue_completed_total: str = "bullmq_jobs_completed_total"
    db_pool_active: str = "db_pool_active_connections"
    db_pool_idle: str = "db_pool_idle_connections"
    db_pool_waiting: str = "db_pool_waiting_requests"
    cache_hits_total: str = "cache_hits_total"
    cache_misses_total: str = "cache_misses_total"


@settings
class MonitoringConfig:
    enabled: bool
    scrape_interval: str = "30s"
    prometheus_release: str = "kube-prometheus-stack"
    dashboards: bool = True
    metrics: MetricNames = field(default_factory=MetricNames)
    error_rate_threshold: float = 0.05
    latency_p95_seconds: float = 1.0
    queue_depth_threshold: int = 1000


@settings
class MigrationConfig:
    enabled: bool
    command: tuple[str, ...] = ("npx", "prisma", "migrate", "deploy")
    backoff_limit: int = 2
    active_deadline_seconds: int = 600
    ttl_seconds_after_finished: int = 86400


@settings
class GitOpsConfig:
    repo_url: str = "https://github.com/your-org/vibeyard-deploy.git"
    target_revision: str = "main"
    argocd_namespace: str = "argocd"
    project: str = "default"
    auto_sync: bool = True


@settings
class EnvConfig:
    """Everything one environment renders. ``name`` is the short name used on the
    command line and in ``dist/<name>``; ``namespace`` is the Kubernetes one."""

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
    secrets: SecretsConfig
    keda: KedaConfig
    vpa_enabled: bool
    network: NetworkConfig
    quota: QuotaConfig
    monitoring: MonitoringConfig
    migration: MigrationConfig
    gitops: GitOpsConfig
    node_env: str = "production"
    log_level: str = "info"
    sentry_enabled: bool = True
    extra_env: Mapping[str, str] = field(default_factory=dict)
