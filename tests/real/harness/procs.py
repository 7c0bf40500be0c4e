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
import shutil
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
        pid_namespace: bool = False,
    ) -> None:
        """``pipe``: talk to it over stdin/stdout (its stderr still goes to the log).
        ``pid_namespace``: run it as PID 1 of a PID namespace of its own, as a container's
        process is (what it reads about PID 1, e.g. a pidfile saying 1, is then itself)."""
        self.name = name
        self.stop_signal = stop_signal
        self.argv = list(argv)
        self.log = log
        self.pid_namespace = pid_namespace
        self._main_pid: int | None = None
        # The namespace first: after setpriv has dropped root, unshare could not make it.
        namespace = pid_namespace_prefix() if pid_namespace else []
        if namespace and Path(namespace[0]).name == "sudo" and "LD_PRELOAD" in env:
            # The pod's nss_wrapper (its users only) is for the program, not for sudo itself.
            preload = f"LD_PRELOAD={env['LD_PRELOAD']}"
            env_cmd = tools.find("env")
            namespace = [env_cmd, "-u", "LD_PRELOAD", *namespace, env_cmd, preload]
        full = [*namespace, *(run_as.prefix() if run_as else []), *argv]
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
        # ``wait`` joins this thread, so it returns at the exit, not at its next poll.
        self._reaper = threading.Thread(target=self.popen.wait, name=f"reap {name}", daemon=True)
        self._reaper.start()

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def main_pid(self) -> int:
        """The program's own PID as the host sees it: in a PID namespace, the first process
        below the launchers (unshare's child; with sudo, a level or two deeper)."""
        if not self.pid_namespace:
            return self.pid
        deadline = time.monotonic() + 5
        pid = self.pid
        while self._main_pid is None:
            with contextlib.suppress(OSError, ValueError):
                comm = Path(f"/proc/{pid}/comm").read_text().strip()
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
                if comm not in _LAUNCHERS and pid != self.pid:
                    self._main_pid = pid
                elif children:
                    pid = int(children[0])
                    continue
            if self._main_pid is None:
                if not self.alive() or time.monotonic() > deadline:
                    raise HarnessError(f"{self.name}: no process started in its PID namespace: {self.tail()}")
                time.sleep(0.005)
        return self._main_pid

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
        """Its exit code, once it has exited within ``timeout`` seconds; else None."""
        self._reaper.join(timeout)
        return self.popen.returncode

    def kill(self) -> None:
        """A container killed (SIGKILL, OOM, a failed liveness probe): every process in it
        dies at once, as the runtime kills its cgroup. Its group is stopped first so that
        nothing forks, then every descendant is killed: postgres' backends lead sessions of
        their own and would outlive the postmaster, holding its shared memory."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGSTOP)
        everyone = [*reversed(_descendants(self.pid)), self.pid]
        for pid in everyone:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        self.wait(5)
        # Dead, not only signalled: a restart must not find the old one on its port.
        deadline = time.monotonic() + 5
        while any(_running(pid) for pid in everyone) and time.monotonic() < deadline:
            time.sleep(0.005)

    def _signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)

    def stop(self, timeout: float = 5.0, *, signalled: bool = False) -> None:
        """Its stop signal to the group (``signalled``: already sent), then SIGKILL; the
        process is reaped either way."""
        for sig in (self.stop_signal, signal.SIGKILL):
            if self.popen.poll() is not None:
                break
            if not (signalled and sig == self.stop_signal):
                self._signal_group(sig)
            self.wait(timeout)
        self._signal_group(signal.SIGKILL)  # stragglers in the group
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
            time.sleep(0.005)
        raise HarnessError(f"{self.name} did not listen on 127.0.0.1:{port} in {timeout}s: {self.tail()}")


def _running(pid: int) -> bool:
    """Not yet exited (a zombie has exited: its ports and memory are released)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid``, read from /proc (children of each of its threads)."""
    found: list[int] = []
    queue = [pid]
    while queue:
        parent = queue.pop()
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{parent}/task").iterdir():
                with contextlib.suppress(OSError):
                    children = [int(x) for x in (task / "children").read_text().split()]
                    found += children
                    queue += children
    return found


_NAMESPACES: dict[str, list[str]] = {}


def pid_namespace_prefix() -> list[str]:
    """``unshare`` making a PID namespace: as root directly; as anyone else inside a user
    namespace of its own where the kernel allows that, else through passwordless ``sudo``
    and back to this user with ``setpriv`` (GitHub's Ubuntu 24.04 runners refuse
    unprivileged user namespaces through AppArmor, and give the runner user sudo)."""
    if "prefix" not in _NAMESPACES:
        tried = []
        for prefix in _namespace_candidates():
            probe = subprocess.run([*prefix, "true"], capture_output=True, text=True, check=False)
            if probe.returncode == 0:
                _NAMESPACES["prefix"] = prefix
                break
            tried.append(f"{' '.join(prefix[:4])} ...: {probe.stderr.strip() or probe.returncode}")
        else:
            raise HarnessError(
                f"cannot make a PID namespace ({'; '.join(tried)}): run as root, with passwordless "
                "sudo, or where unprivileged user namespaces are allowed"
            )
    return _NAMESPACES["prefix"]


# Processes that only start the program: the program is the first one below them.
_LAUNCHERS = frozenset({"sudo", "unshare", "setpriv"})


def _namespace_candidates() -> list[list[str]]:
    unshare, ns = tools.find("unshare"), ["--pid", "--fork", "--kill-child"]
    if os.geteuid() == 0 and not os.environ.get(VIA_SUDO):
        return [[unshare, *ns]]
    back = [tools.find("setpriv"), f"--reuid={os.getuid()}", f"--regid={os.getgid()}", "--clear-groups", "--"]
    via_sudo = [shutil.which("sudo") or "sudo", "-n", "--preserve-env", unshare, *ns, *back]
    own = [unshare, "--user", *ns]
    return [via_sudo] if os.environ.get(VIA_SUDO) else [own, via_sudo]


# Set, the sudo path is the only one tried: how it is tested where user namespaces work.
VIA_SUDO = "VIBEYARD_PIDNS_VIA_SUDO"


def register(proc: Proc) -> None:
    """Stopped by ``stop_all`` (session end, exit) if nothing stopped it before."""
    _RUNNING.append(proc)


def stop_together(group: Sequence[Proc], timeout: float = 5.0) -> None:
    """Stop every process of ``group``: all stop signals first, then the waits, so that
    stopping several costs what the slowest one takes, not their sum."""
    running = [p for p in group if p.alive()]
    for proc in running:
        proc._signal_group(proc.stop_signal)
    for proc in group:
        proc.stop(timeout, signalled=proc in running)


def stop_all() -> None:
    stop_together(list(reversed(_RUNNING)), timeout=2.0)


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
