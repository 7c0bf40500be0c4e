"""The rendered manifests against the app image contract (docs/app-contract.yaml).

The contract is what the app's developers build the image to; the config has its
own copy of each value (port, paths, commands, uid) so that each stays
configurable. These tests are the guard that the two agree for every committed
environment: a config edit that leaves the contract behind fails here.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.support import ROOT, Output, pod_spec
from vibeyard.observability.alert_rules import SLOW_WINDOW

CONTRACT: dict[str, Any] = yaml.safe_load((ROOT / "docs" / "app-contract.yaml").read_text(encoding="utf-8"))
APP_COMPONENTS = ("web", "worker", "migration")


def app_workloads(out: Output) -> list[dict[str, Any]]:
    return [
        w for w in out.workloads() if w["metadata"]["labels"]["app.kubernetes.io/component"] in APP_COMPONENTS
    ]


def component(workload: dict[str, Any]) -> str:
    value: str = workload["metadata"]["labels"]["app.kubernetes.io/component"]
    return value


def test_the_contract_file_is_complete() -> None:
    for key in ("image", "web", "worker", "migration", "env", "metrics", "cluster_metrics"):
        assert key in CONTRACT, key
    assert (ROOT / "docs" / "app-contract.md").read_text(encoding="utf-8").count("app-contract.yaml") >= 1


def test_app_pods_run_as_the_images_user_on_a_read_only_root(out: Output) -> None:
    user = CONTRACT["image"]["user"]
    writable = set(CONTRACT["image"]["writable_paths"])
    for wl in app_workloads(out):
        spec = pod_spec(wl)
        ctx = spec["securityContext"]
        assert (ctx["runAsUser"], ctx["runAsGroup"]) == (user["uid"], user["gid"]), wl["metadata"]["name"]
        for c in spec["containers"]:
            assert c["securityContext"]["readOnlyRootFilesystem"] is True
            mounts = {m["mountPath"] for m in c.get("volumeMounts", []) if not m.get("readOnly")}
            assert mounts <= writable, (
                f"{wl['metadata']['name']}: writes outside the contract: {mounts - writable}"
            )


def test_web_serves_on_the_contracts_port_and_paths(out: Output) -> None:
    web = CONTRACT["web"]
    deploy = out.get("Deployment", "vibeyard")
    spec = pod_spec(deploy)
    (c,) = spec["containers"]
    assert [p["containerPort"] for p in c["ports"]] == [web["port"]]
    assert out.get("ConfigMap", "vibeyard-config")["data"]["PORT"] == str(web["port"])
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert c[probe]["httpGet"]["path"] == web["health_path"], probe
    pre_stop = int(c["lifecycle"]["preStop"]["exec"]["command"][1])
    assert spec["terminationGracePeriodSeconds"] - pre_stop >= web["shutdown_seconds"]
    if out.cfg.monitoring.enabled:
        (endpoint,) = out.get("ServiceMonitor", "vibeyard")["spec"]["endpoints"]
        assert endpoint["path"] == web["metrics_path"]


def test_workers_run_the_contracts_entry_point_and_expose_its_metrics(out: Output) -> None:
    worker = CONTRACT["worker"]
    for wl in app_workloads(out):
        if component(wl) != "worker":
            continue
        (c,) = pod_spec(wl)["containers"]
        assert c["command"] == worker["command"], wl["metadata"]["name"]
        env = {e["name"]: e.get("value") for e in c["env"]}
        assert {"WORKER_POOL", "WORKER_QUEUES", "WORKER_CONCURRENCY"} <= env.keys()
        if "METRICS_PORT" in env:
            assert env["METRICS_PORT"] == str(worker["metrics_port"])
            assert [p["containerPort"] for p in c["ports"]] == [worker["metrics_port"]]
            if out.cfg.monitoring.enabled:
                (endpoint,) = out.get("ServiceMonitor", wl["metadata"]["name"])["spec"]["endpoints"]
                assert endpoint["path"] == worker["metrics_path"]


def test_the_migration_runs_the_contracts_command_with_database_access_only(out: Output) -> None:
    migration = CONTRACT["migration"]
    (job,) = out.of_kind("Job")
    (c,) = pod_spec(job)["containers"]
    assert c["command"] == migration["command"]
    assert {e["name"] for e in c["env"]} <= set(migration["env"])
    home = {e["name"]: e.get("value") for e in c["env"]}["HOME"]
    assert home == CONTRACT["image"]["home"] and home in CONTRACT["image"]["writable_paths"]


def test_every_variable_the_chart_sets_is_one_the_app_reads(out: Output) -> None:
    known = {
        *CONTRACT["env"]["config"],
        *CONTRACT["env"]["secret"],
        *CONTRACT["worker"]["env"],
        *CONTRACT["migration"]["env"],
    }
    assert set(out.get("ConfigMap", "vibeyard-config")["data"]) - set(out.cfg.extra_env) <= known
    for wl in app_workloads(out):
        for c in pod_spec(wl)["containers"]:
            unknown = {e["name"] for e in c.get("env", [])} - known
            assert not unknown, f"{wl['metadata']['name']}: not in the contract: {sorted(unknown)}"


def test_the_failure_alert_window_fits_inside_the_kept_failed_jobs() -> None:
    """The failure alert counts the growth of the failed set; jobs must stay in it longer than the window."""
    assert int(SLOW_WINDOW.removesuffix("m")) * 60 < CONTRACT["worker"]["bullmq"]["removeOnFail"]["age"]


@pytest.mark.parametrize("section", ["metrics", "cluster_metrics"])
def test_listed_metrics_are_unique_and_named(section: str) -> None:
    names = [m["name"] for m in CONTRACT[section]]
    assert len(names) == len(set(names)) and all(names)


def test_the_contracts_http_metrics_are_the_configs_defaults(configs: dict[str, Any]) -> None:
    names = {m["name"] for m in CONTRACT["metrics"]}
    for cfg in configs.values():
        m = cfg.monitoring.metrics
        assert {m.http_requests_total, m.http_duration_bucket} <= names


def test_the_contract_doc_names_every_section() -> None:
    doc = (ROOT / "docs" / "app-contract.md").read_text(encoding="utf-8")
    for section in CONTRACT:
        if section != "version":
            assert f"`{section}`" in doc, section
