"""The cache Redis: a Deployment with an LRU policy and no persistence.

It is separate from the queue Redis so that cache keys can never fill the memory
BullMQ's jobs need: the queue refuses writes when full (``noeviction``), the
cache evicts its least recently used keys. Losing it loses only cached values,
so it has no volume and rolls like any stateless Deployment.
"""

from __future__ import annotations

from typing import Literal

from constructs import Construct

from .. import checkov
from .. import identity as ids
from ..config import secret_keys as keys
from ..config.types import CacheConfig, Exporters, Image
from ..kube import Site, deployment, memory_dir, service, service_account
from ..pod import RunAs, pod_template
from . import exporter
from .redis import PORT_NAME, auth_writer, config_map, maxmemory_mb, redis_conf, redis_container


class RedisCache(Construct):
    """Deployment, Service and ConfigMap ``redis-cache``.

    :param site: the environment's namespace, instance and pull secrets.
    :param cache: resources, memory share, eviction policy and port.
    :param image: the Redis image (the queue's).
    :param run_as: the image's own user (the queue's).
    :param secret: the Secret holding its own password (``redis-cache-password``).
    :param exporters: the exporter sidecar's image and resources; None: not scraped. Default none.
    """

    kind: Literal["Deployment"] = "Deployment"

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        site: Site,
        cache: CacheConfig,
        image: Image,
        run_as: RunAs,
        secret: str,
        exporters: Exporters | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.identity = identity = ids.of(ids.CACHE, site.instance, image.tag)
        self.name = name = identity.name
        self.port = cache.port
        self.metrics = exporter.metrics(exporter.REDIS_PORT) if exporters else None
        self.maxmemory_mb = maxmemory_mb(cache.resources, cache.maxmemory_percent)
        ns = site.namespace
        conf = redis_conf(
            port=cache.port, maxmemory_mb=self.maxmemory_mb, policy=cache.maxmemory_policy, data_dir=None
        )
        config = config_map(self, name=f"{name}-config", namespace=ns, identity=identity, conf=conf)
        service_account(self, name, ns, identity)
        key = keys.REDIS_CACHE_PASSWORD
        server = redis_container(
            name=name,
            image=image,
            port=cache.port,
            resources=cache.resources,
            secret=secret,
            password_key=key,
            mounts=[],
        )
        auth = auth_writer(image=image, resources=cache.resources, secret=secret, password_key=key)
        sidecars = exporter.redis_exporter(exporters, redis_port=cache.port, secret=secret, password_key=key)
        template = pod_template(
            identity=identity,
            site=site,
            run_as=run_as,
            termination_grace_period_seconds=30,
            init_containers=[auth],
            containers=[server, *sidecars],
            tmp_size="16Mi",
            volumes=[config, memory_dir("auth", "1Mi")],
        )
        skips = checkov.as_annotations(checkov.workload_skips(cache.resources))
        deployment(self, namespace=ns, identity=identity, replicas=1, template=template, annotations=skips)
        metrics = {self.metrics.port_name: self.metrics.port} if self.metrics else {}
        service(
            self,
            "Service",
            name=name,
            namespace=ns,
            identity=identity,
            ports={PORT_NAME: cache.port, **metrics},
        )
