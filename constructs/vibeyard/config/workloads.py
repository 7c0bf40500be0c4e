"""The app's own workloads: the web tier, the worker pools and the migration Job.

Defaults follow the app image contract (docs/app-contract.yaml): port, health and
metrics paths, the worker entry point and the migration command. Each stays
configurable, and tests check the rendered manifests against the contract.
"""

from __future__ import annotations

from . import rules
from .fields import check, setting, settings
from .values import Autoscaling, Disruption, Placement, Resources, ScaleDown

# Time a worker needs beyond its longest job to close its Redis connections and exit.
SHUTDOWN_MARGIN_SECONDS = 30


@settings
class WebConfig:
    """The Next.js tier, ``deployment/vibeyard``."""

    replicas: int = setting(doc="pods when no autoscaler owns the count", rule=rules.between(1))
    resources: Resources = setting(doc="the container's requests and limits")
    autoscaling: Autoscaling = setting(doc="the HPA")
    disruption: Disruption = setting(factory=Disruption, doc="the PodDisruptionBudget")
    port: int = setting(default=3000, doc="the port Next.js listens on (PORT)", rule=rules.port)
    health_path: str = setting(
        default="/api/health", doc="startup, readiness and liveness probe path", rule=rules.path
    )
    metrics_path: str = setting(default="/api/metrics", doc="Prometheus scrape path", rule=rules.path)
    termination_grace_seconds: int = setting(
        default=45, doc="time to drain on shutdown", rule=rules.between(1)
    )
    pre_stop_sleep_seconds: int = setting(
        default=10, doc="serve on after SIGTERM while the edge drops the endpoint", rule=rules.between(0, 120)
    )
    spread_across_zones: bool = setting(default=True, doc="spread pods over zones and nodes")
    placement: Placement = setting(factory=Placement, doc="node selection and spot preference")

    @check("termination_grace_seconds")
    def _grace_after_pre_stop(self) -> str | None:
        if self.termination_grace_seconds > self.pre_stop_sleep_seconds:
            return None
        return f"more than pre_stop_sleep_seconds ({self.pre_stop_sleep_seconds}) so requests can drain"


def _default_resources() -> Resources:
    return Resources(cpu_request="100m", memory_request="256Mi", cpu_limit="500m", memory_limit="512Mi")


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

    # 'vibeyard-worker-' + name is a DNS label of at most 63 characters.
    name: str = setting(doc="the pool; deployment/vibeyard-worker-<name>", rule=rules.dns_label(47))
    queues: tuple[str, ...] = setting(
        doc="the BullMQ queues it consumes",
        rule=rules.all_of(
            rules.non_empty("a non-empty tuple of BullMQ queue names"),
            rules.each(rules.matches(rules.QUEUE, "queue names of letters, digits, '_', '.' and '-'")),
        ),
    )
    replicas: int = setting(default=2, doc="pods when nothing autoscales the pool", rule=rules.between(0))
    min_replicas: int = setting(default=1, doc="the autoscaler's minimum", rule=rules.between(0))
    max_replicas: int = setting(default=10, doc="the autoscaler's maximum", rule=rules.between(1))
    concurrency: int = setting(default=5, doc="jobs one pod runs at once", rule=rules.between(1, 1000))
    command: tuple[str, ...] = setting(
        default=("node", "dist/worker.js"), doc="exec-form entry point", rule=rules.exec_command
    )
    args: tuple[str, ...] = setting(default=(), doc="arguments after the command")
    resources: Resources = setting(factory=_default_resources, doc="the container's requests and limits")
    longest_job_seconds: int = setting(
        default=90, doc="the longest a job may run", rule=rules.between(1, 86400)
    )
    interruptible: bool = setting(default=False, doc="its jobs are safe to run again after a stall")
    queue_list_length: int = setting(
        default=20, doc="waiting jobs per replica before KEDA adds one", rule=rules.between(1)
    )
    prioritized: bool = setting(default=False, doc="also scale on the prioritized set")
    scale_down: ScaleDown = setting(factory=ScaleDown, doc="scale-in damping")
    health_command: tuple[str, ...] | None = setting(
        default=None, doc="exec liveness probe; None: TCP on metrics_port"
    )
    metrics_port: int | None = setting(
        default=9464, doc="BullMQ metrics port; None: none", rule=rules.optional(rules.port)
    )
    placement: Placement | None = setting(default=None, doc="node selection and spot preference")

    @check("min_replicas")
    def _min_within_max(self) -> str | None:
        return (
            None if self.min_replicas <= self.max_replicas else f"at most max_replicas ({self.max_replicas})"
        )

    @property
    def grace_seconds(self) -> int:
        """Long enough for ``worker.close()`` to finish the longest job."""
        return self.longest_job_seconds + SHUTDOWN_MARGIN_SECONDS


@settings
class MigrationConfig:
    """Schema migrations, a Job run before the new version serves."""

    enabled: bool = setting(doc="run the migration Job")
    command: tuple[str, ...] = setting(
        default=("npx", "--no-install", "prisma", "migrate", "deploy"),
        doc="exec-form command",
        rule=rules.non_empty("a non-empty exec-form command"),
    )
    database_wait_seconds: int = setting(
        default=300, doc="how long it waits for PostgreSQL to accept connections", rule=rules.between(0, 3600)
    )
    backoff_limit: int = setting(default=2, doc="retries before the Job fails", rule=rules.between(0, 10))
    active_deadline_seconds: int = setting(default=600, doc="the Job's time limit", rule=rules.between(1))
    ttl_seconds_after_finished: int = setting(
        default=86400, doc="how long a finished Job is kept", rule=rules.between(0)
    )

    @check("database_wait_seconds")
    def _wait_within_deadline(self) -> str | None:
        ok = self.database_wait_seconds < self.active_deadline_seconds
        return None if ok else f"less than active_deadline_seconds ({self.active_deadline_seconds})"
