"""checkov, once, over every environment's directory.

checkov takes seconds to import (more than the scans themselves), so one process
scans a folder holding one subfolder per environment, and each finding is given
back to its environment by its file's path. checkov's one graph check for
Kubernetes (CKV2_K8S_6, "every pod has a NetworkPolicy") does not look at
namespaces, so in one scan an environment's policy could vouch for another's pods;
``tests/test_security_network.py::test_default_deny_covers_the_namespace`` proves
per namespace that a default deny covers every pod, independently of checkov.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .manifests import Manifest

CHECKOV = Path(sys.executable).parent / "checkov"
SKIP_PREFIX = "checkov.io/skip"


@dataclass(frozen=True)
class Report:
    env: str
    summary: Mapping[str, Any]
    failed: list[Mapping[str, Any]]
    skipped: list[Mapping[str, Any]]

    def failures(self) -> list[str]:
        return [
            f"{self.env}: {_resource(c)}: checkov {c['check_id']}: {c['check_name']} "
            f"({Path(c['file_path']).name}); fix it, or add a reasoned skip (vibeyard/checkov.py)"
            for c in self.failed
        ]


def _resource(check: Mapping[str, Any]) -> str:
    # checkov names resources Kind.namespace.name
    parts = str(check["resource"]).split(".", 2)
    return f"{parts[0]}/{parts[2]}" if len(parts) == 3 else str(check["resource"])


def _command(directory: Path) -> list[str]:
    return [
        str(CHECKOV),
        "--framework",
        "kubernetes",
        "--skip-download",
        "--output",
        "json",
        # Without code blocks: the full report is 40 MB of JSON whose writing took half the run.
        "--compact",
        "--directory",
        str(directory.resolve()),
    ]


def scan(root: Path, environments: list[str]) -> dict[str, Report]:
    """Scan ``root`` (one subfolder per environment) in one checkov process.

    The report goes to a file, not a pipe: it is hundreds of kilobytes.
    """
    if not CHECKOV.exists():
        raise FileNotFoundError(f"{CHECKOV} is missing: install the dev dependencies (make test does)")
    env = {**os.environ, "LOG_LEVEL": "WARNING"}
    out_path, err_path = root.with_suffix(".checkov.json"), root.with_suffix(".checkov.log")
    with out_path.open("w") as out, err_path.open("w") as err:
        proc = subprocess.run(_command(root), stdout=out, stderr=err, env=env, timeout=300, check=False)
    stdout = out_path.read_text()
    # Exit code 1 means "some check failed"; anything else, or no JSON, is a crash.
    if proc.returncode not in (0, 1) or not stdout.strip().startswith(("{", "[")):
        raise RuntimeError(f"checkov exited {proc.returncode}:\n{err_path.read_text()[-3000:]}")
    data = json.loads(stdout)
    result = data[0] if isinstance(data, list) else data
    if result.get("check_type") != "kubernetes":
        raise RuntimeError(f"checkov scanned nothing as kubernetes: {str(result)[:500]}")

    def of(name: str, checks: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        return [c for c in checks if Path(c["file_path"]).parts[-2:-1] == (name,)]

    results = result["results"]
    reports: dict[str, Report] = {}
    for name in environments:
        passed = of(name, results["passed_checks"])
        failed, skipped = of(name, results["failed_checks"]), of(name, results["skipped_checks"])
        summary = {
            "resource_count": len({c["resource"] for c in passed + failed + skipped}),
            "parsing_errors": result["summary"]["parsing_errors"],
        }
        reports[name] = Report(env=name, summary=summary, failed=failed, skipped=skipped)
    return reports


def annotated_skips(obj: Manifest) -> list[tuple[str, str, str]]:
    """(annotation key, check id, reason) for every checkov skip annotation on ``obj``."""
    out = []
    for key, value in (obj.get("metadata", {}).get("annotations") or {}).items():
        if key.startswith(SKIP_PREFIX):
            check, sep, reason = str(value).partition("=")
            out.append((key, check.strip(), reason.strip() if sep else ""))
    return out


def skip_violations(env: str, objects: list[Manifest]) -> list[str]:
    """A skip must say why, in one '=': checkov splits on every '=' and crashes on a second."""
    out = []
    for obj in objects:
        for key, check, reason in annotated_skips(obj):
            name = f"{obj['kind']}/{obj['metadata']['name']}"
            if not reason:
                out.append(f"{env}: {name}: checkov skip: {key} skips {check} without a reason")
            elif "=" in reason:
                out.append(
                    f"{env}: {name}: checkov skip: {key} reason contains '=', which checkov cannot parse"
                )
            elif not check.startswith(("CKV_K8S_", "CKV2_K8S_")):
                out.append(f"{env}: {name}: checkov skip: {key} names {check!r}, not a kubernetes check id")
    return out
