"""PgBouncer in transaction mode, in front of the in-cluster or managed database.

Many short-lived Next.js and worker connections become a small, fixed pool of
server connections, which is what keeps a managed instance's connection limit
from capping how far the HPA can scale. The edoburu image renders its ini and
userlist from the environment at start-up into ``/etc/pgbouncer``, so that path
is an emptyDir and the root filesystem stays read-only. Upstream is the
Secret's ``database-url``; clients authenticate with the same user and password.
"""

from __future__ import annotations

from cdk8s_plus_28 import k8s
from constructs import Construct

from .config import secret_keys as keys
from .config.types import EnvConfig
from .identity import Identity
from .kube import (
    empty_dir,
    env,
    int_or_str,
    label_selector,
    meta,
    resources,
    secret_env,
    service,
    service_account,
    surge_without_downtime,
)
from .security import container_security, pod_security

NAME = "pgbouncer"
PORT_NAME = "postgres"


def _probe(period: int, failures: int) -> k8s.Probe:
    return k8s.Probe(
        tcp_socket=k8s.TcpSocketAction(port=int_or_str(PORT_NAME)),
        period_seconds=period,
        timeout_seconds=3,
        failure_threshold=failures,
    )


class PgBouncer(Construct):
    def __init__(self, scope: Construct, id: str, *, cfg: EnvConfig, identity: Identity) -> None:
        super().__init__(scope, id)
        pgb = cfg.pgbouncer
        ns = cfg.namespace
        self.name = NAME
        self.port = pgb.port
        service_account(self, NAME, ns, identity)
        container = k8s.Container(
            name=NAME,
            image=pgb.image.ref,
            image_pull_policy=pgb.image.pull_policy,
            ports=[k8s.ContainerPort(name=PORT_NAME, container_port=pgb.port, protocol="TCP")],
            env=[
                secret_env("DATABASE_URL", cfg.secrets.name, keys.DATABASE_URL),
                env("LISTEN_PORT", str(pgb.port)),
                env("POOL_MODE", pgb.pool_mode),
                env("MAX_CLIENT_CONN", str(pgb.max_client_conn)),
                env("DEFAULT_POOL_SIZE", str(pgb.default_pool_size)),
                env("AUTH_TYPE", "scram-sha-256"),
                env("SERVER_TLS_SSLMODE", pgb.server_tls_sslmode),
                env("IGNORE_STARTUP_PARAMETERS", "extra_float_digits,options"),
            ],
            resources=resources(pgb.resources),
            readiness_probe=_probe(period=10, failures=3),
            liveness_probe=_probe(period=20, failures=3),
            lifecycle=k8s.Lifecycle(
                pre_stop=k8s.LifecycleHandler(exec=k8s.ExecAction(command=["sleep", "5"]))
            ),
            security_context=container_security(),
            volume_mounts=[
                k8s.VolumeMount(name="config", mount_path="/etc/pgbouncer"),
                k8s.VolumeMount(name="tmp", mount_path="/tmp"),
            ],
        )
        k8s.KubeDeployment(
            self,
            "Deployment",
            metadata=meta(NAME, ns, identity),
            spec=k8s.DeploymentSpec(
                replicas=pgb.replicas,
                revision_history_limit=10,
                selector=label_selector(identity),
                strategy=surge_without_downtime(),
                template=k8s.PodTemplateSpec(
                    metadata=k8s.ObjectMeta(labels=identity.labels),
                    spec=k8s.PodSpec(
                        service_account_name=NAME,
                        automount_service_account_token=False,
                        security_context=pod_security(pgb.uid, pgb.uid, pgb.uid),
                        termination_grace_period_seconds=30,
                        containers=[container],
                        volumes=[empty_dir("config", "8Mi"), empty_dir("tmp", "16Mi")],
                    ),
                ),
            ),
        )
        service(
            self, "Service", name=NAME, namespace=ns, identity=identity, port=pgb.port, port_name=PORT_NAME
        )
