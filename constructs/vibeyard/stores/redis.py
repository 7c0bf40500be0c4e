"""Redis for BullMQ and the cache, as a single-replica StatefulSet with auth.

BullMQ keeps jobs as Redis keys, so ``maxmemory-policy noeviction`` is not a
tuning choice: any evicting policy silently deletes queued jobs. ``maxmemory``
sits below the container limit so Redis refuses writes (which BullMQ surfaces as
errors) before the kernel OOM-kills it. AOF with ``everysec`` bounds loss to one
second. Unlike the design doc, auth is on: the password comes from the Secret,
and probes authenticate through ``REDISCLI_AUTH`` so it never appears in argv.
"""

from __future__ import annotations

import hashlib

from cdk8s_plus_28 import k8s
from constructs import Construct

from .. import kube
from ..config import secret_keys as keys
from ..config.quantity import memory_bytes
from ..config.types import RedisConfig
from ..identity import Identity
from ..kube import meta, secret_env
from ..pod import RunAs, container
from .stateful_store import DATA_VOLUME, StatefulStore

PORT_NAME = "redis"
CONFIG_NAME = "redis-config"
_PING = "redis-cli --no-auth-warning -h 127.0.0.1 ping | grep -q PONG"


def maxmemory_mb(redis: RedisConfig) -> int:
    limit = memory_bytes(redis.resources.memory_limit) or 0
    return limit * redis.maxmemory_percent // 100 // (1024 * 1024)


def redis_conf(redis: RedisConfig) -> str:
    return "\n".join(
        [
            "bind 0.0.0.0 -::*",
            f"port {redis.port}",
            "dir /data",
            "appendonly yes",
            "appendfsync everysec",
            "aof-use-rdb-preamble yes",
            f"maxmemory {maxmemory_mb(redis)}mb",
            "maxmemory-policy noeviction",
            "save 900 1 300 10 60 10000",
            "tcp-keepalive 60",
            "",
        ]
    )


def _probe(period: int, failures: int) -> k8s.Probe:
    return k8s.Probe(
        exec=k8s.ExecAction(command=["sh", "-c", _PING]),
        period_seconds=period,
        timeout_seconds=5,
        failure_threshold=failures,
    )


class Redis(Construct):
    """StatefulSet ``redis``, its Services and ConfigMap ``redis-config``.

    :param namespace: the environment's namespace.
    :param identity: the store's identity; its name names the objects.
    :param redis: image, port, storage, resources, memory share and uid/gid.
    :param secret: the Secret holding the password.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        namespace: str,
        identity: Identity,
        redis: RedisConfig,
        secret: str,
    ) -> None:
        super().__init__(scope, id)
        self.name = self.service_name = identity.name
        self.port = redis.port
        self.identity = identity
        self.resources = redis.resources
        conf = redis_conf(redis)
        k8s.KubeConfigMap(
            self, "Config", metadata=meta(CONFIG_NAME, namespace, identity), data={"redis.conf": conf}
        )
        server = container(
            name=self.name,
            image=redis.image,
            args=["redis-server", "/etc/redis/redis.conf", "--requirepass", "$(REDIS_PASSWORD)"],
            ports=[k8s.ContainerPort(name=PORT_NAME, container_port=redis.port, protocol="TCP")],
            env=[
                secret_env("REDIS_PASSWORD", secret, keys.REDIS_PASSWORD),
                secret_env("REDISCLI_AUTH", secret, keys.REDIS_PASSWORD),
            ],
            resources=kube.resources(redis.resources),
            startup_probe=_probe(period=5, failures=60),
            readiness_probe=_probe(period=10, failures=3),
            liveness_probe=_probe(period=20, failures=6),
            mounts=[
                k8s.VolumeMount(name=DATA_VOLUME, mount_path="/data"),
                k8s.VolumeMount(name="config", mount_path="/etc/redis", read_only=True),
            ],
        )
        StatefulStore(
            self,
            "Store",
            namespace=namespace,
            identity=identity,
            port=redis.port,
            port_name=PORT_NAME,
            container=server,
            resources=redis.resources,
            run_as=RunAs(redis.uid, redis.gid),
            storage_size=redis.storage_size,
            storage_class=redis.storage_class,
            grace_seconds=60,
            tmp_size="64Mi",
            volumes=[k8s.Volume(name="config", config_map=k8s.ConfigMapVolumeSource(name=CONFIG_NAME))],
            checksums={"config": hashlib.sha256(conf.encode()).hexdigest()},
        )
