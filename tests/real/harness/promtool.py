"""promtool on the rendered PrometheusRules: `check rules`, and `test rules` with the
alert examples of tests/real/data/alert_examples.yaml."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import yaml

from tests.support import Manifest
from tests.validators.manifests import load_yaml

from . import procs, tools

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "alert_examples.yaml"


def examples() -> dict[str, Any]:
    data: dict[str, Any] = load_yaml(EXAMPLES.read_text())
    return data


def alerts(rule: Manifest) -> list[Manifest]:
    return [r for g in rule["spec"]["groups"] for r in g["rules"] if "alert" in r]


def check(rule: Manifest, workdir: Path) -> tuple[bool, str]:
    path = workdir / f"{rule['metadata']['name']}.rules.yaml"
    path.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
    r = procs.run([tools.find("promtool"), "check", "rules", str(path)])
    return r.returncode == 0, (r.stdout + r.stderr).strip()


def unit_tests(rule: Manifest, namespace: str, workdir: Path) -> tuple[bool, str]:
    """One promtool test file: for each alert with an example, a firing and a healthy test."""
    groups = copy.deepcopy(rule["spec"]["groups"])
    for group in groups:
        for r in group["rules"]:
            r.pop(
                "annotations", None
            )  # promtool compares annotations exactly; expr/for/labels are under test
    name = rule["metadata"]["name"]
    rules_file = workdir / f"{name}.stripped.rules.yaml"
    rules_file.write_text(yaml.safe_dump({"groups": groups}))
    known = examples()
    groups_of_cases: list[dict[str, Any]] = []
    for alert in alerts(rule):
        example = known.get(alert["alert"])
        if example is None:
            continue
        # "gone": the alert must fire although its series has vanished (the pod is gone).
        for case in ("firing", "healthy", "gone"):
            spec = example.get(case)
            if spec is None:
                continue
            series = {sel.replace("$NAMESPACE", namespace): str(v) for sel, v in spec["series"].items()}
            labels = {k: v.replace("$NAMESPACE", namespace) for k, v in spec.get("labels", {}).items()}
            expected = [{"exp_labels": {**alert.get("labels", {}), **labels}}] if case != "healthy" else []
            check = {"eval_time": spec["at"], "alertname": alert["alert"], "exp_alerts": expected}
            _pack(groups_of_cases, series, check, absent=frozenset(spec.get("absent", [])))
    tests = [
        {
            "interval": "1m",
            "input_series": [{"series": k, "values": v} for k, v in g["series"].items()],
            "alert_rule_test": g["checks"],
        }
        for g in groups_of_cases
    ]
    test_file = workdir / f"{name}.test.yaml"
    test_file.write_text(
        yaml.safe_dump({"rule_files": [rules_file.name], "evaluation_interval": "1m", "tests": tests})
    )
    # promtool builds a TSDB per test group: in TMPDIR, so on tmpfs when the workdir is.
    env = {**os.environ, "TMPDIR": str(workdir)}
    r = procs.run([tools.find("promtool"), "test", "rules", test_file.name], cwd=workdir, env=env)
    return r.returncode == 0, (r.stdout + r.stderr).strip()


def _metric(selector: str) -> str:
    return selector.split("{", 1)[0].strip()


def _pack(
    groups: list[dict[str, Any]],
    series: dict[str, str],
    check: dict[str, Any],
    absent: frozenset[str] = frozenset(),
) -> None:
    """Add an example to the first test group it cannot disturb: every metric it shares
    with the group has exactly the same series there, and none it needs ``absent`` is in it.
    Each promtool test group costs a TSDB, so fewer groups is most of promtool's time."""
    for group in groups:
        shared = {_metric(s) for s in series} & {_metric(s) for s in group["series"]}
        if absent & {_metric(s) for s in group["series"]}:
            continue
        if all(
            {k: v for k, v in series.items() if _metric(k) == m}
            == {k: v for k, v in group["series"].items() if _metric(k) == m}
            for m in shared
        ):
            group["series"].update(series)
            group["checks"].append(check)
            return
    groups.append({"series": dict(series), "checks": [check]})
