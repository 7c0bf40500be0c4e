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

from .. import checkov, kube
from ..config import secret_keys as keys
from ..config.types import PgBouncerConfig
from ..identity import Identity
from ..kube import (
    empty_dir,
    env,
    int_or_str,
    label_selector,
    meta,
    secret_env,
    service,
    service_account,
    surge_without_downtime,
)
from ..pod import RunAs, container, pod_template

PORT_NAME = "postgres"


def _probe(period: int, failures: int) -> k8s.Probe:
    return k8s.Probe(
        tcp_socket=k8s.TcpSocketAction(port=int_or_str(PORT_NAME)),
        period_seconds=period,
        timeout_seconds=3,
        failure_threshold=failures,
    )


class PgBouncer(Construct):
    """Deployment and Service ``pgbouncer``.

    :param namespace: the environment's namespace.
    :param identity: the pooler's identity; its name names the objects.
    :param pgbouncer: image, replicas, port, pool sizes, resources and uid.
    :param secret: the Secret holding the upstream ``database-url``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        namespace: str,
        identity: Identity,
        pgbouncer: PgBouncerConfig,
        secret: str,
    ) -> None:
        super().__init__(scope, id)
        pgb = pgbouncer
        name = identity.name
        self.name = self.service_name = name
        self.port = pgb.port
        self.identity = identity
        self.resources = pgb.resources
        service_account(self, name, namespace, identity)
        pooler = container(
            name=name,
            image=pgb.image,
            ports=[k8s.ContainerPort(name=PORT_NAME, container_port=pgb.port, protocol="TCP")],
            env=[
                secret_env("DATABASE_URL", secret, keys.DATABASE_URL),
                env("LISTEN_PORT", str(pgb.port)),
                env("POOL_MODE", pgb.pool_mode),
                env("MAX_CLIENT_CONN", str(pgb.max_client_conn)),
                env("DEFAULT_POOL_SIZE", str(pgb.default_pool_size)),
                env("AUTH_TYPE", "scram-sha-256"),
                env("SERVER_TLS_SSLMODE", pgb.server_tls_sslmode),
                env("IGNORE_STARTUP_PARAMETERS", "extra_float_digits,options"),
            ],
            resources=kube.resources(pgb.resources),
            readiness_probe=_probe(period=10, failures=3),
            liveness_probe=_probe(period=20, failures=3),
            lifecycle=k8s.Lifecycle(
                pre_stop=k8s.LifecycleHandler(exec=k8s.ExecAction(command=["sleep", "5"]))
            ),
            mounts=[k8s.VolumeMount(name="config", mount_path="/etc/pgbouncer")],
        )
        k8s.KubeDeployment(
            self,
            "Deployment",
            metadata=meta(
                name, namespace, identity, checkov.as_annotations(checkov.workload_skips(pgb.resources))
            ),
            spec=k8s.DeploymentSpec(
                replicas=pgb.replicas,
                revision_history_limit=10,
                selector=label_selector(identity),
                strategy=surge_without_downtime(),
                template=pod_template(
                    identity=identity,
                    service_account=name,
                    run_as=RunAs(pgb.uid),
                    grace_seconds=30,
                    containers=[pooler],
                    tmp_size="16Mi",
                    volumes=[empty_dir("config", "8Mi")],
                ),
            ),
        )
        service(
            self,
            "Service",
            name=name,
            namespace=namespace,
            identity=identity,
            port=pgb.port,
            port_name=PORT_NAME,
        )
