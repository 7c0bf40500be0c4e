"""What alerts and dashboards need to know about one environment, and nothing more.

The rule and dashboard builders are plain Python (testable without jsii) and
read only this: which namespace to scope every series to, the metric names
and thresholds, which queue each Deployment consumes, and which stores keep a
volume the environment itself must watch. The chart fills it from the topology.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import identity
from ..config.topology import Topology
from ..config.types import MonitoringConfig


@dataclass(frozen=True)
class Observed:
    """
    :param name: the environment's short name, shown in alert summaries.
    :param namespace: every series selector is scoped to it.
    :param monitoring: metric names, thresholds and scrape settings.
    :param queue_owners: ``(queue, deployment)`` for every queue a worker pool consumes.
    :param volumes: the stores whose data volume runs in this environment (``postgres``, ``redis``).
    :param exporters: the stores scraped through an exporter sidecar, each the job (Service) name
        its series carry (``redis``, ``redis-cache``, ``postgres``, ``pgbouncer``).
    :param redis_memory_ratio: the queue Redis's share of ``maxmemory`` that alerts.
    """

    name: str
    namespace: str
    monitoring: MonitoringConfig
    queue_owners: tuple[tuple[str, str], ...]
    volumes: tuple[str, ...]
    exporters: tuple[str, ...] = ()
    redis_memory_ratio: float = 0.8

    @staticmethod
    def of(topology: Topology, monitoring: MonitoringConfig, redis_memory_ratio: float = 0.8) -> Observed:
        stores = (topology.redis, topology.cache, topology.postgres, topology.pgbouncer)
        return Observed(
            name=topology.env,
            namespace=topology.namespace,
            monitoring=monitoring,
            queue_owners=tuple(
                (q, identity.worker_name(p.pool.name)) for p in topology.pools for q in p.pool.queues
            ),
            volumes=tuple(s.name for s in (topology.postgres, topology.redis) if s is not None),
            exporters=tuple(s.name for s in stores if s is not None) if topology.exporters else (),
            redis_memory_ratio=redis_memory_ratio,
        )
