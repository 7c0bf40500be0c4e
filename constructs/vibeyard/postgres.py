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

from .config import secret_keys as keys
from .config.types import EnvConfig
from .identity import Identity
from .kube import empty_dir, env, resources, secret_env
from .security import container_security
from .stateful_store import DATA_VOLUME, StatefulStore

NAME = "postgres"
PORT = 5432
PORT_NAME = "postgres"
DATA_MOUNT = "/var/lib/postgresql/data"
_READY = 'pg_isready -U "$POSTGRES_USER" -d "$POSTGRES_DB" -h 127.0.0.1 -p 5432'


def _probe(period: int, failures: int) -> k8s.Probe:
    return k8s.Probe(
        exec=k8s.ExecAction(command=["sh", "-c", _READY]),
        period_seconds=period,
        timeout_seconds=5,
        failure_threshold=failures,
    )


class Postgres(Construct):
    def __init__(self, scope: Construct, id: str, *, cfg: EnvConfig, identity: Identity) -> None:
        super().__init__(scope, id)
        pg = cfg.postgres
        secret = cfg.secrets.name
        self.name = NAME
        container = k8s.Container(
            name=NAME,
            image=pg.image.ref,
            image_pull_policy=pg.image.pull_policy,
            ports=[k8s.ContainerPort(name=PORT_NAME, container_port=PORT, protocol="TCP")],
            env=[
                secret_env("POSTGRES_USER", secret, keys.POSTGRES_USER),
                secret_env("POSTGRES_PASSWORD", secret, keys.POSTGRES_PASSWORD),
                secret_env("POSTGRES_DB", secret, keys.POSTGRES_DATABASE),
                env("PGDATA", f"{DATA_MOUNT}/pgdata"),
            ],
            resources=resources(pg.resources),
            startup_probe=_probe(period=5, failures=60),
            readiness_probe=_probe(period=10, failures=3),
            liveness_probe=_probe(period=20, failures=6),
            lifecycle=k8s.Lifecycle(
                pre_stop=k8s.LifecycleHandler(
                    exec=k8s.ExecAction(command=["sh", "-c", 'pg_ctl stop -D "$PGDATA" -m fast -w -t 60'])
                )
            ),
            security_context=container_security(),
            volume_mounts=[
                k8s.VolumeMount(name=DATA_VOLUME, mount_path=DATA_MOUNT),
                k8s.VolumeMount(name="run", mount_path="/var/run/postgresql"),
                k8s.VolumeMount(name="tmp", mount_path="/tmp"),
            ],
        )
        StatefulStore(
            self,
            "Store",
            name=NAME,
            namespace=cfg.namespace,
            identity=identity,
            port=PORT,
            port_name=PORT_NAME,
            container=container,
            uid=pg.uid,
            gid=pg.uid,
            storage_size=pg.storage_size,
            storage_class=pg.storage_class,
            termination_grace_seconds=pg.termination_grace_seconds,
            volumes=[empty_dir("run", "16Mi"), empty_dir("tmp", "256Mi")],
        )
