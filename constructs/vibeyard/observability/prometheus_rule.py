"""A typed ``monitoring.coreos.com/v1`` PrometheusRule from ``alert_rules``.

The alerts themselves are plain data in ``alert_rules.py``; this construct only
maps them onto the CRD, so the rules can be tested without jsii. Like the
ServiceMonitors it carries the ``release`` label kube-prometheus-stack's default
``ruleSelector`` matches.
"""

from __future__ import annotations

from collections.abc import Sequence

import cdk8s
from constructs import Construct

from imports.prometheusrules.com.coreos import monitoring

from ..identity import Identity
from .alert_rules import AlertGroup
from .service_monitor import RELEASE_LABEL


def _group(group: AlertGroup, namespace: str) -> monitoring.PrometheusRuleSpecGroups:
    return monitoring.PrometheusRuleSpecGroups(
        name=group.name,
        rules=[
            monitoring.PrometheusRuleSpecGroupsRules(
                alert=alert.name,
                expr=monitoring.PrometheusRuleSpecGroupsRulesExpr.from_string(alert.expr),
                for_=alert.for_,
                labels=alert.labels(namespace),
                annotations=alert.annotations(),
            )
            for alert in group.alerts
        ],
    )


class PrometheusAlerts(monitoring.PrometheusRule):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        namespace: str,
        identity: Identity,
        groups: Sequence[AlertGroup],
        release: str,
    ) -> None:
        super().__init__(
            scope,
            id,
            metadata=cdk8s.ApiObjectMetadata(
                name=name,
                namespace=namespace,
                labels={**identity.labels, RELEASE_LABEL: release},
            ),
            spec=monitoring.PrometheusRuleSpec(groups=[_group(g, namespace) for g in groups]),
        )
