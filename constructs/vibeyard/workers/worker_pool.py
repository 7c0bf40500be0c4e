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

from collections.abc import Mapping, Sequence

from cdk8s_plus_28 import k8s
from constructs import Construct

from .. import checkov, kube
from ..app import APP_USER
from ..app.environment import AppEnvironment
from ..config.platform import SpotNodes
from ..config.types import Image, Placement, WorkerPool
from ..identity import Identity
from ..kube import env, int_or_str, label_selector, meta, service, service_account, surge_without_downtime
from ..pod import container, pod_template

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

    :param namespace: the environment's namespace.
    :param identity: the pool's identity; its name names every object.
    :param image: the app image.
    :param pool: queues, concurrency, command, resources, probes and placement.
    :param autoscaled: an autoscaler owns the replica count, so ``replicas`` is omitted.
    :param grace_seconds: covers the pool's longest job, so ``worker.close()`` can finish it.
    :param environment: the app's variables.
    :param checksums: ``checksum/<what>`` pod annotations that roll the pods on change.
    :param spot: how the provider marks spot nodes, for ``pool.placement``. Default none.
    :param pull_secrets: ``imagePullSecrets`` for a private registry. Default none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        namespace: str,
        identity: Identity,
        image: Image,
        pool: WorkerPool,
        autoscaled: bool,
        grace_seconds: int,
        environment: AppEnvironment,
        checksums: Mapping[str, str],
        spot: SpotNodes | None = None,
        pull_secrets: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id)
        name = identity.name
        self.name = name
        self.identity = identity
        self.pool = pool
        self.resources = pool.resources
        self.metrics_port = pool.metrics_port
        self.metrics_port_name = METRICS_PORT_NAME
        service_account(self, name, namespace, identity)
        ports = (
            [k8s.ContainerPort(name=METRICS_PORT_NAME, container_port=pool.metrics_port, protocol="TCP")]
            if pool.metrics_port is not None
            else None
        )
        liveness = _liveness(pool)
        worker = container(
            name="worker",
            image=image,
            command=list(pool.command),
            args=list(pool.args) or None,
            ports=ports,
            env_from=environment.env_from(),
            env=[
                env("WORKER_POOL", pool.name),
                env("WORKER_QUEUES", ",".join(pool.queues)),
                env("WORKER_CONCURRENCY", str(pool.concurrency)),
                *([env("METRICS_PORT", str(pool.metrics_port))] if pool.metrics_port is not None else []),
                *environment.variables(),
            ],
            resources=kube.resources(pool.resources),
            liveness_probe=liveness,
        )
        skips = checkov.workload_skips(
            pool.resources, app_image=image, liveness=liveness is not None, readiness=False
        )
        k8s.KubeDeployment(
            self,
            "Deployment",
            metadata=meta(name, namespace, identity, checkov.as_annotations(skips)),
            spec=k8s.DeploymentSpec(
                replicas=None if autoscaled else pool.replicas,
                revision_history_limit=10,
                selector=label_selector(identity),
                strategy=surge_without_downtime(),
                template=pod_template(
                    identity=identity,
                    service_account=name,
                    run_as=APP_USER,
                    grace_seconds=grace_seconds,
                    placement=pool.placement or Placement(),
                    spot=spot,
                    pull_secrets=pull_secrets,
                    containers=[worker],
                    checksums=checksums,
                ),
            ),
        )
        if pool.metrics_port is not None:
            service(
                self,
                "Service",
                name=name,
                namespace=namespace,
                identity=identity,
                ports={METRICS_PORT_NAME: pool.metrics_port},
            )
