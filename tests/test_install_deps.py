"""scripts/install-test-deps.sh decides who runs apt: root itself, anyone else through
passwordless sudo (GitHub's runners: `runner` with `sudo -n`), else one line naming the
packages. Each case runs the real script with a stand-in `id`, `sudo` and `apt-get` first
on PATH: `id -u` answers the uid under test, `sudo` runs its command with a reset
environment (as the real one does) or refuses as a password-protected one does, and
`apt-get` only records how it was called and whether the no-daemons guard
(policy-rc.d, exit 101) was in place at that moment.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.real.harness import tools

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "install-test-deps.sh"
PACKAGES = ["redis-server", "pgbouncer"]

_ID = """#!/bin/sh
if [ "$1" = -u ]; then echo "$FAKE_UID"; exit 0; fi
exec /usr/bin/id "$@"
"""
# A password-protected sudo refuses `-n`; a prompt would hang CI, so a call without -n
# is recorded and refused too.
_SUDO = """#!/bin/sh
echo "sudo $*" >> {log}
if [ "$FAKE_SUDO" != ok ] || [ "$1" != -n ]; then echo "sudo: a password is required" >&2; exit 1; fi
shift
exec env -i PATH="$PATH" FAKE_VIA_SUDO=1 "$@"
"""
_APT = """#!/bin/sh
if [ -x {guard} ]; then {guard}; guard=$?; else guard=absent; fi
echo "apt-get via_sudo=${{FAKE_VIA_SUDO:-0}} frontend=${{DEBIAN_FRONTEND:-}} guard=$guard $*" >> {log}
"""


@dataclass
class Run:
    stdout: str
    returncode: int
    calls: list[str]
    guard: Path

    @property
    def apt(self) -> list[str]:
        return [c for c in self.calls if c.startswith("apt-get ")]

    @property
    def sudo(self) -> list[str]:
        return [c for c in self.calls if c.startswith("sudo ")]


def run(tmp_path: Path, uid: int, sudo: str, *args: str, script: Path = SCRIPT) -> Run:
    fakes, log, guard = tmp_path / "bin", tmp_path / "calls.log", tmp_path / "policy-rc.d"
    fakes.mkdir(exist_ok=True)
    log.touch()
    stand_ins = {"id": _ID, "sudo": _SUDO.format(log=log), "apt-get": _APT.format(guard=guard, log=log)}
    for name, text in stand_ins.items():
        (fakes / name).write_text(text)
        (fakes / name).chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{fakes}:{os.environ['PATH']}",
        "FAKE_UID": str(uid),
        "FAKE_SUDO": sudo,
        "VIBEYARD_POLICY_RC_D": str(guard),
    }
    done = subprocess.run(
        ["bash", str(script), *args], check=False, env=env, capture_output=True, text=True, timeout=120
    )
    return Run(done.stdout, done.returncode, log.read_text().splitlines(), guard)


def one_line(r: Run) -> str:
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert len(lines) == 1, f"expected one line, got {lines}"
    return lines[0]


def assert_installed_with_guard(r: Run, via_sudo: int) -> None:
    """apt-get update, then install of exactly PACKAGES, each with the guard up; the guard gone after."""
    assert len(r.apt) == 2, r.calls
    update, install = r.apt
    for call in r.apt:
        assert f"via_sudo={via_sudo} frontend=noninteractive guard=101 " in call, call
    assert update.endswith(" update -qq"), update
    assert install.split()[-len(PACKAGES) :] == PACKAGES and " install " in install, install
    assert "--no-install-recommends" in install
    assert not r.guard.exists(), "the policy-rc.d guard was left behind"
    assert "redis-server pgbouncer" in one_line(r)


def test_root_runs_apt_itself_with_daemons_kept_from_starting(tmp_path: Path) -> None:
    r = run(tmp_path, 0, "refuses", "--packages", *PACKAGES)
    assert_installed_with_guard(r, via_sudo=0)
    assert not r.sudo, f"root needs no sudo: {r.sudo}"


def test_a_user_with_passwordless_sudo_installs_through_sudo_n(tmp_path: Path) -> None:
    r = run(tmp_path, 1001, "ok", "--packages", *PACKAGES)
    assert_installed_with_guard(r, via_sudo=1)
    assert r.sudo and all(c.startswith("sudo -n ") for c in r.sudo), f"sudo must never prompt: {r.sudo}"


def test_without_root_or_sudo_one_line_names_the_packages_and_nothing_runs(tmp_path: Path) -> None:
    r = run(tmp_path, 1001, "refuses", "--packages", *PACKAGES)
    line = one_line(r)
    assert not r.apt, r.calls
    assert "apt-get install --no-install-recommends redis-server pgbouncer" in line, line
    assert not r.guard.exists()


def test_nothing_to_install_runs_neither_apt_nor_sudo(tmp_path: Path) -> None:
    for uid, sudo in ((0, "refuses"), (1001, "ok"), (1001, "refuses")):
        r = run(tmp_path, uid, sudo, "--packages")
        assert one_line(r) == "test-deps: all present"
        assert not r.calls, r.calls


def test_a_machine_that_has_everything_installs_nothing(tmp_path: Path) -> None:
    """The whole script, its own detection included, on this machine (make test ran it first).

    A copy of the script runs beside a copy of the exporter's pins and its stamp, and a
    CLI installer that has nothing to do, so nothing outside tmp_path is touched."""
    if any(h.startswith("apt-get") for h in tools.missing()) and not tools.in_ci():
        pytest.skip(f"this machine lacks test packages: {tools.missing()}")
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    (repo / "tests" / "real").mkdir(parents=True)
    shutil.copy(SCRIPT, repo / "scripts")
    (repo / "scripts" / "install-cli-tools.sh").write_text("#!/bin/sh\n")
    (repo / "scripts" / "install-cli-tools.sh").chmod(0o755)
    pins = (ROOT / "tests" / "real" / "pgbouncer-exporter.txt").read_bytes()
    (repo / "tests" / "real" / "pgbouncer-exporter.txt").write_bytes(pins)
    stamp = repo / ".tools" / "pgbouncer-exporter" / f".pins-{hashlib.sha256(pins).hexdigest()[:16]}"
    stamp.parent.mkdir(parents=True)
    stamp.touch()
    for uid, sudo in ((0, "refuses"), (1001, "ok")):
        r = run(tmp_path, uid, sudo, script=repo / "scripts" / SCRIPT.name)
        assert one_line(r) == "test-deps: all present"
        assert not r.calls, r.calls
