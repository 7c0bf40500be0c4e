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

from typing import Literal

from cdk8s_plus_28 import k8s
from constructs import Construct

from .. import identity as ids
from .. import kube
from ..config import secret_keys as keys
from ..config.types import Exporters, PostgresConfig
from ..kube import Site, empty_dir, env, memory_dir, secret_env
from ..pod import RunAs, container, pod_template
from . import exporter
from .stateful_store import DATA_VOLUME, StatefulStore

PORT_NAME = "postgres"
DATA_MOUNT = "/var/lib/postgresql/data"


class Postgres(Construct):
    """StatefulSet ``postgres`` with Services ``postgres`` and ``postgres-headless``.

    :param site: the environment's namespace, instance and pull secrets.
    :param postgres: image, names, port, storage, shared memory, resources, uid and shutdown timing.
    :param secret: the Secret holding the password.
    :param exporters: the exporter sidecar's image and resources; None: not scraped. Default none.
    """

    kind: Literal["StatefulSet"] = "StatefulSet"

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        site: Site,
        postgres: PostgresConfig,
        secret: str,
        exporters: Exporters | None = None,
    ) -> None:
        super().__init__(scope, id)
        pg = postgres
        self.identity = ids.of(ids.POSTGRES, site.instance, pg.image.tag)
        self.name = self.identity.name
        self.port = pg.port
        self.metrics = exporter.metrics(exporter.POSTGRES_PORT) if exporters else None
        sidecars = exporter.postgres_exporter(
            exporters, postgres_port=pg.port, user=pg.user, database=pg.database, secret=secret
        )
        template = pod_template(
            identity=self.identity,
            site=site,
            run_as=RunAs(pg.uid),
            termination_grace_period_seconds=pg.termination_grace_seconds,
            containers=[self._server(pg, secret), *sidecars],
            # /dev/shm is 64Mi by default; parallel queries and large sorts need more.
            volumes=[empty_dir("run", "16Mi"), memory_dir("shm", pg.shm_size)],
        )
        StatefulStore(
            self,
            "Store",
            site=site,
            identity=self.identity,
            port=(PORT_NAME, pg.port),
            template=template,
            resources=pg.resources,
            storage_size=pg.storage_size,
            storage_class=pg.storage_class,
            metrics=self.metrics,
        )

    def _server(self, pg: PostgresConfig, secret: str) -> k8s.Container:
        ready = f'pg_isready -U "$POSTGRES_USER" -d "$POSTGRES_DB" -h 127.0.0.1 -p {pg.port}'

        def probe(period: int, failures: int) -> k8s.Probe:
            return k8s.Probe(
                exec=k8s.ExecAction(command=["sh", "-c", ready]),
                period_seconds=period,
                timeout_seconds=5,
                failure_threshold=failures,
            )

        stop = f'pg_ctl stop -D "$PGDATA" -m fast -w -t {pg.shutdown_timeout_seconds}'
        return container(
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
                pre_stop=k8s.LifecycleHandler(exec=k8s.ExecAction(command=["sh", "-c", stop]))
            ),
            mounts=[
                k8s.VolumeMount(name=DATA_VOLUME, mount_path=DATA_MOUNT),
                k8s.VolumeMount(name="run", mount_path="/var/run/postgresql"),
                k8s.VolumeMount(name="shm", mount_path="/dev/shm"),
            ],
        )
