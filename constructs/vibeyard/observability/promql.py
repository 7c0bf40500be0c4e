"""The few PromQL building blocks the alerts and dashboards share.

Expressions are assembled from these rather than written as f-strings by hand, so
every series selector is quoted and escaped the same way and every one carries
the environment's namespace matcher: several environments may report to one
Prometheus, and an unscoped selector would mix production with staging.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MatchOp = Literal["=", "!=", "=~", "!~"]


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class Matcher:
    label: str
    value: str
    op: MatchOp = "="

    def __str__(self) -> str:
        return f"{self.label}{self.op}{_quote(self.value)}"


def eq(label: str, value: str) -> Matcher:
    return Matcher(label, value, "=")


def regex(label: str, pattern: str) -> Matcher:
    return Matcher(label, pattern, "=~")


def ne(label: str, value: str) -> Matcher:
    return Matcher(label, value, "!=")


@dataclass(frozen=True)
class Scope:
    """Series selectors pinned to one namespace (and optionally one scrape job).

    ``job`` is the Prometheus job label, which the Prometheus Operator sets to the
    scraped Service's name; it keeps the web tier's HTTP series apart from any
    other process in the namespace that happens to export the same names.
    """

    namespace: str
    job: str | None = None

    def series(self, metric: str, *matchers: Matcher) -> str:
        scoped = [eq("namespace", self.namespace)]
        if self.job is not None:
            scoped.append(eq("job", self.job))
        return f"{metric}{{{', '.join(str(m) for m in (*scoped, *matchers))}}}"

    def rate(self, metric: str, window: str, *matchers: Matcher) -> str:
        return f"rate({self.series(metric, *matchers)}[{window}])"

    def with_job(self, job: str) -> Scope:
        return Scope(self.namespace, job)


def aggregate(op: str, expr: str, labels: tuple[str, ...] = ()) -> str:
    grouping = f" by ({', '.join(labels)}) " if labels else ""
    return f"{op}{grouping}({expr})"


def sum_rate(scope: Scope, metric: str, window: str, *matchers: Matcher, labels: tuple[str, ...] = ()) -> str:
    return aggregate("sum", scope.rate(metric, window, *matchers), labels)


def error_ratio(scope: Scope, requests: str, status_label: str, window: str) -> str:
    """5xx responses as a fraction of all responses over ``window``.

    With no traffic the ratio is 0/0, NaN in Prometheus, and NaN compares false,
    so an idle environment never alerts.
    """
    errors = sum_rate(scope, requests, window, regex(status_label, "5.."))
    total = sum_rate(scope, requests, window)
    return f"{errors} / {total}"


def quantile(scope: Scope, bucket: str, q: float, window: str) -> str:
    return f"histogram_quantile({q}, {sum_rate(scope, bucket, window, labels=('le',))})"


def hit_ratio(scope: Scope, hits: str, misses: str, window: str) -> str:
    hit = sum_rate(scope, hits, window)
    miss = sum_rate(scope, misses, window)
    return f"{hit} / ({hit} + {miss})"
