"""The cluster and the platform around the app: nodes, DNS, network neighbours,
autoscaling controllers, quota, monitoring and GitOps.

These differ per cloud and per organisation, so each is a typed value with a safe
default; ``organisation.py`` holds the organisation's own values in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from . import rules
from .fields import check, setting, settings
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

    mode: DnsMode = setting(default="kube-dns", doc="where DNS queries go")
    namespace: str = setting(
        default="kube-system", doc="the kube-dns pods' namespace", rule=rules.dns_label()
    )
    pod_labels: Mapping[str, str] = setting(
        factory=lambda: {"k8s-app": "kube-dns"}, doc="the kube-dns pods' labels", rule=rules.labels
    )
    addresses: tuple[str, ...] = setting(default=(), doc="resolver CIDRs", rule=rules.each(rules.cidr))

    @check("addresses")
    def _addresses_in_addresses_mode(self) -> str | None:
        ok = self.mode != "addresses" or len(self.addresses) > 0
        return None if ok else "the resolvers' CIDRs in mode 'addresses'"


@settings
class ClusterConfig:
    """Facts about the cluster an environment runs in."""

    provider: Provider = setting(default="eks", doc="decides the spot node labels and taints")
    cluster_domain: str = setting(
        default="cluster.local", doc="the cluster's DNS domain", rule=rules.dns_subdomain
    )
    dns: DnsConfig = setting(factory=DnsConfig, doc="where pods resolve names")


@settings
class ManagedEgress:
    """A managed data store's address range, for egress NetworkPolicy."""

    cidr: str = setting(doc="its address range", rule=rules.cidr)
    port: int = setting(doc="its port", rule=rules.port)


@settings
class NetworkConfig:
    """The neighbours NetworkPolicies admit, and the address ranges the app reaches."""

    ingress_namespace: str = setting(
        default="ingress-nginx", doc="the edge's namespace", rule=rules.dns_label()
    )
    ingress_pod_labels: Mapping[str, str] = setting(
        factory=lambda: {"app.kubernetes.io/name": "ingress-nginx"}, doc="the edge's pods", rule=rules.labels
    )
    monitoring_namespace: str = setting(
        default="monitoring", doc="Prometheus's namespace", rule=rules.dns_label()
    )
    https_except: tuple[str, ...] = setting(
        default=("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"),
        doc="ranges 'the internet on 443' excludes",
        rule=rules.each(rules.cidr),
    )
    managed_egress: tuple[ManagedEgress, ...] = setting(default=(), doc="managed stores the app reaches")


@settings
class KedaConfig:
    """KEDA's operator. ``cooldown_period_seconds`` only applies to scaling to zero;
    scale-down damping is per worker pool."""

    enabled: bool = setting(doc="scale worker pools on their queues")
    polling_interval_seconds: int = setting(
        default=15, doc="how often KEDA reads Redis", rule=rules.between(1, 3600)
    )
    cooldown_period_seconds: int = setting(
        default=300, doc="wait before scaling to zero", rule=rules.between(0, 86400)
    )
    namespace: str = setting(default="keda", doc="KEDA's namespace", rule=rules.dns_label())
    operator_labels: Mapping[str, str] = setting(
        factory=lambda: {"app.kubernetes.io/name": "keda-operator"},
        doc="KEDA's operator pods",
        rule=rules.labels,
    )


@settings
class QuotaConfig:
    """Namespace ceilings. Sized to cover every workload at its maximum, plus one
    rollout surge and the old pods still in their termination grace period; a
    test recomputes that headroom from the rendered objects."""

    cpu_requests: str = setting(doc="requests.cpu", rule=rules.cpu)
    memory_requests: str = setting(doc="requests.memory", rule=rules.memory)
    memory_limits: str = setting(doc="limits.memory", rule=rules.memory)
    pods: int = setting(doc="pods", rule=rules.between(1))
    pvcs: int = setting(default=10, doc="persistentvolumeclaims", rule=rules.between(0))
    storage: str = setting(default="200Gi", doc="requests.storage", rule=rules.memory)


@settings
class MetricNames:
    """The HTTP metrics the app exports (docs/app-contract.yaml); alerts and
    dashboards read these, so renaming one in the app is a one-line change here.
    Queue, Redis, PostgreSQL and PgBouncer metrics are the fixed names BullMQ and
    the exporters emit."""

    http_requests_total: str = setting(default="http_requests_total", doc="request counter")
    http_duration_bucket: str = setting(
        default="http_request_duration_seconds_bucket", doc="latency histogram buckets"
    )
    status_label: str = setting(default="status", doc="the status-code label")


def _exporter_resources() -> Resources:
    return Resources(cpu_request="10m", memory_request="32Mi", cpu_limit="100m", memory_limit="64Mi")


@settings
class Exporters:
    """Prometheus exporter sidecars for the stores we run, pinned by digest, and
    the resources each sidecar adds to its pod."""

    redis: Image = setting(doc="oliver006/redis_exporter")
    postgres: Image = setting(doc="prometheus-community postgres-exporter")
    pgbouncer: Image = setting(doc="prometheus-community pgbouncer-exporter")
    resources: Resources = setting(factory=_exporter_resources, doc="each sidecar's requests and limits")


@settings
class MonitoringConfig:
    """ServiceMonitors, exporters, alerts and dashboards (kube-prometheus-stack)."""

    enabled: bool = setting(doc="render monitoring")
    exporters: Exporters = setting(doc="the stores' exporter sidecars")
    scrape_interval: str = setting(default="30s", doc="ServiceMonitor interval", rule=rules.duration)
    prometheus_release: str = setting(
        default="kube-prometheus-stack", doc="the release label Prometheus selects", rule=rules.label_value_63
    )
    dashboards: bool = setting(default=True, doc="render Grafana dashboards")
    metrics: MetricNames = setting(factory=MetricNames, doc="the app's metric names")
    error_rate_threshold: float = setting(default=0.05, doc="5xx share that alerts", rule=rules.fraction)
    latency_p95_seconds: float = setting(default=1.0, doc="p95 latency that alerts", rule=rules.positive)
    queue_depth_threshold: int = setting(default=1000, doc="waiting jobs that alert", rule=rules.between(1))
    failed_jobs_threshold: int = setting(
        default=10, doc="failed jobs per 15m that alert", rule=rules.between(1)
    )
    pool_waiting_clients_threshold: int = setting(
        default=0, doc="PgBouncer clients waiting", rule=rules.between(0)
    )


@settings
class Destination:
    """A cluster Argo CD deploys to: its name in Argo CD and its API server URL."""

    name: str = setting(doc="the cluster's name in Argo CD", rule=rules.dns_label())
    server: str = setting(doc="its API server URL", rule=rules.url("https"))


IN_CLUSTER = Destination(name="in-cluster", server="https://kubernetes.default.svc")


@settings
class GitOpsConfig:
    """The Argo CD Applications that sync dist/<env>."""

    repo_url: str = setting(doc="this repository", rule=rules.url("https", "ssh"))
    target_revision: str = setting(default="main", doc="the branch Argo CD tracks")
    argocd_namespace: str = setting(default="argocd", doc="Argo CD's namespace", rule=rules.dns_label())
    project: str = setting(default="vibeyard", doc="the AppProject", rule=rules.dns_label())
    auto_sync: bool = setting(default=True, doc="sync and self-heal on every commit")
    promote_from: str | None = setting(default=None, doc="the environment whose release a promotion takes")
    destinations: tuple[Destination, ...] = setting(
        default=(),
        doc="the clusters; default: the environment's entry in organisation.py clusters",
        rule=rules.non_empty(
            "at least one destination cluster: add the environment to clusters in organisation.py"
        ),
    )

    def applications(self, env: str) -> list[tuple[str, Destination]]:
        """One Argo CD Application per cluster: ``vibeyard-<env>``, or ``-<cluster>`` added for several."""
        several = len(self.destinations) > 1
        return [(f"vibeyard-{env}-{d.name}" if several else f"vibeyard-{env}", d) for d in self.destinations]
