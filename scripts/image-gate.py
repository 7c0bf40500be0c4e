#!/usr/bin/env python3
"""The release's vulnerability gate: Trivy's findings against the threshold and the accepted risks.

    image-gate.py REPORT --ignore-file FILE [--severity HIGH] [--today YYYY-MM-DD]

REPORT is ``trivy image --format json`` of the exact image reference a release ships. The
gate fails (exit 1) when

* a vulnerability at or above ``--severity`` has a fix available and is not accepted, or
* the ignore file is invalid: every entry needs an ``id``, a ``statement`` (why the risk is
  accepted) and an ``expired_at`` date; an entry whose date has come fails the gate even when
  the vulnerability is gone, so accepted risks are reviewed, never forgotten.

The ignore file is Trivy's own ``.trivyignore.yaml`` format, so ``trivy image --ignorefile``
by hand gives the same verdict (docs/release.md, "The image gate"). Like Trivy, an entry
stops applying on its ``expired_at`` day. Findings below the threshold, or without a fix,
are listed but do not block.

The Markdown report (for the job summary, ahead of the approval) goes to stdout, and each
reason for failing is also one line on stderr. A report that cannot be read exits 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SEVERITIES = ("UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL")
MAX_ROWS = 200


@dataclass(frozen=True)
class Finding:
    vuln_id: str
    package: str
    installed: str
    fixed: str
    severity: str
    title: str
    target: str

    @property
    def fixable(self) -> bool:
        return bool(self.fixed)

    def row(self, note: str) -> str:
        fixed = self.fixed or "no fix"
        return (
            f"| {self.severity} | {self.vuln_id} | {self.package} {self.installed} | {fixed} "
            f"| {self.target} | {note} |"
        )


@dataclass(frozen=True)
class Accepted:
    vuln_id: str
    statement: str
    expires: dt.date


class GateError(Exception):
    """The report or the ignore file cannot be read at all (exit 2)."""


def findings(report: dict[str, Any]) -> list[Finding]:
    found = []
    for result in report.get("Results") or []:
        for vuln in result.get("Vulnerabilities") or []:
            severity = str(vuln.get("Severity", "UNKNOWN")).upper()
            found.append(
                Finding(
                    vuln_id=str(vuln["VulnerabilityID"]),
                    package=str(vuln.get("PkgName", "?")),
                    installed=str(vuln.get("InstalledVersion", "")),
                    fixed=str(vuln.get("FixedVersion") or ""),
                    severity=severity if severity in SEVERITIES else "UNKNOWN",
                    title=str(vuln.get("Title", "")).replace("|", "/"),
                    target=str(result.get("Target", "")),
                )
            )
    return found


def parse_date(raw: object) -> dt.date | None:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw)[:10])
    except ValueError:
        return None


def accepted_risks(path: Path, today: dt.date) -> tuple[dict[str, Accepted], list[str]]:
    """The entries still in force, and one problem line per invalid or expired entry."""
    if not path.is_file():
        return {}, []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise GateError(f"{path}: not YAML: {err}".replace("\n", " ")) from err
    if not isinstance(data, dict) or not isinstance(data.get("vulnerabilities") or [], list):
        raise GateError(f"{path}: expected `vulnerabilities:` with a list of entries")
    accepted, problems = {}, []
    for index, entry in enumerate(data.get("vulnerabilities") or []):
        where = f"{path}: vulnerabilities[{index}]"
        if not isinstance(entry, dict) or not entry.get("id"):
            problems.append(f"{where}: every entry needs an id (a CVE or GHSA identifier)")
            continue
        where = f"{where} ({entry['id']})"
        statement = str(entry.get("statement") or "").strip()
        expires = parse_date(entry.get("expired_at"))
        if not statement:
            problems.append(f"{where}: no statement: say why the risk is accepted")
        if expires is None:
            problems.append(f"{where}: no valid expired_at: give the date (YYYY-MM-DD) to look again")
        elif expires <= today:
            problems.append(
                f"{where}: expired on {expires}: fix the image, or review the risk and set a new expired_at"
            )
        if statement and expires is not None and expires > today:
            accepted[str(entry["id"])] = Accepted(str(entry["id"]), statement, expires)
    return accepted, problems


def verdict(
    found: list[Finding], accepted: dict[str, Accepted], threshold: str
) -> tuple[list[str], list[str]]:
    """Table rows (blocking first) and one line per blocking finding."""
    floor = SEVERITIES.index(threshold)
    rows, blocking = [], []
    ranked = sorted(found, key=lambda f: (-SEVERITIES.index(f.severity), f.vuln_id, f.package))
    for finding in ranked:
        serious = SEVERITIES.index(finding.severity) >= floor
        risk = accepted.get(finding.vuln_id)
        if risk is not None:
            note = f"accepted until {risk.expires}: {risk.statement}"
        elif serious and finding.fixable:
            note = "**blocks the release**"
            blocking.append(
                f"{finding.severity} {finding.vuln_id} in {finding.package} {finding.installed} "
                f"({finding.target}) is fixed in {finding.fixed}: rebuild the image, or accept the risk "
                "with a statement and an expired_at in the ignore file"
            )
        else:
            note = "below the threshold" if not serious else "no fix available yet"
        rows.append((0 if note.startswith("**") else 1, finding.row(note)))
    return [row for _, row in sorted(rows, key=lambda r: r[0])], blocking


def markdown(
    reference: str, threshold: str, rows: list[str], blocking: list[str], problems: list[str]
) -> str:
    passed = not blocking and not problems
    lines = [
        f"## Image gate: {'passed' if passed else 'FAILED'}",
        "",
        f"- image `{reference}`",
        f"- fails on: a fixable vulnerability of severity {threshold} or higher that is not accepted; "
        "an invalid or expired entry in the ignore file",
        f"- {len(rows)} finding(s), {len(blocking)} blocking",
    ]
    lines += [f"- ignore file: {problem}" for problem in problems]
    if rows:
        lines += [
            "",
            "| Severity | ID | Package | Fixed in | Target | Verdict |",
            "|---|---|---|---|---|---|",
        ]
        lines += rows[:MAX_ROWS]
        if len(rows) > MAX_ROWS:
            lines += ["", f"_{len(rows) - MAX_ROWS} more in the SARIF upload and the scan artifact._"]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("--ignore-file", type=Path, required=True)
    parser.add_argument("--severity", default="HIGH", type=str.upper, choices=SEVERITIES)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.datetime.now(dt.UTC).date())
    args = parser.parse_args(argv)
    try:
        report = json.loads(args.report.read_text(encoding="utf-8"))
        accepted, problems = accepted_risks(args.ignore_file, args.today)
        rows, blocking = verdict(findings(report), accepted, args.severity)
    except GateError as err:
        print(f"image-gate.py: {err}", file=sys.stderr)
        return 2
    except (OSError, ValueError, KeyError) as err:
        print(f"image-gate.py: {args.report}: not a Trivy JSON report ({err!r})", file=sys.stderr)
        return 2
    reference = str(report.get("ArtifactName") or args.report)
    sys.stdout.write(markdown(reference, args.severity, rows, blocking, problems))
    for line in [*problems, *blocking]:
        print(f"::error title=image gate::{line}", file=sys.stderr)
    return 1 if blocking or problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
