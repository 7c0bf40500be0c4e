"""PostgreSQL as a single-replica StatefulSet, for environments without a managed DB.

Choices that matter on a real cluster: PGDATA is a subdirectory of the volume
(a fresh volume's ``lost+found`` makes initdb refuse the mount root); the pod
runs as the image's ``postgres`` uid with fsGroup so it never needs root to chown;
SIGTERM means "smart" shutdown, which waits for every client (PgBouncer never
disconnects), so a preStop hook asks for a *fast* shutdown instead and the
grace period leaves room for the final checkpoint. Volume, Services and
retention come from ``StatefulStore``.
"""

from __future__ import annotations

from cdk8s_plus_28 import k8s
from constructs import Construct

from .. import kube
from ..config import secret_keys as keys
from ..config.types import PostgresConfig
from ..identity import Identity
from ..kube import empty_dir, env, secret_env
from ..pod import RunAs, container
from .stateful_store import DATA_VOLUME, StatefulStore

PORT_NAME = "postgres"
DATA_MOUNT = "/var/lib/postgresql/data"


class Postgres(Construct):
    """StatefulSet ``postgres`` with Services ``postgres`` and ``postgres-headless``.

    :param namespace: the environment's namespace.
    :param identity: the database's identity; its name names the objects.
    :param postgres: image, port, storage, resources, uid and grace period.
    :param secret: the Secret holding the user, password and database name.
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
    ) -> None:
        super().__init__(scope, id)
        pg = postgres
        self.name = self.service_name = identity.name
        self.port = pg.port
        self.identity = identity
        self.resources = pg.resources
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
                secret_env("POSTGRES_USER", secret, keys.POSTGRES_USER),
                secret_env("POSTGRES_PASSWORD", secret, keys.POSTGRES_PASSWORD),
                secret_env("POSTGRES_DB", secret, keys.POSTGRES_DATABASE),
                env("PGDATA", f"{DATA_MOUNT}/pgdata"),
            ],
            resources=kube.resources(pg.resources),
            startup_probe=probe(period=5, failures=60),
            readiness_probe=probe(period=10, failures=3),
            liveness_probe=probe(period=20, failures=6),
            lifecycle=k8s.Lifecycle(
                pre_stop=k8s.LifecycleHandler(
                    exec=k8s.ExecAction(command=["sh", "-c", 'pg_ctl stop -D "$PGDATA" -m fast -w -t 60'])
                )
            ),
            mounts=[
                k8s.VolumeMount(name=DATA_VOLUME, mount_path=DATA_MOUNT),
                k8s.VolumeMount(name="run", mount_path="/var/run/postgresql"),
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
            volumes=[empty_dir("run", "16Mi")],
        )
