"""scripts/image-gate.py, the release's vulnerability gate: its cases, with the inputs deploy.yml gives it.

The "Image gate" step runs ``image-gate.py <trivy.json> --ignore-file .trivyignore.yaml
--severity $SCAN_SEVERITY`` with stdout appended to the job summary. Here each case is that
call on a Trivy JSON report and an ignore file, through the script's entry point in-process
(a workflow run costs most of a second a case). tests/test_deploy_run.py runs the step inside
the whole workflow, passing and failing, to prove the wiring: the threshold variable, the
ignore file of the deployed branch, the summary, no ``make test`` after a failed gate, SARIF.

What is proven: the gate fails on a fixable finding at or above the threshold, passes one
below it, one without a fix, or one accepted until a future date, and fails on an expired
acceptance (even when the finding is gone) and on an acceptance without a reason; the summary
says why, and each reason for failing is an ``::error`` line naming the vulnerability.
"""

from __future__ import annotations

import datetime as dt
import json
import runpy
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "image-gate.py"
REFERENCE = "ghcr.io/acme-robotics/vibeyard@sha256:" + "5eed" * 16
TODAY = dt.datetime.now(dt.UTC).date()  # the gate's own default, as in the workflow (no --today)

Gate = Callable[[list[str]], int]


def vuln(vuln_id: str, severity: str, fixed: str = "") -> dict[str, str]:
    """One entry of a Trivy JSON report's Vulnerabilities."""
    return {
        "VulnerabilityID": vuln_id,
        "PkgName": "openssl",
        "InstalledVersion": "3.5.1-r0",
        "FixedVersion": fixed,
        "Severity": severity,
        "Title": f"{vuln_id} in openssl",
    }


def trivy_report(reference: str, vulns: list[dict[str, str]]) -> dict[str, object]:
    """``trivy image --format json`` of ``reference``: one OS-package target with ``vulns``."""
    return {
        "SchemaVersion": 2,
        "ArtifactName": reference,
        "ArtifactType": "container_image",
        "Results": [
            {"Target": "app (alpine 3.22)", "Class": "os-pkgs", "Vulnerabilities": vulns},
        ],
    }


def accept(vuln_id: str, days: int, statement: str = "not reachable from the app") -> str:
    """An ignore-file entry accepting ``vuln_id`` until ``days`` from today."""
    reason = f"    statement: {statement}\n" if statement else ""
    return f"  - id: {vuln_id}\n{reason}    expired_at: {TODAY + dt.timedelta(days=days)}\n"


def ignore_file(entries: str) -> str:
    """A ``.trivyignore.yaml`` of ``entries`` (accept()'s), or of none."""
    return f"vulnerabilities:\n{entries}" if entries else "vulnerabilities: []\n"


@pytest.fixture(scope="module")
def gate() -> Gate:
    """The script's ``main(argv)``, loaded from its file as the workflow runs it."""
    main: Gate = runpy.run_path(str(SCRIPT), run_name="image_gate")["main"]
    return main


class Case(NamedTuple):
    findings: list[dict[str, str]]
    entries: str  # of the ignore file, accept()'s
    severity: str  # --severity
    blamed: str  # the vulnerability the ::error lines name; "" when the gate passes
    shown: tuple[str, ...]  # in the job summary


HIGH_FIX, MEDIUM_FIX = vuln("CVE-2026-0001", "HIGH", "3.5.2-r0"), vuln("CVE-2026-0003", "MEDIUM", "3.5.2-r0")
CASES = {
    "fixable-high-fails": Case([HIGH_FIX], "", "HIGH", "CVE-2026-0001", ("**blocks the release**",)),
    "critical-fails": Case(
        [vuln("CVE-2026-0002", "CRITICAL", "3.5.2-r0")],
        "",
        "HIGH",
        "CVE-2026-0002",
        ("| CRITICAL | CVE-2026-0002 |",),
    ),
    "medium-passes": Case([MEDIUM_FIX], "", "HIGH", "", ("below the threshold",)),
    "medium-fails-at-a-medium-threshold": Case(
        [MEDIUM_FIX], "", "MEDIUM", "CVE-2026-0003", ("severity MEDIUM or higher",)
    ),
    "unfixed-high-passes": Case([vuln("CVE-2026-0004", "HIGH")], "", "HIGH", "", ("no fix available",)),
    "accepted-until-later-passes": Case(
        [vuln("CVE-2026-0005", "HIGH", "3.5.2-r0")],
        accept("CVE-2026-0005", 30),
        "HIGH",
        "",
        ("accepted until",),
    ),
    "expired-acceptance-fails": Case(
        [vuln("CVE-2026-0006", "HIGH", "3.5.2-r0")],
        accept("CVE-2026-0006", -1),
        "HIGH",
        "CVE-2026-0006",
        ("expired on", "**blocks the release**"),  # the lapsed acceptance no longer applies
    ),
    "expired-entry-fails-even-without-the-finding": Case(
        [], accept("CVE-2020-0007", 0, "gone long ago"), "HIGH", "CVE-2020-0007", ("expired on",)
    ),
    "acceptance-without-a-reason-fails": Case(
        [vuln("CVE-2026-0008", "HIGH", "3.5.2-r0")],
        accept("CVE-2026-0008", 30, statement=""),
        "HIGH",
        "CVE-2026-0008",
        ("no statement",),
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_the_gate(gate: Gate, case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report, ignores = tmp_path / "trivy.json", tmp_path / ".trivyignore.yaml"
    report.write_text(json.dumps(trivy_report(REFERENCE, case.findings)), encoding="utf-8")
    ignores.write_text(ignore_file(case.entries), encoding="utf-8")
    code = gate([str(report), "--ignore-file", str(ignores), "--severity", case.severity])
    summary, stderr = capsys.readouterr()
    for shown in case.shown:
        assert shown in summary, f"the job summary must show {shown!r}:\n{summary}"
    assert f"- image `{REFERENCE}`" in summary, summary
    errors = [line for line in stderr.splitlines() if line.startswith("::error title=image gate::")]
    if case.blamed:
        assert code == 1 and summary.startswith("## Image gate: FAILED\n"), (code, summary)
        assert errors and all(case.blamed in line for line in errors), stderr
    else:
        assert code == 0 and summary.startswith("## Image gate: passed\n"), (code, summary)
        assert stderr == "", stderr
