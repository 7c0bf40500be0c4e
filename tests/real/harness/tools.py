"""The real binaries the tests start, and what to install when one is missing.

Outside CI a missing package skips the real-component tests with one line naming the
packages; under CI=true it fails them: CI must never pass by skipping.
"""

from __future__ import annotations

import glob
import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
EXPORTER_VENV = ROOT / ".tools" / "pgbouncer-exporter"

# name -> (Debian package, how to find it)
_COMMANDS = {
    "redis-server": "redis-server",
    "redis-cli": "redis-tools",
    "pgbouncer": "pgbouncer",
    "promtool": "prometheus",
    "prometheus-redis-exporter": "prometheus-redis-exporter",
    "prometheus-postgres-exporter": "prometheus-postgres-exporter",
    "pg_isready": "postgresql-client",
    "psql": "postgresql-client",
    "setpriv": "util-linux",
    "unshare": "util-linux",
    "env": "coreutils",
}


def _postgres_bin() -> Path | None:
    """The newest server install (Debian keeps binaries out of PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("postgres")
    return Path(on_path).resolve().parent if on_path else None


def _nss_wrapper() -> str | None:
    found = glob.glob("/usr/lib/*/libnss_wrapper.so") + glob.glob("/usr/lib/libnss_wrapper.so")
    return found[0] if found else None


def find(name: str) -> str:
    """Absolute path of a tool; KeyError-free: callers checked ``missing()`` first."""
    if name in ("postgres", "initdb", "pg_ctl"):
        bindir = _postgres_bin()
        assert bindir is not None, "postgres server not installed"
        return str(bindir / name)
    if name == "libnss_wrapper.so":
        return _nss_wrapper() or name
    if name == "pgbouncer-exporter":
        return str(EXPORTER_VENV / "bin" / "pgbouncer-exporter")
    if name == "node":
        local = ROOT / "node_modules" / ".bin" / "node"
        return str(local) if local.exists() else (shutil.which("node") or "node")
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    assert path is not None, f"{name} not installed"
    return path


def missing() -> list[str]:
    """Install hints for everything absent: Debian packages, then the exporter venv and npm."""
    packages: list[str] = []
    for command, package in _COMMANDS.items():
        if not (shutil.which(command) or shutil.which(command, path="/usr/sbin:/sbin")):
            packages.append(package)
    if _postgres_bin() is None:
        packages.append("postgresql")
    if _nss_wrapper() is None:
        packages.append("libnss-wrapper")
    hints = [f"apt-get install {' '.join(dict.fromkeys(packages))}"] if packages else []
    if not (EXPORTER_VENV / "bin" / "pgbouncer-exporter").exists():
        hints.append("scripts/install-test-deps.sh (pgbouncer exporter)")
    if not (ROOT / "node_modules" / "bullmq").exists():
        hints.append("npm ci (bullmq)")
    return hints


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"
