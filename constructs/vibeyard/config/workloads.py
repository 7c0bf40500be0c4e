"""The app's own workloads: the web tier, the worker pools and the migration Job.

Defaults follow the app image contract (docs/app-contract.yaml): port, health and
metrics paths, the worker entry point and the migration command. Each stays
configurable, and tests check the rendered manifests against the contract.
"""

from __future__ import annotations

from dataclasses import field

from .base import settings
from .values import Autoscaling, Disruption, Placement, Resources


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
    (analysis) cannot starve a fast one, and each scales on its own backlog.

    ``longest_job_seconds`` is the longest a job of this pool may run: the grace
    period covers it (plus ``SHUTDOWN_MARGIN_SECONDS``), so ``worker.close()`` can
    finish every active job when a pod is scaled in, drained or rolled. A pool on
    spot nodes whose jobs outlast the provider's reclaim notice must say that its
    jobs are ``interruptible`` (safe to run again after a stall).
    """

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
    longest_job_seconds: int = 90
    interruptible: bool = False
    queue_list_length: int = 20
    prioritized: bool = False
    scale_down_stabilization_seconds: int = 300
    scale_down_max_percent: int = 50
    scale_down_period_seconds: int = 60
    health_command: tuple[str, ...] | None = None
    metrics_port: int | None = 9464
    placement: Placement | None = None


# Time a worker needs beyond its longest job to close its Redis connections and exit.
SHUTDOWN_MARGIN_SECONDS = 30


@settings
class MigrationConfig:
    enabled: bool
    command: tuple[str, ...] = ("npx", "--no-install", "prisma", "migrate", "deploy")
    backoff_limit: int = 2
    active_deadline_seconds: int = 600
    ttl_seconds_after_finished: int = 86400
