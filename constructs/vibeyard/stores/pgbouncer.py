"""PgBouncer in transaction mode, in front of the in-cluster or managed database.

Many short-lived Next.js and worker connections become a small, fixed pool of
server connections, which is what keeps a managed instance's connection limit
from capping how far the HPA can scale.

The configuration is rendered, not generated: ``pgbouncer.ini`` is a ConfigMap,
so the reviewed YAML is the config (the image's entrypoint would take everything
after ``/`` in a URL as the database name, ``?sslmode=require`` included). The
image's entrypoint is bypassed; only the credentials come from the Secret, written
by an init container into a memory-backed ``userlist.txt``.

Shutdown: PgBouncer 1.23+ treats SIGTERM as "wait for every client", and pooled
clients never disconnect, so a plain SIGTERM ends in SIGKILL. The preStop hook
waits for the endpoint removal to spread, then sends SIGINT (a safe shutdown in
every version: wait for the server connections in use, then exit) and waits for
the process to go, all within the grace period.
"""

from __future__ import annotations

from typing import Literal

from cdk8s_plus_28 import k8s
from constructs import Construct

from .. import checkov, kube
from .. import identity as ids
from ..config import secret_keys as keys
from ..config.types import Exporters, PgBouncerConfig
from ..kube import (
    Site,
    deployment,
    env,
    int_or_str,
    memory_dir,
    meta,
    secret_env,
    service,
    service_account,
)
from ..pod import RunAs, container, pod_template
from ..scaling.placement import spread
from . import exporter

PORT_NAME = "postgres"
CONFIG_DIR = "/etc/pgbouncer/config"
AUTH_DIR = "/etc/pgbouncer/auth"
# PgBouncer is the container's command, so it is PID 1 in the container. No pidfile: the
# pod's /tmp outlives a container restart, and after an unclean exit a restarted PgBouncer
# would read "1" there, find PID 1 alive (itself) and refuse to start, for good.
PID = 1
ENDPOINT_DRAIN_SECONDS = 5

# Escape '"' as '""', the userlist format's only quoting rule, and write it for pgbouncer's user only.
USERLIST_SCRIPT = (
    "set -eu; umask 077; "
    'q() { printf \'%s\' "$1" | sed \'s/"/""/g\'; }; '
    f'printf \'"%s" "%s"\\n\' "$(q "$DB_USER")" "$(q "$DB_PASSWORD")" > {AUTH_DIR}/userlist.txt'
)


def pgbouncer_ini(
    pgb: PgBouncerConfig, *, server_host: str, server_port: int, database: str, stats_user: str
) -> str:
    """Options that load in PgBouncer 1.18 (Debian's, used by the tests) as well as 1.25 (the image's)."""
    return "\n".join(
        [
            "[databases]",
            f"{database} = host={server_host} port={server_port} dbname={database}",
            "",
            "[pgbouncer]",
            "listen_addr = 0.0.0.0",
            f"listen_port = {pgb.port}",
            "unix_socket_dir =",
            "auth_type = scram-sha-256",
            f"auth_file = {AUTH_DIR}/userlist.txt",
            f"pool_mode = {pgb.pool_mode}",
            f"max_client_conn = {pgb.max_client_conn}",
            f"default_pool_size = {pgb.default_pool_size}",
            "ignore_startup_parameters = extra_float_digits,options",
            f"server_tls_sslmode = {pgb.server_tls_sslmode}",
            "server_check_query = select 1",
            f"stats_users = {stats_user}",
            "application_name_add_host = 1",
            "",
        ]
    )


class PgBouncer(Construct):
    """Deployment, Service and ConfigMap ``pgbouncer``.

    :param site: the environment's namespace, instance and pull secrets.
    :param pgbouncer: image, replicas, port, pool sizes, TLS mode, resources, uid and grace period.
    :param server: the database's host and port (the in-cluster Service, or the managed endpoint).
    :param database: the database name, which is also the pool's name.
    :param user: the database user; its password is the Secret's ``postgres-password``.
    :param secret: the environment's Secret.
    :param exporters: the exporter sidecar's image and resources; None: not scraped. Default none.
    """

    kind: Literal["Deployment"] = "Deployment"

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        site: Site,
        pgbouncer: PgBouncerConfig,
        server: tuple[str, int],
        database: str,
        user: str,
        secret: str,
        exporters: Exporters | None = None,
    ) -> None:
        super().__init__(scope, id)
        pgb = pgbouncer
        self.identity = identity = ids.of(ids.PGBOUNCER, site.instance, pgb.image.tag)
        self.name = name = identity.name
        self.port = pgb.port
        self.metrics = exporter.metrics(exporter.PGBOUNCER_PORT) if exporters else None
        ns = site.namespace
        ini = pgbouncer_ini(
            pgb, server_host=server[0], server_port=server[1], database=database, stats_user=user
        )
        k8s.KubeConfigMap(
            self, "Config", metadata=meta(f"{name}-config", ns, identity), data={"pgbouncer.ini": ini}
        )
        service_account(self, name, ns, identity)
        auth = k8s.VolumeMount(name="auth", mount_path=AUTH_DIR)
        sidecars = exporter.pgbouncer_exporter(exporters, pgbouncer_port=pgb.port, user=user, secret=secret)
        template = pod_template(
            identity=identity,
            site=site,
            run_as=RunAs(pgb.uid),
            termination_grace_period_seconds=pgb.termination_grace_seconds,
            # Replicas are there to survive a node: never two on one node while another fits.
            topology_spread_constraints=spread(identity, one_per_node=True) if pgb.replicas > 1 else None,
            init_containers=[_userlist(pgb, user=user, secret=secret, mount=auth)],
            containers=[self._pooler(pgb, auth), *sidecars],
            tmp_size="16Mi",
            volumes=[
                k8s.Volume(name="config", config_map=k8s.ConfigMapVolumeSource(name=f"{name}-config")),
                memory_dir("auth", "1Mi"),
            ],
        )
        skips = checkov.as_annotations(checkov.workload_skips(pgb.resources))
        deployment(
            self, namespace=ns, identity=identity, replicas=pgb.replicas, template=template, annotations=skips
        )
        metrics = {self.metrics.port_name: self.metrics.port} if self.metrics else {}
        service(
            self,
            "Service",
            name=name,
            namespace=ns,
            identity=identity,
            ports={PORT_NAME: pgb.port, **metrics},
        )

    def _pooler(self, pgb: PgBouncerConfig, auth_mount: k8s.VolumeMount) -> k8s.Container:
        """PgBouncer itself, stopped with SIGINT by its preStop hook."""

        def probe(period: int, failures: int) -> k8s.Probe:
            return k8s.Probe(
                tcp_socket=k8s.TcpSocketAction(port=int_or_str(PORT_NAME)),
                period_seconds=period,
                timeout_seconds=3,
                failure_threshold=failures,
            )

        stop = f"sleep {ENDPOINT_DRAIN_SECONDS}; kill -INT {PID}; "
        stop += f"while kill -0 {PID} 2>/dev/null; do sleep 1; done"
        return container(
            name=self.name,
            image=pgb.image,
            command=["/usr/bin/pgbouncer", f"{CONFIG_DIR}/pgbouncer.ini"],
            ports=[k8s.ContainerPort(name=PORT_NAME, container_port=pgb.port, protocol="TCP")],
            resources=kube.resources(pgb.resources),
            readiness_probe=probe(period=10, failures=3),
            liveness_probe=probe(period=20, failures=3),
            lifecycle=k8s.Lifecycle(
                pre_stop=k8s.LifecycleHandler(exec=k8s.ExecAction(command=["sh", "-c", stop]))
            ),
            mounts=[k8s.VolumeMount(name="config", mount_path=CONFIG_DIR, read_only=True), auth_mount],
        )


def _userlist(pgb: PgBouncerConfig, *, user: str, secret: str, mount: k8s.VolumeMount) -> k8s.Container:
    """The init container writing ``userlist.txt`` from the Secret, for PgBouncer's user only."""
    return container(
        name="userlist",
        image=pgb.image,
        command=["sh", "-c", USERLIST_SCRIPT],
        env=[env("DB_USER", user), secret_env("DB_PASSWORD", secret, keys.POSTGRES_PASSWORD)],
        resources=kube.resources(pgb.resources),
        mounts=[mount],
        tmp=False,
    )
