"""The cluster and the platform around the app: nodes, DNS, network neighbours,
autoscaling controllers, quota, monitoring and GitOps.

These differ per cloud and per organisation, so each is a typed value with a safe
default; ``organisation.py`` holds the organisation's own values in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from .base import settings
from .values import Image, Resources

Provider = Literal["karpenter", "eks", "gke", "aks"]
DnsMode = Literal["kube-dns", "node-local", "gke-cloud-dns", "addresses"]


@dataclass(frozen=True)
class SpotNodes:
    """How a provider marks spot nodes, and how long it warns before reclaiming one."""

    label_key: str
    label_value: str
    taint_key: str | None
    reclaim_notice_seconds: int


# Karpenter and EKS managed node groups label spot nodes without tainting them; GKE
# labels them and is commonly tainted by the cluster admin; AKS always taints spot
# pools. A toleration for a taint that is absent is harmless, one that is missing
# keeps pods off the spot pool, so each provider's taint is tolerated.
SPOT_NODES: Mapping[Provider, SpotNodes] = {
    "karpenter": SpotNodes("karpenter.sh/capacity-type", "spot", None, 120),
    "eks": SpotNodes("eks.amazonaws.com/capacityType", "SPOT", None, 120),
    "gke": SpotNodes("cloud.google.com/gke-spot", "true", "cloud.google.com/gke-spot", 30),
    "aks": SpotNodes(
        "kubernetes.azure.com/scalesetpriority", "spot", "kubernetes.azure.com/scalesetpriority", 30
    ),
}

# Where pods send DNS queries in each mode, besides the kube-dns pods themselves.
NODE_LOCAL_DNS = "169.254.20.10/32"
GKE_METADATA_DNS = "169.254.169.254/32"


@settings
class DnsConfig:
    """Where the cluster's pods resolve names, for the DNS egress policy.

    ``kube-dns``: the CoreDNS/kube-dns pods (``namespace``, ``pod_labels``).
    ``node-local``: NodeLocal DNSCache on 169.254.20.10, plus ``addresses`` (the
    kube-dns Service IP where the cache runs in iptables mode).
    ``gke-cloud-dns``: GKE's Cloud DNS resolver on 169.254.169.254 (the metadata
    server's address: only port 53 is opened to it).
    ``addresses``: exactly the CIDRs in ``addresses``.
    """

    mode: DnsMode = "kube-dns"
    namespace: str = "kube-system"
    pod_labels: Mapping[str, str] = field(default_factory=lambda: {"k8s-app": "kube-dns"})
    addresses: tuple[str, ...] = ()


@settings
class ClusterConfig:
    """Facts about the cluster an environment runs in."""

    provider: Provider = "eks"
    cluster_domain: str = "cluster.local"
    dns: DnsConfig = field(default_factory=DnsConfig)


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
    https_except: tuple[str, ...] = (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "169.254.0.0/16",
    )
    managed_egress: tuple[ManagedEgress, ...] = ()


@settings
class KedaConfig:
    """KEDA's operator. ``cooldown_period_seconds`` only applies to scaling to zero;
    scale-down damping is per worker pool."""

    enabled: bool
    polling_interval_seconds: int = 15
    cooldown_period_seconds: int = 300
    namespace: str = "keda"
    operator_labels: Mapping[str, str] = field(
        default_factory=lambda: {"app.kubernetes.io/name": "keda-operator"}
    )


@settings
class QuotaConfig:
    """Namespace ceilings. Sized to cover every workload at its maximum, plus one
    rollout surge and the old pods still in their termination grace period; a
    test recomputes that headroom from the rendered objects."""

    cpu_requests: str
    memory_requests: str
    memory_limits: str
    pods: int
    pvcs: int = 10
    storage: str = "200Gi"


@settings
class MetricNames:
    """The HTTP metrics the app exports (docs/app-contract.yaml); alerts and
    dashboards read these, so renaming one in the app is a one-line change here.
    Queue, Redis, PostgreSQL and PgBouncer metrics are the fixed names BullMQ and
    the exporters emit."""

    http_requests_total: str = "http_requests_total"
    http_duration_bucket: str = "http_request_duration_seconds_bucket"
    status_label: str = "status"


@settings
class Exporters:
    """Prometheus exporter sidecars for the stores we run, pinned by digest, and
    the resources each sidecar adds to its pod."""

    redis: Image
    postgres: Image
    pgbouncer: Image
    resources: Resources = field(
        default_factory=lambda: Resources(
            cpu_request="10m", memory_request="32Mi", cpu_limit="100m", memory_limit="64Mi"
        )
    )


@settings
class MonitoringConfig:
    enabled: bool
    exporters: Exporters
    scrape_interval: str = "30s"
    prometheus_release: str = "kube-prometheus-stack"
    dashboards: bool = True
    metrics: MetricNames = field(default_factory=MetricNames)
    error_rate_threshold: float = 0.05
    latency_p95_seconds: float = 1.0
    queue_depth_threshold: int = 1000
    failed_jobs_threshold: int = 10
    pool_waiting_clients_threshold: int = 0


@settings
class Destination:
    """A cluster Argo CD deploys to: its name in Argo CD and its API server URL."""

    name: str
    server: str


IN_CLUSTER = Destination(name="in-cluster", server="https://kubernetes.default.svc")


@settings
class GitOpsConfig:
    repo_url: str
    target_revision: str = "main"
    argocd_namespace: str = "argocd"
    project: str = "vibeyard"
    auto_sync: bool = True
    destinations: tuple[Destination, ...] = (IN_CLUSTER,)
