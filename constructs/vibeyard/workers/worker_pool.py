"""One BullMQ worker pool: ServiceAccount, Deployment, and a Service only for metrics.

Graceful shutdown is the design constraint. BullMQ's ``worker.close()`` waits for
active jobs, so the grace period is per pool and sized to its longest job, and
the command is exec-form (config validation forbids a shell wrapper) so SIGTERM
reaches Node directly. Node as PID 1 ignores SIGTERM unless it installs a handler,
which the worker must do anyway to call ``close()``.

Workers serve no traffic, only ``/metrics`` (BullMQ's queue metrics, for the
alerts). With ``health_command`` set the pool gets an exec liveness probe; with a
``metrics_port`` it gets a TCP one. With neither it gets none: a probe that
cannot observe the event loop would only restart healthy workers mid-job, and a
stalled worker still surfaces through the queue-depth alert.
"""

from __future__ import annotations

from typing import Literal

from cdk8s_plus_28 import k8s
from constructs import Construct

from .. import checkov, kube
from .. import identity as ids
from ..app import APP_USER
from ..app.environment import AppEnvironment
from ..config.types import Image, Placement, WorkerPool
from ..kube import (
    Metrics,
    Site,
    deployment,
    env,
    int_or_str,
    service,
    service_account,
)
from ..pod import container, pod_template
from ..scaling.placement import spread

METRICS_PORT_NAME = "metrics"


def _liveness(pool: WorkerPool) -> k8s.Probe | None:
    if pool.health_command:
        return k8s.Probe(
            exec=k8s.ExecAction(command=list(pool.health_command)),
            period_seconds=30,
            timeout_seconds=10,
            failure_threshold=3,
        )
    if pool.metrics_port is not None:
        return k8s.Probe(
            tcp_socket=k8s.TcpSocketAction(port=int_or_str(METRICS_PORT_NAME)),
            period_seconds=30,
            timeout_seconds=5,
            failure_threshold=3,
        )
    return None


class WorkerPoolDeployment(Construct):
    """Deployment ``vibeyard-worker-<pool>``, its ServiceAccount, and a metrics Service if it has a port.

    :param site: the environment's namespace, instance, pull secrets and spot nodes.
    :param image: the app image.
    :param pool: queues, concurrency, command, resources, probes, placement and shutdown time.
    :param autoscaled: an autoscaler owns the replica count, so ``replicas`` is omitted.
    :param max_replicas: the most pods it runs; above one they spread over zones and nodes.
    :param environment: the app's variables.
    """

    kind: Literal["Deployment"] = "Deployment"

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        site: Site,
        image: Image,
        pool: WorkerPool,
        autoscaled: bool,
        max_replicas: int,
        environment: AppEnvironment,
    ) -> None:
        super().__init__(scope, id)
        self.identity = identity = ids.worker(pool.name, site.instance, image.tag)
        self.name = name = identity.name
        self.pool = pool
        self.metrics = (
            Metrics(METRICS_PORT_NAME, pool.metrics_port) if pool.metrics_port is not None else None
        )
        ns = site.namespace
        service_account(self, name, ns, identity)
        liveness = _liveness(pool)
        skips = checkov.workload_skips(
            pool.resources, app_image=image, liveness=liveness is not None, readiness=False
        )
        template = pod_template(
            identity=identity,
            site=site,
            run_as=APP_USER,
            # Long enough for worker.close() to finish the pool's longest job.
            termination_grace_period_seconds=pool.grace_seconds,
            placement=pool.placement or Placement(),
            topology_spread_constraints=spread(identity) if max_replicas > 1 else None,
            containers=[self._worker(image, pool, environment, liveness)],
        )
        replicas = None if autoscaled else pool.replicas
        deployment(
            self,
            namespace=ns,
            identity=identity,
            replicas=replicas,
            template=template,
            annotations=checkov.as_annotations(skips),
        )
        if self.metrics is not None:
            ports = {METRICS_PORT_NAME: self.metrics.port}
            service(self, "Service", name=name, namespace=ns, identity=identity, ports=ports)

    def _worker(
        self, image: Image, pool: WorkerPool, environment: AppEnvironment, liveness: k8s.Probe | None
    ) -> k8s.Container:
        metrics_env = [env("METRICS_PORT", str(pool.metrics_port))] if pool.metrics_port is not None else []
        return container(
            name="worker",
            image=image,
            command=list(pool.command),
            args=list(pool.args) or None,
            ports=[
                k8s.ContainerPort(name=METRICS_PORT_NAME, container_port=pool.metrics_port, protocol="TCP")
            ]
            if pool.metrics_port is not None
            else None,
            env_from=environment.env_from(),
            env=[
                env("WORKER_POOL", pool.name),
                env("WORKER_QUEUES", ",".join(pool.queues)),
                env("WORKER_CONCURRENCY", str(pool.concurrency)),
                *metrics_env,
                *environment.worker_variables(),
            ],
            resources=kube.resources(pool.resources),
            liveness_probe=liveness,
        )
