"""Every alert group an environment needs, assembled from the app's and the stores' rules."""

from __future__ import annotations

from .alert_rules import AlertGroup, pod_alerts, web_alerts
from .store_alerts import queue_alerts, store_alerts
from .subject import Observed


def alert_groups(obs: Observed) -> tuple[AlertGroup, ...]:
    """A store's group only where the environment runs and scrapes that store."""
    groups = [web_alerts(obs), queue_alerts(obs), pod_alerts(obs), *store_alerts(obs)]
    return tuple(g for g in groups if g.alerts)
