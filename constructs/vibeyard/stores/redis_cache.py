"""The cache Redis: a Deployment with an LRU policy and no persistence.

It is separate from the queue Redis so that cache keys can never fill the memory
BullMQ's jobs need: the queue refuses writes when full (``noeviction``), the
cache evicts its least recently used keys. Losing it loses only cached values,
so it has no volume and rolls like any stateless Deployment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cdk8s_plus_28 import k8s
from constructs import Construct

from .. import checkov
from ..config.types import CacheConfig, Image
from ..identity import Identity
from ..kube import label_selector, meta, service, service_account, surge_without_downtime
from ..pod import RunAs, pod_template
from .exporter import PORT_NAME as METRICS_PORT
from .exporter import Exporter
from .redis import PORT_NAME, checksum, config_map, maxmemory_mb, redis_conf, redis_container


class RedisCache(Construct):
    """Deployment, Service and ConfigMap ``redis-cache``.

    :param namespace: the environment's namespace.
    :param identity: the cache's identity; its name names the objects.
    :param cache: resources, memory share, eviction policy and port.
    :param image: the Redis image (the queue's).
    :param run_as: the image's own user (the queue's).
    :param secret: the Secret holding the password (shared with the queue Redis).
    :param exporter: a metrics sidecar. Default none.
    :param checksums: ``checksum/<what>`` pod annotations besides the config's. Default none.
    :param pull_secrets: ``imagePullSecrets`` for a private registry. Default none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        namespace: str,
        identity: Identity,
        cache: CacheConfig,
        image: Image,
        run_as: RunAs,
        secret: str,
        exporter: Exporter | None = None,
        checksums: Mapping[str, str] | None = None,
        pull_secrets: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id)
        name = identity.name
        self.name = self.service_name = name
        self.port = cache.port
        self.identity = identity
        self.resources = cache.resources
        self.metrics_port = exporter.port if exporter is not None else None
        self.maxmemory_mb = maxmemory_mb(cache.resources, cache.maxmemory_percent)
        conf = redis_conf(
            port=cache.port, maxmemory_mb=self.maxmemory_mb, policy=cache.maxmemory_policy, data_dir=None
        )
        config = config_map(self, name=f"{name}-config", namespace=namespace, identity=identity, conf=conf)
        service_account(self, name, namespace, identity)
        server = redis_container(
            name=name, image=image, port=cache.port, resources=cache.resources, secret=secret, mounts=[]
        )
        k8s.KubeDeployment(
            self,
            "Deployment",
            metadata=meta(
                name, namespace, identity, checkov.as_annotations(checkov.workload_skips(cache.resources))
            ),
            spec=k8s.DeploymentSpec(
                replicas=1,
                revision_history_limit=10,
                selector=label_selector(identity),
                strategy=surge_without_downtime(),
                template=pod_template(
                    identity=identity,
                    service_account=name,
                    run_as=run_as,
                    grace_seconds=30,
                    containers=[server, *([exporter.container] if exporter is not None else [])],
                    tmp_size="16Mi",
                    volumes=[config],
                    checksums={"config": checksum(conf), **(checksums or {})},
                    pull_secrets=pull_secrets,
                ),
            ),
        )
        metrics = {METRICS_PORT: exporter.port} if exporter is not None else {}
        service(
            self,
            "Service",
            name=name,
            namespace=namespace,
            identity=identity,
            ports={PORT_NAME: cache.port, **metrics},
        )
