"""The PrometheusRules and dashboards, checked with Prometheus's own tools and real scrapes.

``promtool check rules`` loads every rule as Prometheus would. Every alert has a firing
and a healthy example (data/alert_examples.yaml) that ``promtool test rules`` runs
against the rendered expr/for/labels. And every metric a rule or a dashboard reads
must exist: seen in a real scrape (BullMQ's exportPrometheusMetrics on the real Redis,
the Redis/PostgreSQL/PgBouncer exporters on the real servers), or promised by the app
contract (docs/app-contract.yaml: what the app and the cluster's exporters expose).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import ENV_NAMES
from tests.promql_support import parse
from tests.real.conftest import ClusterFactory
from tests.real.harness import bullmq, discover, exporters, promtool
from tests.real.harness.pgbouncer import PgBouncer
from tests.real.harness.pods import Cluster
from tests.real.harness.secrets import TestSecret
from tests.real.harness.servers import Postgres, Redis, localize_url
from tests.support import ROOT, Output
from tests.validators.manifests import load_yaml
from vibeyard.config import Topology

CONTRACT = ROOT / "docs" / "app-contract.yaml"


def _workdir(root: Path, env: str) -> Path:
    path = root / "promtool" / env
    path.mkdir(parents=True, exist_ok=True)
    return path


def rules(out: Output) -> list[dict[str, Any]]:
    return out.of_kind("PrometheusRule")


def dashboards(out: Output) -> Iterator[tuple[str, dict[str, Any]]]:
    for cm in out.of_kind("ConfigMap"):
        if cm["metadata"].get("labels", {}).get("grafana_dashboard") == "1":
            for key, text in cm.get("data", {}).items():
                yield f"{cm['metadata']['name']}/{key}", json.loads(text)


def panel_exprs(board: dict[str, Any]) -> Iterator[str]:
    stack = list(board.get("panels", []))
    while stack:
        panel = stack.pop()
        stack += panel.get("panels", [])  # rows
        for target in panel.get("targets", []):
            if target.get("expr"):
                yield target["expr"]


@pytest.mark.parametrize("env", ENV_NAMES)
def test_every_prometheus_rule_passes_promtool_check(
    env: str, outputs: dict[str, Output], real_root: Path
) -> None:
    for rule in rules(outputs[env]):
        ok, output = promtool.check(rule, _workdir(real_root, env))
        assert ok, f"{env}/{rule['metadata']['name']}: {output}"


def test_every_rendered_alert_has_an_example(outputs: dict[str, Output]) -> None:
    known = promtool.examples()
    missing = sorted(
        {a["alert"] for out in outputs.values() for r in rules(out) for a in promtool.alerts(r)} - set(known)
    )
    assert not missing, f"alerts without an example in {promtool.EXAMPLES.name}: {missing}"


@pytest.mark.parametrize("env", ENV_NAMES)
def test_every_alert_fires_on_its_bad_example_and_stays_silent_on_its_healthy_one(
    env: str, outputs: dict[str, Output], real_root: Path
) -> None:
    out = outputs[env]
    for rule in rules(out):
        ok, output = promtool.unit_tests(rule, out.cfg.namespace, _workdir(real_root, env))
        assert ok, f"{env}/{rule['metadata']['name']}: promtool test rules:\n{output}"


def contract_names() -> set[str]:
    data = load_yaml(CONTRACT.read_text()) or {}
    names = set()
    for item in [*data.get("metrics", []), *data.get("cluster_metrics", [])]:
        names.add(item["name"])
        if item.get("type") == "histogram":
            names |= {f"{item['name']}_{s}" for s in ("bucket", "sum", "count")}
    return names


def used_names(out: Output) -> dict[str, str]:
    """metric name -> where it is first used (an alert, a recording rule, a panel)."""
    used: dict[str, str] = {}
    for rule in rules(out):
        for group in rule["spec"]["groups"]:
            for r in group["rules"]:
                for name in parse(r["expr"]).metrics:
                    used.setdefault(name, f"rule {r.get('alert') or r.get('record')}")
    for where, board in dashboards(out):
        for expr in panel_exprs(board):
            for name in parse(expr, grafana=True).metrics:
                used.setdefault(name, f"dashboard {where}")
    return used


def scraped_names(c: Cluster) -> set[str]:
    """Start every Redis, PostgreSQL and PgBouncer the environment runs, its exporter (the
    rendered sidecar, or the same exporter with equivalent settings), and BullMQ's metrics."""
    topology, seen = Topology.of(c.out.cfg), set()
    started: list[Redis | Postgres | PgBouncer] = []
    started += [Redis(c.pod(w)).start() for w in discover.workloads(c, "redis-server")]
    started += [Postgres(c.pod(w)).start() for w in discover.workloads(c, "postgres")]
    bouncers = discover.workloads(c, "pgbouncer")
    if bouncers and topology.postgres is None:
        Postgres.standin(c, *TestSecret.managed_postgres(Topology.of(c.out.cfg)))
    started += [PgBouncer(c.pod(w)).start() for w in bouncers]
    for server in started:
        if exporters.sidecar(server.pod) is not None:
            exporter, up = exporters.start_sidecar(server.pod), True
        else:
            app = urlsplit(localize_url(c, discover.app_url(c, "DATABASE_URL", component="web")))
            exporter = exporters.start_equivalent(server, app.username or "", app.password or "")
            up = not isinstance(server, PgBouncer)  # the app's user may not read pgbouncer's stats
        text = exporter.scrape()
        exporter.stop()
        names = exporters.metric_names(text)
        sidecar = exporters.sidecar(server.pod)
        if sidecar is not None and "prometheuscommunity/pgbouncer-exporter" in sidecar.image:
            # The stand-in proves only the names both exporters share.
            names = {n for n in names if n.startswith(exporters.COMMUNITY_PGBOUNCER_NAMES)}
        if up:
            ups = [line for line in text.splitlines() if line.split(" ")[0].split("{")[0].endswith("_up")]
            assert ups and all(line.rsplit(" ", 1)[1] in ("1", "1.0") for line in ups), (
                f"{c.env}/{server.pod.name}: the exporter cannot read the server: {ups}"
            )
        seen |= names
    if topology.redis is not None:
        url = localize_url(c, discover.app_url(c, "REDIS_URL"))
        queues = sorted({q for p in topology.pools for q in p.pool.queues})
        steps = [{"op": "enqueue", "queue": q, "waiting": 1} for q in queues]
        text = bullmq.run(url, [*steps, {"op": "metrics", "queues": queues, "labels": {}}], log_dir=c.root)[
            -1
        ]
        assert "bullmq_job_count" in exporters.metric_names(text), f"{c.env}: BullMQ exported no job counts"
        seen |= exporters.metric_names(text)
    return seen


@pytest.mark.parametrize("env", ENV_NAMES)
def test_every_metric_a_rule_or_dashboard_reads_is_scraped_or_in_the_app_contract(
    env: str, outputs: dict[str, Output], cluster: ClusterFactory
) -> None:
    used = used_names(outputs[env])
    if not used:
        return
    seen, promised = scraped_names(cluster(env)), contract_names()
    unknown = {n: where for n, where in used.items() if n not in seen | promised}
    assert not unknown, f"{env}: metrics nothing emits (not scraped, not in {CONTRACT.name}): {unknown}"
