"""tests/promql_support.py: Prometheus's grammar, on broken text and on every rendered query."""

from __future__ import annotations

import pytest

from tests.promql_support import PromQLError, assert_alert_condition, parse
from tests.real.harness import promtool
from tests.real.test_prometheus import dashboards, panel_exprs, rules
from tests.support import Output

pytestmark = pytest.mark.no_binaries


@pytest.mark.parametrize(
    "expr",
    [
        'sum(rate(http_requests_total{namespace="x"}[5m]) > 1',  # unbalanced paren
        'rate(http_requests_total{namespace="x"}[5m) > 1',  # unbalanced bracket
        "http_requests_total{namespace=production} > 1",  # unquoted value
        'rat(http_requests_total{namespace="x"}[5m]) > 1',  # unknown function
        'rate(http_requests_total{namespace="x"}) > 1',  # rate of an instant vector
        'histogram_quantile(http_bucket{namespace="x"}, 0.9) > 1',  # arguments swapped
        'http_requests_total{namespace=~"("} > 1',  # invalid regex
        'rate(x{namespace="x"}[$__rate_interval]) > 1',  # Grafana variable outside Grafana
    ],
)
def test_prometheus_would_refuse_it(expr: str) -> None:
    with pytest.raises(PromQLError):
        parse(expr)


def test_selectors_metrics_and_conditions() -> None:
    p = parse('sum by (q) (rate(a{namespace="n", s=~"5.."}[5m])) / sum(rate(b[5m])) > 0.1')
    assert p.metrics == {"a", "b"} and p.is_condition
    assert p.selectors[0].value_of("namespace") == "n" and ("s", "=~", "5..") in p.selectors[0].matchers
    assert parse('(a{n="1"} > 1) and b{n="1"}').is_condition
    with pytest.raises(PromQLError, match="no comparison"):
        assert_alert_condition('sum(a{n="1"}) > bool 1')  # 0 or 1 for every series: always fires
    assert parse("rate(a[$__rate_interval])", grafana=True).metrics == {"a"}


def test_every_rendered_alert_and_panel_parses(outputs: dict[str, Output]) -> None:
    for env, out in outputs.items():
        for rule in rules(out):
            for alert in promtool.alerts(rule):
                assert_alert_condition(alert["expr"])
        for where, board in dashboards(out):
            for expr in panel_exprs(board):
                assert parse(expr, grafana=True).selectors, f"{env}/{where}: {expr}"
