"""Observability: ServiceMonitors, the PrometheusRule and the Grafana dashboards.

``Monitoring`` is synthesized here in its own small App (one per module, so jsii
starts once), from the committed prod and staging configs plus a variant whose
worker pools expose metrics; the chart-level tests additionally compare against
the full chart once ``chart.py`` wires the construct in.

Every PromQL expression, in alerts and dashboards, goes through a small
structural parser below: balanced brackets, well-formed label matchers, known
functions with the right argument types (``rate`` of a range vector, …), and a
comparison at the top of every alert. It is not Prometheus's parser, but it
catches the typo class that would otherwise only surface as a rule-load error
in the cluster, and it extracts each selector so the tests can check metric
names and namespace scoping.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, replace
from typing import Any

import cdk8s
import pytest

from vibeyard import identity
from vibeyard.chart import VibeyardChart
from vibeyard.config import EnvConfig, Topology, validate
from vibeyard.config.types import MetricNames
from vibeyard.identity import instance_for
from vibeyard.observability import alert_rules, alerts, dashboards
from vibeyard.observability.service_monitor import scrape_timeout
from vibeyard.observability.subject import Observed


def observed(cfg: EnvConfig) -> Observed:
    return Observed.of(Topology.of(cfg), cfg.monitoring)


Manifest = dict[str, Any]
MONITORED = ("prod", "staging")
WORKER_METRICS = "prod-worker-metrics"
SEVERITIES = {"warning", "critical"}
DURATION = re.compile(r"^([0-9]+)(ms|s|m|h)$")
# Metrics real software emits besides the app's own (the real scrapes in tests/real/ prove them).
SOFTWARE_METRICS = {
    "bullmq_job_count",
    "redis_up",
    "redis_memory_used_bytes",
    "redis_memory_max_bytes",
    "redis_keyspace_hits_total",
    "redis_keyspace_misses_total",
    "redis_evicted_keys_total",
    "pg_up",
    "pg_stat_database_numbackends",
    "pg_settings_max_connections",
    "pgbouncer_up",
    "pgbouncer_pools_client_active_connections",
    "pgbouncer_pools_client_waiting_connections",
    "pgbouncer_pools_server_idle_connections",
    "pgbouncer_pools_client_maxwait_seconds",
}
KUBE_METRICS = {
    "kube_pod_container_status_restarts_total",
    "kube_pod_container_status_waiting_reason",
    "kube_horizontalpodautoscaler_status_current_replicas",
    "kube_horizontalpodautoscaler_spec_max_replicas",
    "kube_horizontalpodautoscaler_spec_min_replicas",
    "kubelet_volume_stats_available_bytes",
    "kubelet_volume_stats_capacity_bytes",
}
REQUIRED_PANELS = {
    "http": {"Request rate", "Error rate (5xx)", "Latency (p50 / p95 / p99)"},
    "queues": {"Waiting jobs per queue", "Jobs per queue and state", "Failed jobs per queue"},
    "database": {"Connection pool (active / idle / waiting)"},
    "cache": {"Redis cache hit rate", "Cache memory and evictions"},
}


# --- a structural PromQL checker ---------------------------------------------------------------


class PromQLError(ValueError):
    pass


_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
    |(?P<duration>(?:[0-9]+(?:ms|[smhdwy]))+(?![A-Za-z0-9_])|\$__rate_interval|\$__interval)
    |(?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)
    |(?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    |(?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
    |(?P<op>==|!=|=~|!~|>=|<=|[-+*/%^<>=(){}\[\],:])
    """,
    re.VERBOSE,
)
_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
COMPARISONS = {"==", "!=", ">", "<", ">=", "<="}
SET_OPS = {"and", "or", "unless"}
_PRECEDENCE = {"or": 1, "and": 2, "unless": 2, **dict.fromkeys(COMPARISONS, 3)}
_PRECEDENCE |= {"+": 4, "-": 4, "*": 5, "/": 5, "%": 5, "atan2": 5, "^": 6}
AGGREGATIONS = {"sum", "min", "max", "avg", "count", "stddev", "stdvar", "group"}
PARAM_AGGREGATIONS = {"topk", "bottomk", "quantile", "count_values"}
_RANGE_FUNCS = (
    *("rate", "irate", "increase", "delta", "idelta", "deriv", "changes", "resets"),
    *("max_over_time", "min_over_time", "avg_over_time", "sum_over_time", "count_over_time"),
    *("last_over_time", "quantile_over_time", "absent_over_time"),
)
_ELEMENTWISE = ("abs", "ceil", "floor", "sqrt", "exp", "ln", "log2", "log10", "absent")
FUNCTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    **{name: (("matrix",), "vector") for name in _RANGE_FUNCS},
    **{name: (("vector",), "vector") for name in _ELEMENTWISE},
    "histogram_quantile": (("scalar", "vector"), "vector"),
    "clamp_min": (("vector", "scalar"), "vector"),
    "clamp_max": (("vector", "scalar"), "vector"),
    "clamp": (("vector", "scalar", "scalar"), "vector"),
    "vector": (("scalar",), "vector"),
    "scalar": (("vector",), "scalar"),
    "time": ((), "scalar"),
    "label_replace": (("vector", "string", "string", "string", "string"), "vector"),
}
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", *SET_OPS}


@dataclass(frozen=True)
class Selector:
    metric: str | None
    matchers: tuple[tuple[str, str, str], ...]

    def value_of(self, label: str) -> str | None:
        return next((v for name, op, v in self.matchers if name == label and op == "="), None)


@dataclass(frozen=True)
class Node:
    type: str  # scalar | vector | matrix | string
    op: str | None = None  # the outermost binary operator
    left_op: str | None = None


@dataclass
class Parsed:
    root: Node
    selectors: list[Selector] = field(default_factory=list)

    @property
    def metrics(self) -> set[str]:
        return {s.metric for s in self.selectors if s.metric}

    @property
    def is_condition(self) -> bool:
        """A comparison at the top (or a comparison filtered by ``and``/``unless``)."""
        if self.root.op in COMPARISONS:
            return True
        return self.root.op in ("and", "unless") and self.root.left_op in COMPARISONS


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise PromQLError(f"unexpected character {text[pos]!r} at {pos}")
        kind = match.lastgroup
        assert kind is not None
        if kind != "ws":
            tokens.append((kind, match.group()))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str, grafana: bool) -> None:
        self.tokens = tokenize(text)
        self.pos = 0
        self.grafana = grafana
        self.selectors: list[Selector] = []

    def peek(self, offset: int = 0) -> tuple[str, str]:
        i = self.pos + offset
        return self.tokens[i] if i < len(self.tokens) else ("end", "")

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token[0] == "end":
            raise PromQLError("unexpected end of expression")
        self.pos += 1
        return token

    def expect(self, value: str) -> None:
        kind, got = self.take()
        if got != value or kind == "string":
            raise PromQLError(f"expected {value!r}, got {got!r}")

    def at(self, *values: str) -> bool:
        kind, value = self.peek()
        return kind in ("op", "ident") and value in values

    def parse(self) -> Node:
        node = self.expr(0)
        if self.peek()[0] != "end":
            raise PromQLError(f"unexpected {self.peek()[1]!r} after a complete expression")
        return node

    def expr(self, min_prec: int) -> Node:
        left = self.unary()
        while True:
            kind, op = self.peek()
            prec = _PRECEDENCE.get(op) if kind in ("op", "ident") else None
            if prec is None or prec < min_prec:
                return left
            self.take()
            if op in COMPARISONS and self.at("bool"):
                self.take()
            if self.at("on", "ignoring"):
                self.take()
                self.labels()
                if self.at("group_left", "group_right"):
                    self.take()
                    if self.at("("):
                        self.labels()
            right = self.expr(prec if op == "^" else prec + 1)
            for side in (left, right):
                if side.type not in ("scalar", "vector"):
                    raise PromQLError(f"a {side.type} cannot be an operand of {op!r}")
            if op in SET_OPS and "scalar" in (left.type, right.type):
                raise PromQLError(f"{op!r} needs instant vectors on both sides")
            both_scalar = left.type == right.type == "scalar"
            left = Node("scalar" if both_scalar else "vector", op, left.op)

    def unary(self) -> Node:
        if self.at("-", "+"):
            self.take()
            node = self.unary()
            if node.type not in ("scalar", "vector"):
                raise PromQLError("unary minus needs a number or an instant vector")
            return Node(node.type)
        return self.postfix(self.primary())

    def postfix(self, node: Node) -> Node:
        if self.at("["):
            if node.type != "vector":
                raise PromQLError("a range needs an instant vector selector before '['")
            self.take()
            self.duration()
            if self.at(":"):
                self.take()
                if not self.at("]"):
                    self.duration()
            self.expect("]")
            node = Node("matrix")
        if self.at("offset"):
            self.take()
            self.duration()
        return node

    def duration(self) -> None:
        kind, value = self.take()
        if kind != "duration" or (value.startswith("$") and not self.grafana):
            raise PromQLError(f"expected a duration, got {value!r}")

    def primary(self) -> Node:
        kind, value = self.peek()
        if kind in ("number", "string"):
            self.take()
            return Node("scalar" if kind == "number" else "string")
        if value == "(" and kind == "op":
            self.take()
            inner = self.expr(0)
            self.expect(")")
            return inner
        if value == "{" and kind == "op":
            return self.selector(None)
        if kind != "ident":
            raise PromQLError(f"unexpected {value!r}")
        if value in AGGREGATIONS or value in PARAM_AGGREGATIONS:
            return self.aggregation()
        if self.peek(1) == ("op", "("):
            return self.call()
        if value in KEYWORDS:
            raise PromQLError(f"unexpected keyword {value!r}")
        self.take()
        return self.selector(value)

    def call(self) -> Node:
        name = self.take()[1]
        if name not in FUNCTIONS:
            raise PromQLError(f"unknown function {name!r}")
        params, result = FUNCTIONS[name]
        self.expect("(")
        args: list[Node] = []
        while not self.at(")"):
            args.append(self.expr(0))
            if not self.at(")"):
                self.expect(",")
        self.take()
        got = tuple(a.type for a in args)
        if got != params:
            raise PromQLError(f"{name}() takes ({', '.join(params)}), got ({', '.join(got)})")
        return Node(result)

    def aggregation(self) -> Node:
        name = self.take()[1]
        grouped = False
        if self.at("by", "without"):
            self.take()
            self.labels()
            grouped = True
        self.expect("(")
        if name in PARAM_AGGREGATIONS:
            self.expr(0)
            self.expect(",")
        arg = self.expr(0)
        self.expect(")")
        if arg.type != "vector":
            raise PromQLError(f"{name} aggregates an instant vector, got a {arg.type}")
        if self.at("by", "without"):
            if grouped:
                raise PromQLError(f"{name} has two grouping clauses")
            self.take()
            self.labels()
        return Node("vector")

    def labels(self) -> list[str]:
        self.expect("(")
        names = []
        while not self.at(")"):
            kind, name = self.take()
            if kind != "ident" or not _LABEL.match(name):
                raise PromQLError(f"invalid label name {name!r}")
            names.append(name)
            if not self.at(")"):
                self.expect(",")
        self.take()
        return names

    def selector(self, metric: str | None) -> Node:
        matchers: list[tuple[str, str, str]] = []
        if self.at("{"):
            self.take()
            while not self.at("}"):
                matchers.append(self.matcher())
                if not self.at("}"):
                    self.expect(",")
            self.take()
        if metric is None and not any(v for _, _, v in matchers):
            raise PromQLError("a selector without a metric name needs a non-empty matcher")
        self.selectors.append(Selector(metric, tuple(matchers)))
        return Node("vector")

    def matcher(self) -> tuple[str, str, str]:
        kind, name = self.take()
        if kind != "ident" or not _LABEL.match(name):
            raise PromQLError(f"invalid label name {name!r} in a matcher")
        kind, op = self.take()
        if kind != "op" or op not in ("=", "!=", "=~", "!~"):
            raise PromQLError(f"invalid matcher operator {op!r} after {name!r}")
        kind, raw = self.take()
        if kind != "string":
            raise PromQLError(f"matcher {name}{op} needs a quoted value, got {raw!r}")
        value = json.loads(raw) if raw.startswith('"') else raw[1:-1]
        if op in ("=~", "!~"):
            try:
                re.compile(value)
            except re.error as err:
                raise PromQLError(f"invalid regex {value!r}: {err}") from err
        return name, op, value


def parse(text: str, *, grafana: bool = False) -> Parsed:
    parser = _Parser(text, grafana)
    root = parser.parse()
    return Parsed(root, parser.selectors)


# --- fixtures ----------------------------------------------------------------------------------


def _with_worker_metrics(cfg: EnvConfig) -> EnvConfig:
    pools = tuple(replace(p, metrics_port=9464 + i) for i, p in enumerate(cfg.workers))
    variant = replace(cfg, workers=pools)
    validate(variant)
    return variant


@pytest.fixture(scope="module")
def cfgs(configs: dict[str, EnvConfig]) -> dict[str, EnvConfig]:
    chosen = {name: configs[name] for name in MONITORED}
    chosen[WORKER_METRICS] = _with_worker_metrics(configs["prod"])
    return chosen


@pytest.fixture(scope="module")
def app() -> cdk8s.App:
    return cdk8s.App()


@pytest.fixture(scope="module")
def rendered(app: cdk8s.App, cfgs: dict[str, EnvConfig]) -> dict[str, list[Manifest]]:
    charts = {name: VibeyardChart(app, name, cfg=cfg, sealed_data={"x": "AgX"}) for name, cfg in cfgs.items()}
    return {name: chart.manifests() for name, chart in charts.items()}


def objects(rendered: dict[str, list[Manifest]], env: str, kind: str) -> list[Manifest]:
    return [o for o in rendered[env] if o["kind"] == kind]


def one(rendered: dict[str, list[Manifest]], env: str, kind: str, name: str) -> Manifest:
    found = [o for o in objects(rendered, env, kind) if o["metadata"]["name"] == name]
    assert len(found) == 1, f"{env}: expected one {kind}/{name}"
    return found[0]


def seconds(duration: str) -> float:
    match = DURATION.match(duration)
    assert match, duration
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[match.group(2)]
    return int(match.group(1)) * scale


def configured_metrics(m: MetricNames) -> set[str]:
    return {getattr(m, f.name) for f in fields(m) if f.name != "status_label"}


def rules(rule: Manifest) -> Iterator[Manifest]:
    for group in rule["spec"]["groups"]:
        yield from group["rules"]


# --- the checker itself ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expr",
    [
        'sum(rate(http_requests_total{namespace="x"}[5m]) > 1',  # unbalanced paren
        'rate(http_requests_total{namespace="x"}[5m) > 1',  # unbalanced bracket
        'http_requests_total{namespace="x" > 1',  # unbalanced brace
        "http_requests_total{namespace=production} > 1",  # unquoted value
        'http_requests_total{namespace~"x"} > 1',  # bad operator
        'http_requests_total{"x"} > 1',  # no label name
        'rat(http_requests_total{namespace="x"}[5m]) > 1',  # unknown function
        'rate(http_requests_total{namespace="x"}) > 1',  # rate of an instant vector
        'histogram_quantile(http_bucket{namespace="x"}, 0.9) > 1',  # arguments swapped
        'http_requests_total{namespace=~"("} > 1',  # invalid regex
        'http_requests_total{namespace="x"} >',  # dangling operator
        "{} > 1",  # empty selector
        'sum by (le (rate(x{namespace="x"}[5m])) > 1',  # broken grouping
        'rate(x{namespace="x"}[$__rate_interval]) > 1',  # Grafana variable outside Grafana
        'x{namespace="unterminated} > 1',  # unterminated string
    ],
)
def test_checker_rejects_broken_expressions(expr: str) -> None:
    with pytest.raises(PromQLError):
        parse(expr)


def test_checker_rejects_our_own_alerts_with_one_closing_bracket_dropped(cfgs: dict[str, EnvConfig]) -> None:
    for group in alerts.alert_groups(observed(cfgs["staging"])):
        for alert in group.alerts:
            cut = max(alert.expr.rfind(c) for c in ")]}")
            with pytest.raises(PromQLError):
                parse(alert.expr[:cut] + alert.expr[cut + 1 :])


def test_checker_accepts_real_promql_and_finds_the_top_level_comparison() -> None:
    ok = parse(
        'sum by (queue) (rate(a{namespace="n", q=~"5.."}[5m])) / on (queue) group_left '
        "clamp_min(sum by (queue) (rate(b[5m] offset 1h)), 1e-9) > bool 0.5"
    )
    assert ok.is_condition and ok.metrics == {"a", "b"}
    assert not parse('sum(rate(a{namespace="n"}[5m]))').is_condition
    assert parse('(a{n="1"} > 1) and (b{n="1"} < 2)').is_condition
    assert parse('rate(a{n="1"}[$__rate_interval])', grafana=True).root.type == "vector"


def test_scrape_timeout_is_shorter_than_the_interval() -> None:
    assert scrape_timeout("30s") == "10s"
    assert scrape_timeout("9s") == "6s"
    assert scrape_timeout("1s") == "666ms"
    assert scrape_timeout("2m") == "10s"
    with pytest.raises(ValueError):
        scrape_timeout("30")


# --- ServiceMonitors ---------------------------------------------------------------------------


@pytest.mark.parametrize("env", MONITORED)
def test_web_service_monitor(
    env: str, cfgs: dict[str, EnvConfig], rendered: dict[str, list[Manifest]]
) -> None:
    cfg = cfgs[env]
    sm = one(rendered, env, "ServiceMonitor", "vibeyard")
    web = identity.of(identity.WEB, instance_for(cfg.namespace))
    assert sm["apiVersion"] == "monitoring.coreos.com/v1"
    assert sm["metadata"]["namespace"] == cfg.namespace
    assert sm["metadata"]["labels"]["release"] == cfg.monitoring.prometheus_release
    assert sm["spec"]["selector"] == {"matchLabels": web.selector}
    assert sm["spec"]["namespaceSelector"] == {"matchNames": [cfg.namespace]}
    (endpoint,) = sm["spec"]["endpoints"]
    assert endpoint["port"] == "http"
    assert endpoint["path"] == cfg.web.metrics_path == "/api/metrics"
    assert endpoint["interval"] == cfg.monitoring.scrape_interval
    assert seconds(endpoint["scrapeTimeout"]) < seconds(endpoint["interval"])
    topo = Topology.of(cfg)
    stores = [s.name for s in (topo.postgres, topo.pgbouncer, topo.redis, topo.cache) if s is not None]
    pools = [f"vibeyard-worker-{p.name}" for p in cfg.workers if p.metrics_port is not None]
    scraped = {o["metadata"]["name"] for o in objects(rendered, env, "ServiceMonitor")}
    assert scraped == {"vibeyard", *pools, *stores}, "every workload and store that exports metrics"


def test_service_monitor_matches_the_charts_web_service(
    outputs: dict[str, Any], rendered: dict[str, list[Manifest]]
) -> None:
    """Against the real Service: its labels satisfy the selector and it has the named port."""
    for env in MONITORED:
        service = outputs[env].get("Service", "vibeyard")
        sm = one(rendered, env, "ServiceMonitor", "vibeyard")
        wanted = sm["spec"]["selector"]["matchLabels"]
        assert wanted.items() <= service["metadata"]["labels"].items()
        assert sm["spec"]["endpoints"][0]["port"] in {p["name"] for p in service["spec"]["ports"]}


def test_worker_pools_with_metrics_get_their_own_service_monitor(
    cfgs: dict[str, EnvConfig], rendered: dict[str, list[Manifest]]
) -> None:
    cfg = cfgs[WORKER_METRICS]
    for pool in cfg.workers:
        sm = one(rendered, WORKER_METRICS, "ServiceMonitor", f"vibeyard-worker-{pool.name}")
        worker = identity.worker(pool.name, instance_for(cfg.namespace))
        assert sm["spec"]["selector"] == {"matchLabels": worker.selector}
        assert sm["metadata"]["labels"]["release"] == cfg.monitoring.prometheus_release
        (endpoint,) = sm["spec"]["endpoints"]
        assert (endpoint["port"], endpoint["path"]) == ("metrics", "/metrics")
        assert endpoint["interval"] == cfg.monitoring.scrape_interval
    workers = [
        o for o in objects(rendered, WORKER_METRICS, "ServiceMonitor") if "worker" in o["metadata"]["name"]
    ]
    assert len(workers) == len(cfg.workers)


# --- alerts ------------------------------------------------------------------------------------


@pytest.mark.parametrize("env", MONITORED)
def test_every_alert_is_complete(
    env: str, cfgs: dict[str, EnvConfig], rendered: dict[str, list[Manifest]]
) -> None:
    cfg = cfgs[env]
    rule = one(rendered, env, "PrometheusRule", "vibeyard")
    assert rule["metadata"]["labels"]["release"] == cfg.monitoring.prometheus_release
    alerts = list(rules(rule))
    assert alerts
    for alert in alerts:
        where = f"{env}/{alert['alert']}"
        assert alert["labels"]["severity"] in SEVERITIES, where
        assert alert["labels"]["namespace"] == cfg.namespace, where
        assert DURATION.match(alert["for"]), where
        for key in ("summary", "description", "runbook"):
            assert alert["annotations"][key].strip(), f"{where}: no {key}"
        assert f"kubectl -n {cfg.namespace} " in alert["annotations"]["runbook"], where


@pytest.mark.parametrize("env", MONITORED)
def test_every_alert_expression_parses_and_is_scoped(
    env: str, cfgs: dict[str, EnvConfig], rendered: dict[str, list[Manifest]]
) -> None:
    cfg = cfgs[env]
    allowed = configured_metrics(cfg.monitoring.metrics) | KUBE_METRICS | SOFTWARE_METRICS
    used: set[str] = set()
    for alert in rules(one(rendered, env, "PrometheusRule", "vibeyard")):
        parsed = parse(alert["expr"])
        where = f"{env}/{alert['alert']}: {alert['expr']}"
        assert parsed.is_condition, f"{where}: no comparison at the top"
        assert parsed.metrics <= allowed, where
        for selector in parsed.selectors:
            assert selector.value_of("namespace") == cfg.namespace, f"{where}: unscoped {selector}"
        used |= parsed.metrics
    m = cfg.monitoring.metrics
    alerted = {m.http_requests_total, m.http_duration_bucket, "bullmq_job_count", "redis_memory_used_bytes"}
    assert alerted <= used


def test_the_expected_alerts_exist(cfgs: dict[str, EnvConfig], rendered: dict[str, list[Manifest]]) -> None:
    def names(env: str) -> dict[str, Manifest]:
        return {a["alert"]: a for a in rules(one(rendered, env, "PrometheusRule", "vibeyard"))}

    common = {
        "VibeyardHighErrorRate",
        "VibeyardHighLatencyP95",
        "VibeyardQueueBacklog",
        "VibeyardJobFailures",
        "VibeyardPodRestarting",
        "VibeyardPodCrashLooping",
        "VibeyardAutoscalerAtMax",
    }
    redis = {
        "VibeyardRedisVolumeAlmostFull",
        "VibeyardRedisVolumeFull",
        "VibeyardQueueRedisDown",
        "VibeyardQueueRedisMemoryHigh",
    }
    postgres = {
        "VibeyardPostgresVolumeAlmostFull",
        "VibeyardPostgresVolumeFull",
        "VibeyardPostgresDown",
        "VibeyardPostgresConnectionsHigh",
    }
    pgbouncer = {"VibeyardPgBouncerDown", "VibeyardPgBouncerClientsWaiting"}
    # prod runs a managed postgres: no volume or server of ours to watch.
    assert set(names("prod")) == common | redis | pgbouncer
    assert set(names("staging")) == common | redis | postgres | pgbouncer
    staging = names("staging")
    assert staging["VibeyardAutoscalerAtMax"]["for"] == "15m"
    assert "CrashLoopBackOff" in staging["VibeyardPodCrashLooping"]["expr"]
    assert "-postgres-" in staging["VibeyardPostgresVolumeFull"]["expr"]
    mon = cfgs["staging"].monitoring
    assert staging["VibeyardHighErrorRate"]["expr"].endswith(f"> {mon.error_rate_threshold}")
    assert staging["VibeyardHighLatencyP95"]["expr"].endswith(f"> {mon.latency_p95_seconds}")
    assert staging["VibeyardQueueBacklog"]["expr"].endswith(f"> {mon.queue_depth_threshold}")
    assert "rollout undo deployment/vibeyard" in staging["VibeyardHighErrorRate"]["annotations"]["runbook"]


# --- dashboards --------------------------------------------------------------------------------


def dashboard_maps(rendered: dict[str, list[Manifest]], env: str) -> dict[str, Manifest]:
    return {
        o["metadata"]["name"]: o
        for o in objects(rendered, env, "ConfigMap")
        if o["metadata"]["labels"].get("grafana_dashboard") == "1"
    }


def targets(dashboard: Manifest) -> Iterator[tuple[str, str]]:
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            yield panel["title"], target["expr"]


@pytest.mark.parametrize("env", MONITORED)
def test_dashboards_load_and_have_the_design_docs_panels(
    env: str, cfgs: dict[str, EnvConfig], rendered: dict[str, list[Manifest]]
) -> None:
    cfg = cfgs[env]
    maps = dashboard_maps(rendered, env)
    assert set(maps) == {f"vibeyard-dashboard-{slug}" for slug in REQUIRED_PANELS}
    platform = identity.of(identity.PLATFORM, instance_for(cfg.namespace))
    for slug, titles in REQUIRED_PANELS.items():
        config_map = maps[f"vibeyard-dashboard-{slug}"]
        assert config_map["metadata"]["namespace"] == cfg.namespace
        assert platform.labels.items() <= config_map["metadata"]["labels"].items()
        (key,) = config_map["data"]
        assert key == f"{slug}.json"
        text = config_map["data"][key]
        assert len(text.encode()) < 256 * 1024
        board = json.loads(text)
        assert text == json.dumps(board, indent=2, sort_keys=True) + "\n"
        assert board["uid"] == f"vibeyard-{cfg.name}-{slug}"
        assert titles <= {p["title"] for p in board["panels"]}, slug
        assert [p["id"] for p in board["panels"]] == list(range(1, len(board["panels"]) + 1))


@pytest.mark.parametrize("env", MONITORED)
def test_every_panel_query_uses_configured_metrics_and_the_namespace(
    env: str, cfgs: dict[str, EnvConfig], rendered: dict[str, list[Manifest]]
) -> None:
    cfg = cfgs[env]
    allowed = configured_metrics(cfg.monitoring.metrics) | SOFTWARE_METRICS
    used: set[str] = set()
    for config_map in dashboard_maps(rendered, env).values():
        board = json.loads(next(iter(config_map["data"].values())))
        for title, expr in targets(board):
            parsed = parse(expr, grafana=True)
            where = f"{env}/{board['uid']}/{title}: {expr}"
            assert parsed.selectors, where
            assert parsed.metrics <= allowed, where
            for selector in parsed.selectors:
                assert selector.value_of("namespace") == cfg.namespace, where
            used |= parsed.metrics
    assert configured_metrics(cfg.monitoring.metrics) | {"bullmq_job_count"} <= used


def test_dashboard_uids_are_unique_per_environment(cfgs: dict[str, EnvConfig]) -> None:
    prod, staging = cfgs["prod"], cfgs["staging"]
    prod_uids = {json.loads(t)["uid"] for t in dashboards.rendered(observed(prod)).values()}
    staging_uids = {json.loads(t)["uid"] for t in dashboards.rendered(observed(staging)).values()}
    assert len(prod_uids) == len(REQUIRED_PANELS) and not prod_uids & staging_uids


# --- config drives the queries -----------------------------------------------------------------


def test_renaming_metrics_in_config_changes_alerts_and_dashboards(cfgs: dict[str, EnvConfig]) -> None:
    cfg = cfgs["staging"]
    old = cfg.monitoring.metrics
    new = MetricNames(
        **{f.name: f"app_{getattr(old, f.name)}" for f in fields(old) if f.name != "status_label"},
        status_label="code",
    )
    renamed = replace(cfg, monitoring=replace(cfg.monitoring, metrics=new))

    alert_metrics = {
        m
        for group in alerts.alert_groups(observed(renamed))
        for alert in group.alerts
        for m in parse(alert.expr).metrics
    }
    assert not alert_metrics & configured_metrics(old)
    assert {new.http_requests_total, new.http_duration_bucket} <= alert_metrics
    error_rate = alert_rules.web_alerts(observed(renamed)).alerts[0].expr
    assert 'code=~"5.."' in error_rate and 'status=~"5.."' not in error_rate

    board_metrics = {
        m
        for text in dashboards.rendered(observed(renamed)).values()
        for _, expr in targets(json.loads(text))
        for m in parse(expr, grafana=True).metrics
    }
    assert configured_metrics(new) <= board_metrics and not board_metrics & configured_metrics(old)


def test_thresholds_come_from_config(cfgs: dict[str, EnvConfig]) -> None:
    cfg = cfgs["staging"]
    tuned = replace(
        cfg, monitoring=replace(cfg.monitoring, error_rate_threshold=0.02, queue_depth_threshold=50)
    )
    by_name = {a.name: a for g in alerts.alert_groups(observed(tuned)) for a in g.alerts}
    assert by_name["VibeyardHighErrorRate"].expr.endswith("> 0.02")
    assert by_name["VibeyardQueueBacklog"].expr.endswith("> 50")


# --- against the full chart --------------------------------------------------------------------


def test_unmonitored_environments_render_no_monitoring_objects(outputs: dict[str, Any]) -> None:
    for env, out in outputs.items():
        if out.cfg.monitoring.enabled:
            continue
        assert not out.of_kind("ServiceMonitor"), env
        assert not out.of_kind("PrometheusRule"), env
        dashboards = [c for c in out.of_kind("ConfigMap") if "grafana_dashboard" in c["metadata"]["labels"]]
        assert not dashboards, env
