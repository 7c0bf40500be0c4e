"""PostgreSQL as a single-replica StatefulSet, for environments without a managed DB.

Choices that matter on a real cluster: PGDATA is a subdirectory of the volume
(a fresh volume's ``lost+found`` makes initdb refuse the mount root); the pod
runs as the image's ``postgres`` uid with fsGroup so it never needs root to chown;
SIGTERM means "smart" shutdown, which waits for every client (PgBouncer never
disconnects), so a preStop hook asks for a *fast* shutdown instead, bounded by
``shutdown_timeout_seconds``, and the grace period (validated to be longer)
leaves room for the final checkpoint. ``/dev/shm`` is a memory-backed volume:
the container runtime's 64Mi default fails parallel queries. Volume, Services and
retention come from ``StatefulStore``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cdk8s_plus_28 import k8s
from constructs import Construct

from .. import kube
from ..config import secret_keys as keys
from ..config.types import PostgresConfig
from ..identity import Identity
from ..kube import empty_dir, env, memory_dir, secret_env
from ..pod import RunAs, container
from .exporter import Exporter
from .stateful_store import DATA_VOLUME, StatefulStore

PORT_NAME = "postgres"
DATA_MOUNT = "/var/lib/postgresql/data"


class Postgres(Construct):
    """StatefulSet ``postgres`` with Services ``postgres`` and ``postgres-headless``.

    :param namespace: the environment's namespace.
    :param identity: the database's identity; its name names the objects.
    :param postgres: image, names, port, storage, shared memory, resources, uid and shutdown timing.
    :param secret: the Secret holding the password.
    :param exporter: a metrics sidecar (built with ``exporter.postgres_exporter``). Default none.
    :param checksums: ``checksum/<what>`` pod annotations that roll the pod on change. Default none.
    :param pull_secrets: ``imagePullSecrets`` for a private registry. Default none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        namespace: str,
        identity: Identity,
        postgres: PostgresConfig,
        secret: str,
        exporter: Exporter | None = None,
        checksums: Mapping[str, str] | None = None,
        pull_secrets: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id)
        pg = postgres
        self.name = self.service_name = identity.name
        self.port = pg.port
        self.identity = identity
        self.resources = pg.resources
        self.metrics_port = exporter.port if exporter is not None else None
        ready = f'pg_isready -U "$POSTGRES_USER" -d "$POSTGRES_DB" -h 127.0.0.1 -p {pg.port}'

        def probe(period: int, failures: int) -> k8s.Probe:
            return k8s.Probe(
                exec=k8s.ExecAction(command=["sh", "-c", ready]),
                period_seconds=period,
                timeout_seconds=5,
                failure_threshold=failures,
            )

        server = container(
            name=self.name,
            image=pg.image,
            ports=[k8s.ContainerPort(name=PORT_NAME, container_port=pg.port, protocol="TCP")],
            env=[
                env("POSTGRES_USER", pg.user),
                secret_env("POSTGRES_PASSWORD", secret, keys.POSTGRES_PASSWORD),
                env("POSTGRES_DB", pg.database),
                env("PGDATA", f"{DATA_MOUNT}/pgdata"),
            ],
            resources=kube.resources(pg.resources),
            startup_probe=probe(period=5, failures=60),
            readiness_probe=probe(period=10, failures=3),
            liveness_probe=probe(period=20, failures=6),
            lifecycle=k8s.Lifecycle(
                pre_stop=k8s.LifecycleHandler(
                    exec=k8s.ExecAction(
                        command=[
                            "sh",
                            "-c",
                            f'pg_ctl stop -D "$PGDATA" -m fast -w -t {pg.shutdown_timeout_seconds}',
                        ]
                    )
                )
            ),
            mounts=[
                k8s.VolumeMount(name=DATA_VOLUME, mount_path=DATA_MOUNT),
                k8s.VolumeMount(name="run", mount_path="/var/run/postgresql"),
                k8s.VolumeMount(name="shm", mount_path="/dev/shm"),
            ],
        )
        StatefulStore(
            self,
            "Store",
            namespace=namespace,
            identity=identity,
            port=pg.port,
            port_name=PORT_NAME,
            container=server,
            resources=pg.resources,
            run_as=RunAs(pg.uid),
            storage_size=pg.storage_size,
            storage_class=pg.storage_class,
            grace_seconds=pg.termination_grace_seconds,
            tmp_size="256Mi",
            # /dev/shm is 64Mi by default; parallel queries and large sorts need more.
            volumes=[empty_dir("run", "16Mi"), memory_dir("shm", pg.shm_size)],
            exporter=exporter,
            checksums=checksums,
            pull_secrets=pull_secrets,
        )
