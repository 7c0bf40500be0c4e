"""PostgreSQL as a single-replica StatefulSet, for environments without a managed DB.

Choices that matter on a real cluster: PGDATA is a subdirectory of the volume
(a fresh volume's ``lost+found`` makes initdb refuse the mount root); the pod
runs as the image's ``postgres`` uid with fsGroup so it never needs root to chown;
SIGTERM means "smart" shutdown, which waits for every client (PgBouncer never
disconnects), so a preStop hook asks for a *fast* shutdown instead and the
grace period leaves room for the final checkpoint. PVCs are retained when the
StatefulSet is deleted or scaled: data outlives the manifest.
"""

from __future__ import annotations

from cdk8s_plus_28 import k8s

from constructs import Construct

from .config import secret_keys as keys
from .config.types import EnvConfig
from .identity import Identity
from .kube import empty_dir, env, int_or_str, label_selector, meta, quantity, resources, secret_env
from .security import container_security, pod_security

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
        ns = cfg.namespace
        secret = cfg.secrets.name
        self.name = NAME
        k8s.KubeServiceAccount(
            self, "ServiceAccount", metadata=meta(NAME, ns, identity), automount_service_account_token=False
        )
        port = k8s.ServicePort(name=PORT_NAME, port=PORT, target_port=int_or_str(PORT_NAME), protocol="TCP")
        k8s.KubeService(
            self,
            "Headless",
            metadata=meta(f"{NAME}-headless", ns, identity),
            spec=k8s.ServiceSpec(cluster_ip="None", selector=identity.selector, ports=[port]),
        )
        k8s.KubeService(
            self,
            "Service",
            metadata=meta(NAME, ns, identity),
            spec=k8s.ServiceSpec(type="ClusterIP", selector=identity.selector, ports=[port]),
        )
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
                k8s.VolumeMount(name="data", mount_path=DATA_MOUNT),
                k8s.VolumeMount(name="run", mount_path="/var/run/postgresql"),
                k8s.VolumeMount(name="tmp", mount_path="/tmp"),
            ],
        )
        claim = k8s.KubePersistentVolumeClaimProps(
            metadata=k8s.ObjectMeta(name="data", labels=identity.selector),
            spec=k8s.PersistentVolumeClaimSpec(
                access_modes=["ReadWriteOnce"],
                storage_class_name=pg.storage_class,
                resources=k8s.ResourceRequirements(requests={"storage": quantity(pg.storage_size)}),
            ),
        )
        k8s.KubeStatefulSet(
            self,
            "StatefulSet",
            metadata=meta(NAME, ns, identity),
            spec=k8s.StatefulSetSpec(
                service_name=f"{NAME}-headless",
                replicas=1,
                selector=label_selector(identity),
                persistent_volume_claim_retention_policy=k8s.StatefulSetPersistentVolumeClaimRetentionPolicy(
                    when_deleted="Retain", when_scaled="Retain"
                ),
                template=k8s.PodTemplateSpec(
                    metadata=k8s.ObjectMeta(labels=identity.labels),
                    spec=k8s.PodSpec(
                        service_account_name=NAME,
                        automount_service_account_token=False,
                        security_context=pod_security(pg.uid, pg.uid, pg.uid),
                        termination_grace_period_seconds=pg.termination_grace_seconds,
                        containers=[container],
                        volumes=[empty_dir("run", "16Mi"), empty_dir("tmp", "256Mi")],
                    ),
                ),
                volume_claim_templates=[claim],
            ),
        )
