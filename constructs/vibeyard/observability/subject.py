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
    """

    name: str
    namespace: str
    monitoring: MonitoringConfig
    queue_owners: tuple[tuple[str, str], ...]
    volumes: tuple[str, ...]

    @staticmethod
    def of(topology: Topology, monitoring: MonitoringConfig) -> Observed:
        return Observed(
            name=topology.env,
            namespace=topology.namespace,
            monitoring=monitoring,
            queue_owners=tuple(
                (q, identity.worker_name(p.pool.name)) for p in topology.pools for q in p.pool.queues
            ),
            volumes=tuple(s.name for s in (topology.postgres, topology.redis) if s is not None),
        )
