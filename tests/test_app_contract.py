"""The rendered manifests against the app image contract (docs/app-contract.yaml).

The contract is what the app's developers build the image to; the config has its
own copy of each value (port, paths, commands, uid) so that each stays
configurable. These tests are the guard that the two agree for every committed
environment and variant: a config edit that leaves the contract behind fails here.
Variables are checked both ways: every one the contract lists for a workload is set
on it (where its ``only_when`` condition holds, and only there), and the chart sets
no variable the contract does not list for that workload.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
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


def variables(out: Output, container: dict[str, Any]) -> dict[str, str | None]:
    """Every variable the container sees: each ConfigMap it reads whole, then its own env."""
    seen: dict[str, str | None] = {}
    for source in container.get("envFrom", []):
        assert "configMapRef" in source, f"envFrom {source}: only ConfigMaps' keys can be known here"
        data = out.get("ConfigMap", source["configMapRef"]["name"])["data"]
        seen |= {source.get("prefix", "") + k: v for k, v in data.items()}
    return seen | {e["name"]: e.get("value") for e in container.get("env", [])}


def listed_for(role: str) -> set[str]:
    """The variables the contract lists for the web, a worker or the migration."""
    env = CONTRACT["env"]
    listed = set(CONTRACT.get(role, {}).get("env", []))
    return listed | ({*env["config"], *env["secret"]} if role in env["read_by"] else set())


def _pool_has_metrics(out: Output, workload: dict[str, Any], seen: dict[str, str | None], var: str) -> bool:
    (pool,) = [p for p in out.cfg.workers if workload["metadata"]["name"] == f"vibeyard-worker-{p.name}"]
    return pool.metrics_port is not None


def _composed(out: Output, workload: dict[str, Any], seen: dict[str, str | None], var: str) -> bool:
    """The URL this password belongs to is written out by the chart, not read from the Secret."""
    (url,) = [u for u, password in CONTRACT["url_passwords"].items() if password == var]
    return seen.get(url) is not None


# The conditions docs/app-contract.yaml names under ``only_when``.
CONDITIONS: dict[str, Callable[[Output, dict[str, Any], dict[str, str | None], str], bool]] = {
    "sentry": lambda out, *_: out.cfg.sentry_enabled,
    "read_replica": lambda out, *_: out.cfg.postgres.read_replica,
    "metrics_port": _pool_has_metrics,
    "composed": _composed,
}


def contract_gaps(out: Output, workload: dict[str, Any]) -> list[str]:
    """Each variable the contract lists for the workload and does not find on it (or finds
    where its condition does not hold), one line each."""
    role, where = component(workload), f"{workload['kind']}/{workload['metadata']['name']}"
    (container,) = pod_spec(workload)["containers"]
    seen = variables(out, container)
    gaps = []
    for var in sorted(listed_for(role)):
        condition = CONTRACT["only_when"].get(var)
        wanted = condition is None or CONDITIONS[condition](out, workload, seen, var)
        if wanted and var not in seen:
            why = f", as {condition} holds" if condition else ""
            gaps.append(f"{where} lacks {var}, which docs/app-contract.yaml lists for the {role}{why}")
        elif not wanted and var in seen:
            gaps.append(f"{where} sets {var}, which docs/app-contract.yaml sets only when {condition}")
    return gaps


def test_the_contract_file_is_complete() -> None:
    keys = (
        "image",
        "web",
        "worker",
        "migration",
        "env",
        "url_passwords",
        "only_when",
        "metrics",
        "cluster_metrics",
    )
    for key in keys:
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
    # The image's node runs the launcher, which runs the contract's command once the database is up.
    assert c["command"][:2] == ["node", "-e"] and c["command"][3:] == migration["command"]
    home = {e["name"]: e.get("value") for e in c["env"]}["HOME"]
    assert home == CONTRACT["image"]["home"] and home in CONTRACT["image"]["writable_paths"]


def test_every_variable_the_contract_lists_is_set_on_its_workload(every: Output) -> None:
    """Contract ⊆ chart: the web, each worker pool and the migration, with only_when honoured."""
    roles = {component(wl) for wl in app_workloads(every)}
    assert {"web", "worker"} <= roles, every.cfg.name
    gaps = [gap for wl in app_workloads(every) for gap in contract_gaps(every, wl)]
    assert not gaps, "\n".join(gaps)


def test_every_variable_the_chart_sets_is_one_the_app_reads(every: Output) -> None:
    """Chart ⊆ contract, per workload: none gets a variable the contract does not list for it."""
    extra = set(every.cfg.extra_env)
    for wl in app_workloads(every):
        for c in pod_spec(wl)["containers"]:
            unknown = set(variables(every, c)) - listed_for(component(wl)) - extra
            assert not unknown, f"{wl['metadata']['name']}: not in the contract: {sorted(unknown)}"


def test_a_contract_variable_removed_from_the_web_is_named(every: Output) -> None:
    """The planted omission: each variable the web has, taken away in turn (from its env, or
    from the ConfigMap it reads), fails with a line that names it."""
    web = every.get("Deployment", "vibeyard")
    (container,) = pod_spec(web)["containers"]
    present = sorted(listed_for("web") & set(variables(every, container)))
    assert present
    for var in present:
        planted = copy.copy(every)
        planted.objects = copy.deepcopy(every.objects)
        (c,) = pod_spec(planted.get("Deployment", "vibeyard"))["containers"]
        c["env"] = [e for e in c["env"] if e["name"] != var]
        planted.get("ConfigMap", "vibeyard-config")["data"].pop(var, None)
        gaps = contract_gaps(planted, planted.get("Deployment", "vibeyard"))
        assert any(f"lacks {var}," in gap for gap in gaps), f"{every.cfg.name}: removing {var} passes: {gaps}"


def test_every_condition_the_contract_names_is_checked() -> None:
    assert set(CONTRACT["only_when"].values()) == set(CONDITIONS)
    listed = {v for role in ("web", "worker", "migration") for v in listed_for(role)}
    assert set(CONTRACT["only_when"]) <= listed, "only_when names a variable no workload reads"


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
