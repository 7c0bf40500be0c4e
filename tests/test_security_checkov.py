"""checkov on every environment: zero failed checks outside reasoned skips.

One scan runs per session over copies of every environment's synthesized tree.
Each workload declares its own exceptions (``vibeyard/checkov.py`` holds the reasons); they
reach checkov as ``checkov.io/skip<N>: <ID>=<reason>`` annotations; these tests
list them, fail on one without a reason, and check that checkov honoured
exactly the annotated skips and no others.
"""

from __future__ import annotations

import copy

import pytest

from tests.support import Output
from tests.validators import checkov_scan
from vibeyard.config import EnvConfig


@pytest.fixture(scope="session")
def checkov_reports(
    synthesized: dict[str, dict[str, str]],
    configs: dict[str, EnvConfig],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, checkov_scan.Report]:
    root = tmp_path_factory.mktemp("checkov")
    for env in configs:
        (root / env).mkdir()
        for name, text in synthesized[env].items():
            (root / env / name).write_text(text)
    return checkov_scan.scan(root, list(configs))


def test_checkov_has_no_failed_checks(out: Output, checkov_reports: dict[str, checkov_scan.Report]) -> None:
    report = checkov_reports[out.cfg.name]
    # Every workload of ours carries at least one reasoned skip, so checkov reports on each.
    scanned = {str(c["resource"]) for c in report.failed + report.skipped}
    workloads = [o for o in out.objects if o["kind"] in ("Deployment", "StatefulSet", "Job")]
    assert report.summary["resource_count"] >= len(workloads), report.summary
    assert all(
        any(r.startswith(f"{w['kind']}.") and r.endswith(f".{w['metadata']['name']}") for r in scanned)
        for w in workloads
    ), f"{out.cfg.name}: checkov reported nothing for some workloads"
    assert report.summary["parsing_errors"] == 0, report.summary
    failures = report.failures()
    assert not failures, "\n".join(failures)


def test_every_skip_has_a_reason(out: Output) -> None:
    problems = checkov_scan.skip_violations(out.cfg.name, out.objects)
    assert not problems, "\n".join(problems)


def test_checkov_skipped_exactly_the_annotated_checks(
    out: Output, checkov_reports: dict[str, checkov_scan.Report]
) -> None:
    """A skip checkov did not apply (typo in the id, wrong object) would hide nothing but mislead."""
    annotated = {
        (o["kind"], o["metadata"]["name"], check)
        for o in out.objects
        for _, check, _ in checkov_scan.annotated_skips(o)
    }
    skipped = set()
    for c in checkov_reports[out.cfg.name].skipped:
        kind, _, name = str(c["resource"]).split(".", 2)
        skipped.add((kind, name, c["check_id"]))
    assert skipped <= annotated, (
        f"{out.cfg.name}: checkov skipped checks nobody annotated: {skipped - annotated}"
    )
    unused = annotated - skipped
    assert not unused, f"{out.cfg.name}: annotated skips checkov never applied (wrong id?): {sorted(unused)}"


def test_skips_are_listed_and_reviewed(outputs: dict[str, Output]) -> None:
    """Every skip, with its reason, in one list; a new kind of exception fails until reviewed."""
    lines = sorted(
        {
            f"{check:<11} {o['kind']}/{o['metadata']['name']}: {reason}"
            for out in outputs.values()
            for o in out.objects
            for _, check, reason in checkov_scan.annotated_skips(o)
        }
    )
    listing = "\n  ".join(lines)
    assert all(line.split(": ", 1)[1].strip() for line in lines), f"a skip without a reason:\n  {listing}"
    assert {line.split()[0] for line in lines} <= {
        "CKV_K8S_8",
        "CKV_K8S_9",
        "CKV_K8S_11",
        "CKV_K8S_15",
        "CKV_K8S_35",
        "CKV_K8S_40",
        "CKV_K8S_43",
    }, f"a new kind of checkov exception: review it, then extend this list and docs/security.md:\n  {listing}"


def test_planted_skip_without_reason_is_caught(outputs: dict[str, Output]) -> None:
    objects = copy.deepcopy(outputs["dev"].objects)
    web = next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "vibeyard")
    web["metadata"]["annotations"]["checkov.io/skip9"] = "CKV_K8S_14"
    web["metadata"]["annotations"]["checkov.io/skip10"] = "CKV_K8S_22=a=b"
    problems = checkov_scan.skip_violations("dev", objects)
    assert problems == [
        "dev: Deployment/vibeyard: checkov skip: checkov.io/skip9 skips CKV_K8S_14 without a reason",
        "dev: Deployment/vibeyard: checkov skip: checkov.io/skip10 reason contains '=', "
        "which checkov cannot parse",
    ], problems
