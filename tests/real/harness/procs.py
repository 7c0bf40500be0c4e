"""Start processes as the pod's user, on loopback, and always stop them.

Every process gets its own process group and is registered, so a failing test, an
interrupted session or a crashed fixture still leaves nothing running (``stop_all``
runs at session end and at exit). As root, a process runs as the pod's
runAsUser/runAsGroup with fsGroup as its supplementary group, as the kubelet does;
postgres refuses to run as root anyway.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import tools

_RUNNING: list[Proc] = []


class HarnessError(AssertionError):
    """A rendered component did not behave; the message is the test's one line."""


@dataclass(frozen=True)
class RunAs:
    uid: int
    gid: int
    fs_group: int | None = None

    @property
    def active(self) -> bool:
        """Switching users needs root; as anyone else, run as yourself."""
        return os.geteuid() == 0

    def prefix(self) -> list[str]:
        if not self.active:
            return []
        groups = ["--groups", str(self.fs_group)] if self.fs_group is not None else ["--clear-groups"]
        return [tools.find("setpriv"), f"--reuid={self.uid}", f"--regid={self.gid}", *groups]

    def own(self, path: Path, mode: int | None = None) -> None:
        """Give ``path`` to the pod the way the kubelet does for a volume with fsGroup."""
        if self.active:
            os.chown(path, self.uid, self.fs_group if self.fs_group is not None else self.gid)
        if mode is not None:
            path.chmod(mode)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Proc:
    """One started process (group), its log, and a way to stop it for good."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        log: Path,
        run_as: RunAs | None = None,
        cwd: Path | None = None,
        pipe: bool = False,
        stop_signal: int = signal.SIGTERM,
    ) -> None:
        """``pipe``: talk to it over stdin/stdout (its stderr still goes to the log)."""
        self.name = name
        self.stop_signal = stop_signal
        self.argv = list(argv)
        self.log = log
        full = [*(run_as.prefix() if run_as else []), *argv]
        with log.open("ab") as out:
            self.popen = subprocess.Popen(
                full,
                env=dict(env),
                stdin=subprocess.PIPE if pipe else subprocess.DEVNULL,
                stdout=subprocess.PIPE if pipe else out,
                stderr=out if pipe else subprocess.STDOUT,
                cwd=cwd,
                start_new_session=True,
            )
        register(self)
        # Reap it the moment it exits, as a container's end would: a zombie would still
        # answer ``kill -0`` and keep a preStop hook that waits for the exit waiting.
        threading.Thread(target=self.popen.wait, name=f"reap {name}", daemon=True).start()

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, lines: int = 8) -> str:
        try:
            text = self.log.read_text(errors="replace").strip().splitlines()
        except FileNotFoundError:
            return ""
        return " | ".join(text[-lines:])

    def signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, sig)

    def wait(self, timeout: float) -> int | None:
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout: float = 5.0) -> None:
        """Its stop signal to the group, then SIGKILL; the process is reaped either way."""
        for sig in (self.stop_signal, signal.SIGKILL):
            if self.popen.poll() is not None:
                break
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)  # stragglers in the group
        if self in _RUNNING:
            _RUNNING.remove(self)

    def wait_port(self, port: int, timeout: float = 10.0) -> None:
        """Until something accepts on 127.0.0.1:port; fail early if the process died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise HarnessError(f"{self.name} exited with {self.popen.returncode}: {self.tail()}")
            with socket.socket() as s:
                s.settimeout(0.2)
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.02)
        raise HarnessError(f"{self.name} did not listen on 127.0.0.1:{port} in {timeout}s: {self.tail()}")


def register(proc: Proc) -> None:
    """Stopped by ``stop_all`` (session end, exit) if nothing stopped it before."""
    _RUNNING.append(proc)


def stop_all() -> None:
    for proc in list(reversed(_RUNNING)):
        proc.stop(timeout=2.0)


atexit.register(stop_all)


def run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    run_as: RunAs | None = None,
    timeout: float = 30.0,
    cwd: Path | None = None,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """A short command, its output captured; never raises on a non-zero exit."""
    full = [*(run_as.prefix() if run_as else []), *argv]
    return subprocess.run(
        full,
        env=dict(env) if env is not None else None,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=cwd,
        input=input,
    )
