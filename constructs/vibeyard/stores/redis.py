"""Redis for BullMQ, as a single-replica StatefulSet with auth, and the pieces the
cache Redis (``redis_cache.py``) shares with it.

BullMQ keeps jobs as Redis keys, so the queue's ``maxmemory-policy noeviction`` is
not a tuning choice: any evicting policy silently deletes queued jobs. That is
why the cache has its own instance: cache keys filling the queue's memory would
make every enqueue fail. ``maxmemory`` sits well below the container limit: an
AOF rewrite forks, and the copy-on-write pages of a busy Redis plus the client
buffers must fit beside the dataset, or the kernel OOM-kills it. Persistence is
AOF only (``everysec`` bounds loss to one second; RDB snapshots would fork
again for nothing). Unlike the design doc, auth is on: the password comes from
the Secret, and probes authenticate through ``REDISCLI_AUTH`` so it never
appears in argv.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from cdk8s_plus_28 import k8s
from constructs import Construct

from .. import identity as ids
from .. import kube
from ..config import secret_keys as keys
from ..config.quantity import memory_bytes
from ..config.types import Exporters, Image, RedisConfig, Resources
from ..identity import Identity
from ..kube import Site, memory_dir, meta, secret_env
from ..pod import RunAs, container, pod_template
from . import exporter
from .stateful_store import DATA_VOLUME, StatefulStore

PORT_NAME = "redis"
CONFIG_FILE = "redis.conf"
CONFIG_DIR = "/etc/redis"
# The password reaches redis-server through a config include written from the Secret into
# a memory-backed volume: never in argv (``ps``, the pod spec) and never on a disk.
AUTH_DIR = "/etc/redis/auth"
AUTH_FILE = f"{AUTH_DIR}/requirepass.conf"
# Inside double quotes Redis unescapes \\ and \" (sdssplitargs): every printable password survives.
AUTH_SCRIPT = (
    "set -eu; umask 077; "
    'escaped="$(printf \'%s\' "$REDIS_PASSWORD" | sed \'s/[\\\\"]/\\\\&/g\')"; '
    f'printf \'requirepass "%s"\\n\' "$escaped" > {AUTH_FILE}'
)
_PING = "redis-cli --no-auth-warning -h 127.0.0.1 -p {port} ping | grep -q PONG"


def maxmemory_mb(resources: Resources, percent: int) -> int:
    limit = memory_bytes(resources.memory_limit) or 0
    return limit * percent // 100 // (1024 * 1024)


def redis_conf(*, port: int, maxmemory_mb: int, policy: str, data_dir: str | None) -> str:
    """Persistent (AOF in ``data_dir``) when a data directory is given; a pure cache otherwise."""
    persistence = (
        [f"dir {data_dir}", "appendonly yes", "appendfsync everysec", "aof-use-rdb-preamble yes"]
        if data_dir
        else ["dir /tmp", "appendonly no"]
    )
    return "\n".join(
        [
            f"include {AUTH_FILE}",
            "bind 0.0.0.0 -::*",
            f"port {port}",
            *persistence,
            'save ""',
            f"maxmemory {maxmemory_mb}mb",
            f"maxmemory-policy {policy}",
            "tcp-keepalive 60",
            "",
        ]
    )


def redis_container(
    *,
    name: str,
    image: Image,
    port: int,
    resources: Resources,
    secret: str,
    password_key: str,
    mounts: Sequence[k8s.VolumeMount],
) -> k8s.Container:
    """``redis-server`` with the rendered config, which includes the password file."""

    def probe(period: int, failures: int) -> k8s.Probe:
        return k8s.Probe(
            exec=k8s.ExecAction(command=["sh", "-c", _PING.format(port=port)]),
            period_seconds=period,
            timeout_seconds=5,
            failure_threshold=failures,
        )

    return container(
        name=name,
        image=image,
        args=["redis-server", f"{CONFIG_DIR}/{CONFIG_FILE}"],
        ports=[k8s.ContainerPort(name=PORT_NAME, container_port=port, protocol="TCP")],
        # redis-cli in the probes authenticates from the environment, never from argv.
        env=[secret_env("REDISCLI_AUTH", secret, password_key)],
        resources=kube.resources(resources),
        startup_probe=probe(period=5, failures=60),
        readiness_probe=probe(period=10, failures=3),
        liveness_probe=probe(period=20, failures=6),
        mounts=[
            *mounts,
            k8s.VolumeMount(name="config", mount_path=CONFIG_DIR, read_only=True),
            k8s.VolumeMount(name="auth", mount_path=AUTH_DIR, read_only=True),
        ],
    )


def auth_writer(*, image: Image, resources: Resources, secret: str, password_key: str) -> k8s.Container:
    """The init container that writes the ``requirepass`` include from the Secret."""
    return container(
        name="auth",
        image=image,
        command=["sh", "-c", AUTH_SCRIPT],
        env=[secret_env("REDIS_PASSWORD", secret, password_key)],
        resources=kube.resources(resources),
        mounts=[k8s.VolumeMount(name="auth", mount_path=AUTH_DIR)],
        tmp=False,
    )


def config_map(scope: Construct, *, name: str, namespace: str, identity: Identity, conf: str) -> k8s.Volume:
    """The ConfigMap holding ``redis.conf``, and the volume that mounts it."""
    k8s.KubeConfigMap(scope, "Config", metadata=meta(name, namespace, identity), data={CONFIG_FILE: conf})
    return k8s.Volume(name="config", config_map=k8s.ConfigMapVolumeSource(name=name))


class Redis(Construct):
    """StatefulSet ``redis``, its Services and ConfigMap ``redis-config``.

    :param site: the environment's namespace, instance and pull secrets.
    :param redis: image, port, storage, resources, memory share, uid/gid and grace period.
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
        redis: RedisConfig,
        secret: str,
        exporters: Exporters | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.identity = ids.of(ids.REDIS, site.instance, redis.image.tag)
        self.name = self.identity.name
        self.port = redis.port
        self.metrics = exporter.metrics(exporter.REDIS_PORT) if exporters else None
        self.maxmemory_mb = maxmemory_mb(redis.resources, redis.maxmemory_percent)
        conf = redis_conf(
            port=redis.port, maxmemory_mb=self.maxmemory_mb, policy="noeviction", data_dir="/data"
        )
        config = config_map(
            self, name=f"{self.name}-config", namespace=site.namespace, identity=self.identity, conf=conf
        )
        server = redis_container(
            name=self.name,
            image=redis.image,
            port=redis.port,
            resources=redis.resources,
            secret=secret,
            password_key=keys.REDIS_PASSWORD,
            mounts=[k8s.VolumeMount(name=DATA_VOLUME, mount_path="/data")],
        )
        auth = auth_writer(
            image=redis.image, resources=redis.resources, secret=secret, password_key=keys.REDIS_PASSWORD
        )
        sidecars = exporter.redis_exporter(
            exporters, redis_port=redis.port, secret=secret, password_key=keys.REDIS_PASSWORD
        )
        template = pod_template(
            identity=self.identity,
            site=site,
            run_as=RunAs(redis.uid, redis.gid),
            termination_grace_period_seconds=redis.termination_grace_seconds,
            init_containers=[auth],
            containers=[server, *sidecars],
            tmp_size="64Mi",
            volumes=[config, memory_dir("auth", "1Mi")],
        )
        StatefulStore(
            self,
            "Store",
            site=site,
            identity=self.identity,
            port=(PORT_NAME, redis.port),
            template=template,
            resources=redis.resources,
            storage_size=redis.storage_size,
            storage_class=redis.storage_class,
            metrics=self.metrics,
        )
