"""Stand-ins for the few commands whose meaning depends on being inside the pod.

A probe or hook runs verbatim with these first on PATH. Each one maps the pod's view
onto the loopback stand-in and otherwise execs the real tool:

- ``redis-cli``, ``pg_isready``, ``psql``: 127.0.0.1:<containerPort> (or the tool's default
  port) is the pod's own port, remapped to its free loopback port; a port the pod does not
  serve maps to a closed one, so a probe aimed at the wrong port fails as it would.
  A Unix-socket directory under a mount is remapped like any mount path.
- ``sleep``: advances the pod's virtual clock instead of waiting (a 5 s preStop sleep costs
  nothing); it ends at once if the container's process is gone, as the kubelet cuts a hook.
- ``kill``, ``killall``, ``pkill``: PID 1 and the container's program name mean the
  container's main process; the signal is translated for the image's version (see
  ``servers.SIGNAL_SEMANTICS``).

Config comes from the JSON file named by ``VIBEYARD_POD``. Run as ``podshim.py TOOL ARGS``.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

CLOSED_PORT = "1"  # privileged and never served on loopback: connection refused
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
DEFAULT_PORTS = {"redis-cli": 6379, "pg_isready": 5432, "psql": 5432}


def _config() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(os.environ["VIBEYARD_POD"]).read_text())
    return data


def _local_port(cfg: dict[str, Any], host: str | None, port: int) -> str:
    if host is None or host in LOOPBACK:
        if str(port) not in cfg["ports"]:
            print(f"(pod shim: the pod serves no port {port})", file=sys.stderr)
        return str(cfg["ports"].get(str(port), CLOSED_PORT))
    return str(cfg["services"].get(f"{host}:{port}", CLOSED_PORT))  # unknown host: refused


def _remap_path(cfg: dict[str, Any], path: str) -> str:
    mounts: dict[str, str] = cfg["mounts"]
    for mount in sorted(mounts, key=len, reverse=True):
        if path == mount or path.startswith(mount.rstrip("/") + "/"):
            return mounts[mount] + path[len(mount) :]
    return path


def _net_tool(cfg: dict[str, Any], tool: str, args: list[str]) -> list[str]:
    host_flags, port_flags = ("-h", "--host"), ("-p", "--port")
    host: str | None = os.environ.get("PGHOST") if tool != "redis-cli" else None
    port = DEFAULT_PORTS[tool]
    if tool != "redis-cli" and os.environ.get("PGPORT"):
        port = int(os.environ["PGPORT"])
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        flag, _, inline = arg.partition("=")
        if flag in host_flags or flag in port_flags:
            value = inline if inline else args[i + 1]
            i += 1 if inline else 2
            if flag in host_flags:
                host = value
            else:
                port = int(value)
            continue
        rest.append(arg)
        i += 1
    if host is not None and host.startswith("/"):  # a Unix-socket directory
        return ["-h", _remap_path(cfg, host), "-p", str(cfg["ports"].get(str(port), CLOSED_PORT)), *rest]
    if host is None and tool != "redis-cli":
        socket_dir = cfg.get("socket_dir")
        if socket_dir:
            return ["-h", socket_dir, "-p", str(cfg["ports"].get(str(port), CLOSED_PORT)), *rest]
    # Options first: redis-cli reads everything after the command name as its arguments.
    return ["-h", "127.0.0.1", "-p", _local_port(cfg, host, port), *rest]


def _main_pid(cfg: dict[str, Any]) -> int | None:
    pid_file = Path(cfg["pid_file"])
    if not pid_file.exists():
        return None
    pid = int(pid_file.read_text())
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


def _deliver(cfg: dict[str, Any], signame: str) -> int:
    pid = _main_pid(cfg)
    if pid is None:
        print(f"{cfg['program']}: no process found", file=sys.stderr)
        return 1
    if signame == "0":  # `kill -0`: is it still there?
        return 0
    action = cfg["signals"].get(signame, signame)
    with Path(cfg["signal_log"]).open("a") as log:
        log.write(f"{signame}->{action}\n")
    if action == "WAIT_FOR_CLIENTS":  # the image waits for every client; the harness knows its own
        if int(Path(cfg["clients_file"]).read_text() or "0") > 0:
            return 0
        action = "INT"
    os.kill(pid, getattr(signal, f"SIG{action}"))
    return 0


def _signal_name(arg: str) -> str:
    name = arg.lstrip("-").upper().removeprefix("SIG")
    if name.isdigit():
        return "0" if name == "0" else signal.Signals(int(name)).name.removeprefix("SIG")
    return name


def _kill(cfg: dict[str, Any], tool: str, args: list[str]) -> int:
    signame, targets = "TERM", []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in ("-s", "--signal"):
            signame, i = _signal_name(args[i + 1]), i + 2
            continue
        if arg.startswith("-") and len(arg) > 1:
            signame = _signal_name(arg)
        else:
            targets.append(arg)
        i += 1
    ours = {"1", str(_main_pid(cfg)), cfg["program"]}
    if not targets or any(t not in ours for t in targets):
        print(
            f"{tool}: only the container's own process ({cfg['program']}, PID 1) exists here", file=sys.stderr
        )
        return 1
    return _deliver(cfg, signame)


def _sleep(cfg: dict[str, Any], args: list[str]) -> int:
    seconds = sum(float(a.rstrip("s")) for a in args)
    clock = Path(cfg["clock"])
    if cfg.get("pid_file") and _main_pid(cfg) is None and Path(cfg["pid_file"]).exists():
        return 1  # the container is gone: the kubelet has cut the hook short
    clock.write_text(str(float(clock.read_text() or "0") + seconds))
    return 0


def main(argv: list[str]) -> int:
    tool, args = argv[0], argv[1:]
    cfg = _config()
    if tool == "sleep":
        return _sleep(cfg, args)
    if tool in ("kill", "killall", "pkill"):
        return _kill(cfg, tool, args)
    real = cfg["tools"][tool]
    os.execv(real, [real, *_net_tool(cfg, tool, args)])
    return 127  # unreachable


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
