"""Prometheus exporters next to the real servers, and what they expose.

A container named ``exporter`` in a server's pod is a sidecar: it is started with its
rendered args and env, addresses made local (the pod's own ports through the pod's
port map, Services through the cluster). Until a pod has one, an exporter of the same
software is started against the server with equivalent settings, so the metric names
the rules use can still be checked against a real scrape.
"""

from __future__ import annotations

import re
import signal
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from tests.validators.manifests import load_yaml

from . import procs, tools
from .pgbouncer import PgBouncer
from .pods import Container, Pod
from .procs import HarnessError
from .servers import Postgres, Redis

# image name fragment -> (local binary, its listen flag, its default port)
LOCAL_BUILDS = {
    "redis_exporter": ("prometheus-redis-exporter", "-web.listen-address", 9121),
    "postgres-exporter": ("prometheus-postgres-exporter", "--web.listen-address", 9187),
    "postgres_exporter": ("prometheus-postgres-exporter", "--web.listen-address", 9187),
    "spreaker/prometheus-pgbouncer-exporter": ("pgbouncer-exporter", "", 9127),
    # No registry ships prometheus-community's Go exporter, and Debian's Go is too old to
    # build it: spreaker's exporter stands in. Both read SHOW POOLS and name those series
    # alike (pgbouncer_up, pgbouncer_pools_*), the only pgbouncer series the rules and
    # dashboards may use (see COMMUNITY_PGBOUNCER_NAMES).
    "prometheuscommunity/pgbouncer-exporter": ("pgbouncer-exporter", "", 9127),
}
COMMUNITY_PGBOUNCER_NAMES = ("pgbouncer_up", "pgbouncer_pools_")
_LISTEN_FLAG = re.compile(r"^(-{1,2}web\.listen-address=)(.*)$")
LISTEN_ENV = {"REDIS_EXPORTER_WEB_LISTEN_ADDRESS", "PG_EXPORTER_WEB_LISTEN_ADDRESS"}
LOOPBACK = {"", "localhost", "127.0.0.1", "0.0.0.0", "::", "[::]", "::1"}
_HOSTPORT = re.compile(r"^(?P<host>[A-Za-z0-9.\-\[\]:]*?):(?P<port>\d+)$")


class Exporter:
    def __init__(self, name: str, argv: list[str], env: dict[str, str], port: int, log: Path) -> None:
        self.name, self.port = name, port
        self.proc = procs.Proc(name, argv, env=env, log=log, stop_signal=signal.SIGKILL)
        self.proc.wait_port(port)

    def scrape(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=10) as resp:
            text: str = resp.read().decode()
        return text

    def stop(self) -> None:
        self.proc.stop(timeout=1.0)


def metric_names(exposition: str) -> set[str]:
    names = set()
    for line in exposition.splitlines():
        if line and not line.startswith("#"):
            names.add(re.split(r"[{\s]", line, maxsplit=1)[0])
    return names


def sidecar(pod: Pod) -> Container | None:
    return next((c for c in pod.containers() if c.name == "exporter"), None)


def _build(c: Container) -> tuple[str, str, int]:
    image = c.image.split("@")[0].rsplit(":", 1)[0]
    for fragment, build in LOCAL_BUILDS.items():
        if fragment in image:
            return build
    raise HarnessError(f"{c.pod.name}/exporter: no local build of {c.image}; see docs/testing.md")


def localize(pod: Pod, value: str) -> str:
    """Addresses in one arg or env value, as the sidecar would reach them from the pod."""
    if "://" in value:
        parts = urlsplit(value)
        if parts.hostname is None:
            return value
        port = pod.ports.get(parts.port or 0) if parts.hostname in LOOPBACK else None
        if port is None and parts.hostname not in LOOPBACK:
            port = pod.cluster.resolve(parts.hostname, parts.port or 0)
        if port is None:
            return value
        auth = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
        return parts._replace(netloc=f"{auth}127.0.0.1:{port}").geturl()
    address, slash, rest = value.partition("/")  # postgres_exporter's DATA_SOURCE_URI: host:port/db?...
    m = _HOSTPORT.match(address)
    if m and m.group("host") in LOOPBACK and int(m.group("port")) in pod.ports:
        return f"127.0.0.1:{pod.ports[int(m.group('port'))]}{slash}{rest}"
    return value


def start_sidecar(pod: Pod) -> Exporter:
    c = sidecar(pod)
    assert c is not None
    binary, listen_flag, default_port = _build(c)
    declared = [int(p["containerPort"]) for p in c.spec.get("ports", [])]
    if not declared:
        raise HarnessError(f"{pod.name}/exporter: declares no containerPort for Prometheus to scrape")
    port = pod.ports[declared[0]]
    env = {k: localize(pod, v) for k, v in c.host_env().items()}
    args = [localize(pod, a) for a in c.argv()[1:]] if c.spec.get("command") else c.argv()
    # The rendered listen address names the pod's port; locally it is a free loopback one.
    args = [_local_listen(a, declared[0], port) for a in args]
    env = {k: (f"127.0.0.1:{port}" if k in LISTEN_ENV else v) for k, v in env.items()}
    if "prometheuscommunity/pgbouncer-exporter" in c.image:
        return _community_pgbouncer(pod, args, env, port)
    if binary == "pgbouncer-exporter":
        return _spreaker(pod, c, env, args, port)
    listens = any(k in env for k in LISTEN_ENV) or any(a.lstrip("-").startswith("web.listen") for a in args)
    if not listens:
        if declared[0] != default_port:
            raise HarnessError(f"{pod.name}/exporter: listens on {default_port}, declares {declared[0]}")
        args += [listen_flag, f"127.0.0.1:{port}"]
    log = pod.dir / "exporter.log"
    return Exporter(f"{pod.name}/exporter", [tools.find(binary), *args], env, port, log)


def _local_listen(arg: str, declared: int, port: int) -> str:
    m = _LISTEN_FLAG.match(arg)
    if m is None:
        return arg
    host_port = _HOSTPORT.match(m.group(2))
    if host_port is None or int(host_port.group("port")) != declared:
        raise HarnessError(f"exporter: {arg} does not listen on the declared containerPort {declared}")
    return f"{m.group(1)}127.0.0.1:{port}"


def _community_pgbouncer(pod: Pod, args: list[str], env: dict[str, str], port: int) -> Exporter:
    """prometheus-community's exporter, as spreaker's: the same admin-console DSN, the same port.
    Both drivers (lib/pq there, libpq here) read a password missing from the DSN from PGPASSWORD."""
    flag = "--pgBouncer.connectionString="
    dsn = next((a.removeprefix(flag) for a in args if a.startswith(flag)), None)
    if dsn is None:
        raise HarnessError(f"{pod.name}/exporter: no {flag}... argument")
    cfg = {
        "exporter_host": "127.0.0.1",
        "exporter_port": port,
        "pgbouncers": [{"dsn": localize(pod, dsn.split("?", 1)[0]), "connect_timeout": 5}],
    }
    local = pod.dir / "exporter-config.yml"
    local.write_text(yaml.safe_dump(cfg))
    argv = [tools.find("pgbouncer-exporter"), "--config", str(local)]
    base = {"PATH": "/usr/bin:/bin", "HOME": str(pod.dir)}
    if "PGPASSWORD" in env:
        base["PGPASSWORD"] = env["PGPASSWORD"]
    return Exporter(f"{pod.name}/exporter", argv, base, port, pod.dir / "exporter.log")


def _spreaker(pod: Pod, c: Container, env: dict[str, str], args: list[str], port: int) -> Exporter:
    """spreaker's exporter reads a YAML config, substituting $(VAR) from its env itself;
    the image's built-in config is its documented default (DOCKER-IMAGE.md)."""
    path = next((a for i, a in enumerate(args) if i and args[i - 1] == "--config"), None)
    image_env = {
        "PGBOUNCER_EXPORTER_HOST": "127.0.0.1",
        "PGBOUNCER_EXPORTER_PORT": "9127",
        "PGBOUNCER_USER": "pgbouncer",
        "PGBOUNCER_PASS": "",
        "PGBOUNCER_HOST": "localhost",
        "PGBOUNCER_PORT": "6432",
        **env,
    }
    if path:
        text = Path(path).read_text()
    else:
        text = (
            "exporter_host: $(PGBOUNCER_EXPORTER_HOST)\nexporter_port: $(PGBOUNCER_EXPORTER_PORT)\n"
            "pgbouncers:\n  - dsn: postgresql://$(PGBOUNCER_USER):$(PGBOUNCER_PASS)@$(PGBOUNCER_HOST):"
            "$(PGBOUNCER_PORT)/pgbouncer\n    connect_timeout: 5\n"
        )
    text = re.sub(r"\$\(([^)]+)\)", lambda m: image_env.get(m.group(1), m.group(0)), text)
    cfg = load_yaml(text)
    if int(cfg.get("exporter_port", 9100)) != int(c.spec["ports"][0]["containerPort"]):
        raise HarnessError(
            f"{pod.name}/exporter: listens on {cfg.get('exporter_port')}, declares another port"
        )
    cfg["exporter_host"], cfg["exporter_port"] = "127.0.0.1", port
    for target in cfg.get("pgbouncers", []):
        target["dsn"] = localize(pod, target["dsn"])
    local = pod.dir / "exporter-config.yml"
    local.write_text(yaml.safe_dump(cfg))
    argv = [tools.find("pgbouncer-exporter"), "--config", str(local)]
    return Exporter(f"{pod.name}/exporter", argv, env, port, pod.dir / "exporter.log")


def start_equivalent(server: Redis | Postgres | PgBouncer, user: str = "", password: str = "") -> Exporter:
    """For a pod without a sidecar: the same software's exporter, pointed at the server."""
    pod, port = server.pod, procs.free_port()
    log = pod.dir / "exporter.log"
    base = {"PATH": "/usr/bin:/bin", "HOME": str(pod.dir)}
    if isinstance(server, Redis):
        env = {
            **base,
            "REDIS_ADDR": f"redis://127.0.0.1:{server.port}",
            "REDIS_PASSWORD": server.password or "",
        }
        argv = [tools.find("prometheus-redis-exporter"), "-web.listen-address", f"127.0.0.1:{port}"]
        return Exporter(f"{pod.name}/exporter", argv, env, port, log)
    if isinstance(server, Postgres):
        dsn = f"postgresql://{server.user}:{server.password}@127.0.0.1:{server.port}/{server.database}?sslmode=disable"
        argv = [tools.find("prometheus-postgres-exporter"), f"--web.listen-address=127.0.0.1:{port}"]
        return Exporter(f"{pod.name}/exporter", argv, {**base, "DATA_SOURCE_NAME": dsn}, port, log)
    cfg = {
        "exporter_host": "127.0.0.1",
        "exporter_port": port,
        "pgbouncers": [{"dsn": f"postgresql://{user}:{password}@127.0.0.1:{server.port}/pgbouncer"}],
    }
    local = pod.dir / "exporter-config.yml"
    local.write_text(yaml.safe_dump(cfg))
    argv = [tools.find("pgbouncer-exporter"), "--config", str(local)]
    return Exporter(f"{pod.name}/exporter", argv, base, port, log)
