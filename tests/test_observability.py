"""Observability: ServiceMonitors, the PrometheusRule and the Grafana dashboards.

Every PromQL expression, in alerts and dashboards, goes through Prometheus's own
grammar (``tests/promql_support.py``, the ``promql-parser`` package): it must parse,
an alert must have a comparison at its top, and every selector must be scoped to
the environment's namespace. That the rules load and fire is shown with the real
promtool in tests/real/test_prometheus.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import fields, replace
from typing import Any

import pytest

from tests.promql_support import parse
from tests.support import Output
from vibeyard import identity
from vibeyard.config import EnvConfig, Topology
from vibeyard.config.types import MetricNames
from vibeyard.identity import instance_for
from vibeyard.observability import alert_rules, alerts, dashboards
from vibeyard.observability.service_monitor import scrape_timeout
from vibeyard.observability.subject import Observed


def observed(cfg: EnvConfig) -> Observed:
    return Observed.of(Topology.of(cfg), cfg.monitoring)


Manifest = dict[str, Any]
MONITORED = ("prod", "staging")
WORKER_METRICS = "prod"  # its pools export metrics on their own port
SEVERITIES = {"warning", "critical"}
DURATION = re.compile(r"^([0-9]+)(ms|s|m|h)$")
REQUIRED_PANELS = {
    "http": {"Request rate", "Error rate (5xx)", "Latency (p50 / p95 / p99)"},
    "queues": {"Waiting jobs per queue", "Jobs per queue and state", "Failed jobs per queue"},
    "database": {"Connection pool (active / idle / waiting)"},
    "cache": {"Redis cache hit rate", "Cache memory and evictions"},
}


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cfgs(configs: dict[str, EnvConfig]) -> dict[str, EnvConfig]:
    return {name: configs[name] for name in MONITORED}


@pytest.fixture(scope="module")
def rendered(outputs: dict[str, Output]) -> dict[str, list[Manifest]]:
    """The session's synthesis of the monitored environments: no chart of its own."""
    return {name: outputs[name].objects for name in MONITORED}


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
    assert endpoint["path"] == cfg.web.metrics_path  # the contract's path: tests/test_app_contract.py
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
        assert endpoint["port"] == "metrics"  # its path is the contract's: tests/test_app_contract.py
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
    used: set[str] = set()
    for alert in rules(one(rendered, env, "PrometheusRule", "vibeyard")):
        parsed = parse(alert["expr"])
        where = f"{env}/{alert['alert']}: {alert['expr']}"
        assert parsed.is_condition, f"{where}: no comparison at the top"
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
    used: set[str] = set()
    for config_map in dashboard_maps(rendered, env).values():
        board = json.loads(next(iter(config_map["data"].values())))
        for title, expr in targets(board):
            parsed = parse(expr, grafana=True)
            where = f"{env}/{board['uid']}/{title}: {expr}"
            assert parsed.selectors, where
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
