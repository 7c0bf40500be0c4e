"""checkov, once per environment, all environments in parallel.

checkov takes seconds to import, so the scans start together as subprocesses
and the tests read their JSON reports. Each environment is scanned on its own
directory: checkov's graph checks (e.g. "every pod has a NetworkPolicy") do not
look at namespaces, so one scan over all environments could let one
environment's policy vouch for another's pods.
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
            f"({Path(c['file_path']).name}); fix it, or add a reasoned skip in checkov_skips.py"
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
        "--directory",
        str(directory.resolve()),
    ]


def scan(directories: Mapping[str, Path]) -> dict[str, Report]:
    """Scan every directory at once; each report goes to a file next to its directory.

    Files, not pipes: a report is hundreds of kilobytes, and a scanner blocked on a
    full pipe while we wait for another would serialise the parallel scans.
    """
    if not CHECKOV.exists():
        raise FileNotFoundError(f"{CHECKOV} is missing: install the dev dependencies (make test does)")
    env = {**os.environ, "LOG_LEVEL": "WARNING"}
    running = []
    for name, path in directories.items():
        out_path, err_path = path.with_suffix(".checkov.json"), path.with_suffix(".checkov.log")
        with out_path.open("w") as out, err_path.open("w") as err:
            proc = subprocess.Popen(_command(path), stdout=out, stderr=err, env=env)
        running.append((name, proc, out_path, err_path))
    reports: dict[str, Report] = {}
    for name, proc, out_path, err_path in running:
        proc.wait(timeout=300)
        stdout = out_path.read_text()
        # Exit code 1 means "some check failed"; anything else, or no JSON, is a crash.
        if proc.returncode not in (0, 1) or not stdout.strip().startswith(("{", "[")):
            raise RuntimeError(f"{name}: checkov exited {proc.returncode}:\n{err_path.read_text()[-3000:]}")
        data = json.loads(stdout)
        result = data[0] if isinstance(data, list) else data
        if result.get("check_type") != "kubernetes":
            raise RuntimeError(f"{name}: checkov scanned nothing as kubernetes: {str(result)[:500]}")
        reports[name] = Report(
            env=name,
            summary=result["summary"],
            failed=list(result["results"]["failed_checks"]),
            skipped=list(result["results"]["skipped_checks"]),
        )
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
