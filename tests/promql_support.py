"""PromQL through Prometheus's own grammar (the ``promql-parser`` package), for tests.

A hand-written checker only catches the mistakes its author thought of; this one
rejects whatever Prometheus would refuse at rule-load time (unknown functions,
argument types, bad regexes, scalar comparisons without ``bool``...) and hands
back each selector, so tests can check metric names and label scoping.

    parsed = parse('sum(rate(http_requests_total{namespace="prod"}[5m])) > 1')
    parsed.metrics                      # {"http_requests_total"}
    parsed.selectors[0].value_of("namespace")   # "prod"
    parsed.is_condition                 # True: an alert needs a comparison at the top
    assert_alert_condition(expr)        # raises PromQLError with the reason otherwise

Grafana's range variables (``$__rate_interval``...) are not PromQL: ``grafana=True``
substitutes a concrete window before parsing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import promql_parser as pp

COMPARISONS = frozenset({"==", "!=", ">", "<", ">=", "<="})
# Set operators that filter a comparison's result without changing what it means.
FILTERS = frozenset({"and", "unless"})
_GRAFANA_RANGES = re.compile(r"\$__(?:rate_interval|interval|range)|\$\{__(?:rate_interval|interval|range)\}")
_OPS = (
    (pp.MatchOp.Equal, "="),
    (pp.MatchOp.NotEqual, "!="),
    (pp.MatchOp.Re, "=~"),
    (pp.MatchOp.NotRe, "!~"),
)  # MatchOp is not hashable


class PromQLError(ValueError):
    """Prometheus would refuse this expression (or it is not an alert condition)."""


@dataclass(frozen=True)
class Selector:
    """One vector selector: ``metric{label op "value", ...}``."""

    metric: str | None
    matchers: tuple[tuple[str, str, str], ...]  # (label, op, value); op is = != =~ !~

    def value_of(self, label: str) -> str | None:
        """The value an equality matcher pins ``label`` to, if any."""
        return next((v for name, op, v in self.matchers if name == label and op == "="), None)


@dataclass
class Parsed:
    expr: pp.Expr
    selectors: list[Selector] = field(default_factory=list)

    @property
    def metrics(self) -> set[str]:
        return {s.metric for s in self.selectors if s.metric}

    @property
    def is_condition(self) -> bool:
        """A comparison at the top, possibly filtered by ``and``/``unless`` on its left, or an
        ``or`` of such conditions and ``absent()`` (the series is gone)."""
        return _condition_op(self.expr) is not None


def parse(text: str, *, grafana: bool = False) -> Parsed:
    """Parse ``text`` as Prometheus would; raise :class:`PromQLError` with its message."""
    if grafana:
        text = _GRAFANA_RANGES.sub("5m", text)
    try:
        expr = pp.parse(text)
    except ValueError as err:
        raise PromQLError(f"{err}: {text}") from None
    parsed = Parsed(expr)

    def visit(node: pp.Expr) -> None:
        if isinstance(node, pp.VectorSelector):
            name = node.name
            matchers = tuple((m.name, _op(m.op), m.value) for m in node.matchers.matchers)
            if name is None:  # {__name__="x"} names the metric through a matcher
                name = next((v for n, op, v in matchers if n == "__name__" and op == "="), None)
            parsed.selectors.append(Selector(name, tuple(m for m in matchers if m[0] != "__name__")))

    pp.walk(expr, visit)
    return parsed


def assert_alert_condition(text: str) -> Parsed:
    """An alert fires for every series its expression returns, so the expression must
    filter: a comparison (without ``bool``) at the top. Raises PromQLError otherwise."""
    parsed = parse(text)
    if not parsed.is_condition:
        raise PromQLError(f"no comparison at the top, so it would fire on every series: {text}")
    return parsed


def _op(op: pp.MatchOp) -> str:
    return next(text for known, text in _OPS if known == op)


def _unparen(node: pp.Expr) -> pp.Expr:
    while isinstance(node, pp.ParenExpr):
        node = node.expr
    return node


def _condition_op(node: pp.Expr) -> str | None:
    node = _unparen(node)
    if not isinstance(node, pp.BinaryExpr):
        return None
    op = str(node.op)
    if op in COMPARISONS:
        returns_bool = node.modifier is not None and node.modifier.return_bool
        return None if returns_bool else op
    if op in FILTERS:
        return _condition_op(node.lhs)
    if op == "or":  # either side must filter on its own; absent() returns a series only when it is missing
        sides = [_condition_op(side) or _absent(side) for side in (node.lhs, node.rhs)]
        return op if all(sides) else None
    return None


def _absent(node: pp.Expr) -> str | None:
    node = _unparen(node)
    is_absent = isinstance(node, pp.Call) and node.func.name in ("absent", "absent_over_time")
    return "absent" if is_absent else None
