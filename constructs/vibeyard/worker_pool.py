"""One BullMQ worker pool: ServiceAccount, Deployment, and a Service only for metrics.

Graceful shutdown is the design constraint. BullMQ's ``worker.close()`` waits for
active jobs, so the grace period is per pool and sized to its longest job, and
the command is exec-form (config validation forbids a shell wrapper) so SIGTERM
reaches Node directly. Node as PID 1 ignores SIGTERM unless it installs a handler,
which the worker must do anyway to call ``close()``.

Workers serve no HTTP. With ``health_command`` set the pool gets an exec liveness
probe; with a ``metrics_port`` it gets a TCP one. With neither it gets none: a
probe that cannot observe the event loop would only restart healthy workers
mid-job, and a stalled worker still surfaces through the queue-depth alert.
"""

from __future__ import annotations

from cdk8s_plus_28 import k8s
from constructs import Construct

from . import placement as placing
from .app_env import app_env, config_from
from .config.types import EnvConfig, Placement, WorkerPool
from .identity import Identity, worker_name
from .kube import (
    empty_dir,
    env,
    int_or_str,
    label_selector,
    meta,
    resources,
    service,
    service_account,
    surge_without_downtime,
)
from .security import container_security, pod_security

APP_UID = 1001
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
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cfg: EnvConfig,
        pool: WorkerPool,
        identity: Identity,
        autoscaled: bool,
        config_checksum: str,
    ) -> None:
        super().__init__(scope, id)
        ns = cfg.namespace
        name = worker_name(pool.name)
        self.name = name
        where: Placement = pool.placement or Placement()
        service_account(self, name, ns, identity)
        ports = (
            [k8s.ContainerPort(name=METRICS_PORT_NAME, container_port=pool.metrics_port, protocol="TCP")]
            if pool.metrics_port is not None
            else None
        )
        container = k8s.Container(
            name="worker",
            image=cfg.image.ref,
            image_pull_policy=cfg.image.pull_policy,
            command=list(pool.command),
            args=list(pool.args) or None,
            ports=ports,
            env_from=config_from(),
            env=[
                env("WORKER_POOL", pool.name),
                env("WORKER_QUEUES", ",".join(pool.queues)),
                env("WORKER_CONCURRENCY", str(pool.concurrency)),
                *app_env(cfg),
            ],
            resources=resources(pool.resources),
            liveness_probe=_liveness(pool),
            security_context=container_security(),
            volume_mounts=[k8s.VolumeMount(name="tmp", mount_path="/tmp")],
        )
        k8s.KubeDeployment(
            self,
            "Deployment",
            metadata=meta(name, ns, identity),
            spec=k8s.DeploymentSpec(
                replicas=None if autoscaled else pool.replicas,
                revision_history_limit=10,
                selector=label_selector(identity),
                strategy=surge_without_downtime(),
                template=k8s.PodTemplateSpec(
                    metadata=k8s.ObjectMeta(
                        labels=identity.labels, annotations={"checksum/config": config_checksum}
                    ),
                    spec=k8s.PodSpec(
                        service_account_name=name,
                        automount_service_account_token=False,
                        security_context=pod_security(APP_UID, APP_UID, APP_UID),
                        termination_grace_period_seconds=pool.termination_grace_seconds,
                        affinity=placing.affinity(where),
                        node_selector=placing.node_selector(where),
                        tolerations=placing.tolerations(where),
                        containers=[container],
                        volumes=[empty_dir("tmp", "256Mi")],
                    ),
                ),
            ),
        )
        if pool.metrics_port is not None:
            service(
                self,
                "Service",
                name=name,
                namespace=ns,
                identity=identity,
                port=pool.metrics_port,
                port_name=METRICS_PORT_NAME,
            )
