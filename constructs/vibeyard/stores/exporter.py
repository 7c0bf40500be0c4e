"""Prometheus exporter sidecars for the stores we run (none where a store is not scraped).

An exporter beside its server (same pod, 127.0.0.1) sees exactly that server,
needs no Service of its own and no extra NetworkPolicy towards the store; only
its ``metrics`` port is opened to the monitoring namespace. Each runs as its
image's own non-root user, with a read-only root filesystem and no ``/tmp``:
exporters write nothing. Credentials come from the Secret through environment
variables, like the store's own.
"""

from __future__ import annotations

from cdk8s_plus_28 import k8s

from .. import kube
from ..config import secret_keys as keys
from ..config.types import Exporters, Image
from ..kube import Metrics, int_or_str
from ..pod import RunAs, container

NAME = "exporter"
PORT_NAME = "metrics"


def _sidecar(
    image: Image, exporters: Exporters, *, port: int, user: int, env: list[k8s.EnvVar], args: list[str]
) -> list[k8s.Container]:
    probe = k8s.Probe(
        tcp_socket=k8s.TcpSocketAction(port=int_or_str(PORT_NAME)),
        period_seconds=20,
        timeout_seconds=3,
        failure_threshold=3,
    )
    return [
        container(
            name=NAME,
            image=image,
            run_as=RunAs(user),
            tmp=False,
            args=[f"--web.listen-address=:{port}", *args],
            ports=[k8s.ContainerPort(name=PORT_NAME, container_port=port, protocol="TCP")],
            env=env,
            resources=kube.resources(exporters.resources),
            readiness_probe=probe,
            liveness_probe=probe,
        )
    ]


REDIS_PORT = 9121
POSTGRES_PORT = 9187
PGBOUNCER_PORT = 9127


def metrics(port: int) -> Metrics:
    """Where Prometheus scrapes an exporter: its Service port, at the exporters' ``/metrics``."""
    return Metrics(PORT_NAME, port)


def redis_exporter(
    exporters: Exporters | None, *, redis_port: int, secret: str, password_key: str
) -> list[k8s.Container]:
    """oliver006/redis_exporter (uid 59000 in the image)."""
    if exporters is None:
        return []
    return _sidecar(
        exporters.redis,
        exporters,
        port=REDIS_PORT,
        user=59000,
        env=[
            kube.env("REDIS_ADDR", f"redis://127.0.0.1:{redis_port}"),
            kube.secret_env("REDIS_PASSWORD", secret, password_key),
        ],
        args=[],
    )


def postgres_exporter(
    exporters: Exporters | None, *, postgres_port: int, user: str, database: str, secret: str
) -> list[k8s.Container]:
    """prometheus-community's postgres_exporter (the image's ``nobody``, uid 65534)."""
    if exporters is None:
        return []
    return _sidecar(
        exporters.postgres,
        exporters,
        port=POSTGRES_PORT,
        user=65534,
        env=[
            kube.env("DATA_SOURCE_URI", f"127.0.0.1:{postgres_port}/{database}?sslmode=disable"),
            kube.env("DATA_SOURCE_USER", user),
            kube.secret_env("DATA_SOURCE_PASS", secret, keys.POSTGRES_PASSWORD),
        ],
        args=[],
    )


def pgbouncer_exporter(
    exporters: Exporters | None, *, pgbouncer_port: int, user: str, secret: str
) -> list[k8s.Container]:
    """prometheus-community's pgbouncer_exporter (uid 65534), logged in to the admin
    console as a ``stats_users`` member. Its driver (lib/pq) reads the password from
    ``PGPASSWORD``, so none is written into the connection string or its arguments."""
    if exporters is None:
        return []
    return _sidecar(
        exporters.pgbouncer,
        exporters,
        port=PGBOUNCER_PORT,
        user=65534,
        env=[kube.secret_env("PGPASSWORD", secret, keys.POSTGRES_PASSWORD)],
        args=[
            f"--pgBouncer.connectionString=postgres://{user}@127.0.0.1:{pgbouncer_port}/pgbouncer?sslmode=disable"
        ],
    )
