"""Redis, PostgreSQL and PgBouncer started from their rendered pods.

Each server runs the rendered command, args, env and config files; the harness only adds
what confines it to loopback (listen address and the pod's free port). Where the image's
entrypoint does work before the server starts (postgres' initdb, edoburu's ini from env),
that step is reproduced here from the image's documented behaviour, and says so.
"""

from __future__ import annotations

import json
import re
import signal
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from . import procs, tools
from .pods import Cluster, Container, Pod
from .procs import HarnessError

# How the image's version reads a signal, in terms of the local (Debian) build's signals.
# PgBouncer >= 1.23: SIGTERM waits for every client to disconnect, SIGQUIT is the old
# immediate SIGTERM; SIGINT (wait for server connections) is unchanged.
SIGNAL_SEMANTICS: dict[str, list[tuple[tuple[int, ...], dict[str, str]]]] = {
    "pgbouncer": [((1, 23), {"TERM": "WAIT_FOR_CLIENTS", "QUIT": "TERM"})],
}
# How long a server that has been signalled is given before the harness calls it stuck
# (a process still waiting after this would be waiting for something that never comes here).
STUCK_AFTER = 0.5
# Probe fields that say when and how often a probe runs, not what one run checks.
PROBE_SCHEDULE = frozenset(
    {"initialDelaySeconds", "periodSeconds", "successThreshold", "failureThreshold"}
    | {"terminationGracePeriodSeconds"}
)
# Initialised data directories, by (user, password, initdb args, run-as): see Postgres.start.
_INITDB: dict[tuple[str, str, str, procs.RunAs], Path] = {}


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", text)[:3])


def signal_table(program: str, image_version: str) -> dict[str, str]:
    table: dict[str, str] = {}
    for since, mapping in SIGNAL_SEMANTICS.get(program, []):
        if _version(image_version) >= since:
            table = mapping
    return table


def main_container(pod: Pod, program: str) -> Container:
    """The container that runs ``program`` (by command, or by image name)."""
    for c in pod.containers():
        argv = c.argv()
        if argv and Path(argv[0]).name == program:
            return c
    for c in pod.containers():
        if c.name != "exporter" and program in c.image.rsplit("/", 1)[-1]:
            return c
    raise HarnessError(f"{pod.name}: no container runs {program}")


def _container_port(c: Container) -> int:
    ports = c.spec.get("ports", [])
    if not ports:
        raise HarnessError(f"{c.pod.name}/{c.name}: declares no containerPort")
    return int(ports[0]["containerPort"])


class Server:
    """A started main container: its process, port, and the kubelet's stop sequence."""

    program = ""
    stop_signal = signal.SIGTERM

    def __init__(self, pod: Pod) -> None:
        self.pod = pod
        self.c = main_container(pod, self.program)
        self.container_port = _container_port(self.c)
        self.port = pod.ports[self.container_port]
        self.proc: procs.Proc | None = None
        self.c.signals = signal_table(self.program, self.c.image_version)
        # PID 1 of its own PID namespace, as in the pod: set where a test depends on it
        # (a restarted container sees its previous run's pidfile saying 1).
        self.pid_namespace = False

    def _spawn(self, argv: list[str], env: dict[str, str] | None = None) -> procs.Proc:
        self.pod.run_init_containers()
        proc = procs.Proc(
            f"{self.pod.cluster.env}/{self.pod.name}",
            argv,
            env=env or self.c.host_env(),
            log=self.pod.dir / f"{self.c.name}.log",
            run_as=self.c.run_as,
            cwd=self.pod.dir,
            stop_signal=self.stop_signal,
            pid_namespace=self.pid_namespace,
        )
        self.proc = proc
        self.pod.procs.append(proc)
        self.c.pid_file.write_text(str(proc.main_pid))
        proc.wait_port(self.port)
        return proc

    def probes(self) -> dict[str, tuple[bool, str]]:
        """Each rendered probe run once. Probes that differ only in when and how often they
        run (startup, readiness and liveness often do) are one run: the same check."""
        results: dict[str, tuple[bool, str]] = {}
        done: dict[str, tuple[bool, str]] = {}
        for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
            spec = self.c.spec.get(kind, {})
            check = json.dumps({k: v for k, v in spec.items() if k not in PROBE_SCHEDULE}, sort_keys=True)
            if check not in done:
                done[check] = self.c.probe(kind)
            results[kind] = done[check]
        return results

    def wait_ready(self, timeout: float = 15.0) -> None:
        """Until the rendered readiness probe passes, as a Service sends traffic only then
        (a restarted Redis listens while it still loads its data: LOADING)."""
        deadline = time.monotonic() + timeout
        while True:
            ready, what = self.c.probe("readinessProbe")
            if ready:
                return
            if time.monotonic() > deadline or (self.proc is not None and not self.proc.alive()):
                raise HarnessError(f"{self.pod.name}: not ready after {timeout}s: {what}")
            time.sleep(0.01)

    def kill(self) -> None:
        """SIGKILL, as a liveness kill or the OOM killer ends the container; its volumes
        (emptyDirs included) stay, and ``start()`` again is the container's restart."""
        assert self.proc is not None
        self.proc.kill()

    def terminate(self) -> tuple[bool, float, str]:
        """The kubelet's stop: preStop hook, then SIGTERM, SIGKILL at the grace period.
        Returns (exited before the grace period, seconds used, what happened)."""
        assert self.proc is not None
        self.c.shim_dir()  # the pod's view (clock, signal log), also for a container without a hook
        grace, start = float(self.pod.grace), time.monotonic()
        notes = []
        hook = self.c.spec.get("lifecycle", {}).get("preStop", {})
        if "exec" in hook:
            r = self.c.exec_in_pod(hook["exec"]["command"], timeout=grace)
            notes.append(f"preStop exit {r.returncode}")
        elif hook:
            raise HarnessError(f"{self.pod.name}: preStop handler not modelled: {hook}")
        virtual = float(self.c.clock.read_text() or "0")
        if self.proc.alive():
            action = self.c.signals.get("TERM", "TERM")
            notes.append(f"SIGTERM ({action})")
            clients = int(self.c.clients_file.read_text() or "0")
            if action == "WAIT_FOR_CLIENTS" and clients > 0:
                notes.append(f"{clients} client(s) still connected")
            else:
                self.proc.signal(
                    getattr(signal, "SIGINT" if action == "WAIT_FOR_CLIENTS" else f"SIG{action}")
                )
        self.proc.wait(STUCK_AFTER)
        used = virtual + time.monotonic() - start
        exited = not self.proc.alive()
        if not exited:
            used = max(used, grace + 1)
            notes.append("still running: the kubelet SIGKILLs it at the grace period")
            self.proc.stop()
        notes.append(f"signals {self.c.signal_log.read_text().split()}")
        return exited and used <= grace, used, "; ".join(notes)


class Redis(Server):
    program = "redis-server"
    # Nothing of a test's Redis is kept once it is stopped: SIGTERM would only make it save
    # and wait for its next cron tick (up to 100 ms). Where a test needs the kubelet's
    # SIGTERM, it sends it (the cache's restart, ``terminate``).
    stop_signal = signal.SIGKILL

    def argv(self) -> list[str]:
        argv = self.c.argv()
        # The image's entrypoint prepends redis-server to flags or a bare config path.
        if not argv or argv[0].startswith("-") or argv[0].endswith(".conf"):
            argv = ["redis-server", *argv]
        return [tools.find("redis-server"), *argv[1:]]

    def config_text(self) -> str:
        """The rendered config file the server is started with ('' if none)."""
        for word in self.argv()[1:]:
            if word.endswith(".conf") and Path(word).exists():
                return Path(word).read_text()
        return ""

    def directive(self, name: str) -> str | None:
        """A directive's last value, the command line overriding the file, as redis reads them."""
        value = None
        for line in self.config_text().splitlines():
            words = line.split(None, 1)
            if words and words[0].lower() == name:
                value = words[1].strip() if len(words) > 1 else ""
        argv = self.argv()
        for i, word in enumerate(argv):
            if word == f"--{name}" and i + 1 < len(argv):
                value = argv[i + 1]
        return value

    def start(self) -> Redis:
        # Loopback and the free port last: command-line options override the file.
        self._spawn([*self.argv(), "--bind", "127.0.0.1", "--port", str(self.port)])
        return self

    @property
    def password(self) -> str | None:
        """What the server requires: ``requirepass`` in the config or a file it includes."""
        value = self.directive("requirepass")
        for line in self.config_text().splitlines():
            words = line.split(None, 1)
            if len(words) == 2 and words[0].lower() == "include":
                included = Path(self.pod.remap(words[1].strip(), self.c.mounts))
                text = included.read_text() if included.exists() else ""
                for inner in text.splitlines():
                    parts = inner.split(None, 1)
                    if len(parts) == 2 and parts[0].lower() == "requirepass":
                        value = parts[1].strip()
        if value and value.startswith('"') and value.endswith('"'):  # Redis's quoted string
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        return value

    def cli(self, *args: str, password: str | None = "") -> str:
        pw = self.password if password == "" else password
        auth = ["-a", pw, "--no-auth-warning"] if pw else []
        r = procs.run([tools.find("redis-cli"), "-h", "127.0.0.1", "-p", str(self.port), *auth, *args])
        return (r.stdout + r.stderr).strip()


class Postgres(Server):
    """The postgres image's entrypoint, reproduced: initdb as the pod user from POSTGRES_USER,
    POSTGRES_PASSWORD and PGDATA; the server; then POSTGRES_DB. Other pods connect from a pod
    IP, never 127.0.0.1, so every TCP login needs the password (the image's
    ``host all all all scram-sha-256``); only the Unix socket trusts, as in the image."""

    program = "postgres"
    stop_signal = signal.SIGINT  # fast shutdown: SIGTERM would wait for pgbouncer's connections
    tls = False  # a managed database's stand-in serves TLS, as RDS and Cloud SQL do

    def start(self) -> Postgres:
        self._launch()
        self._ready()
        if self.database != "postgres":
            self.sql(f'CREATE DATABASE "{self.database}"', database="postgres", ignore_exists=True)
        return self

    def start_in_recovery(self) -> Postgres:
        """The restart of a crashed server, held in recovery: as a standby without hot
        standby (standby.signal, hot_standby=off) it replays its WAL, then refuses every
        connection with 57P03 until ``promote()``, as a recovering server does, for as
        long as the test needs. Only its port is waited for."""
        pgdata: Path | None = getattr(self, "pgdata", None)
        if pgdata is None or not (pgdata / "PG_VERSION").exists():
            raise HarnessError(f"{self.pod.name}: start it once before a restart in recovery")
        signal_file = pgdata / "standby.signal"
        signal_file.write_text("")
        self.c.run_as.own(signal_file, 0o600)
        self._launch(["-c", "hot_standby=off"])
        return self

    def promote(self) -> None:
        """End the recovery ``start_in_recovery`` holds; the server then accepts connections."""
        argv = [tools.find("pg_ctl"), "promote", "-D", str(self.pgdata), "-w", "-t", "15"]
        r = procs.run(argv, env=self.c.host_env(), run_as=self.c.run_as, cwd=self.pod.dir)
        if r.returncode != 0:
            raise HarnessError(f"{self.pod.name}: pg_ctl promote: {(r.stderr or r.stdout).strip()[-300:]}")
        self._ready()

    def _launch(self, extra: tuple[str, ...] | list[str] = ()) -> None:
        """The image's entrypoint: initdb on a first start, then the server."""
        env = self.c.env()
        user = env.get("POSTGRES_USER", "postgres")
        password = env.get("POSTGRES_PASSWORD")
        if not password:
            raise HarnessError(f"{self.pod.name}: POSTGRES_PASSWORD is empty; the image refuses to start")
        pgdata = Path(env.get("PGDATA", self.pod.remap("/var/lib/postgresql/data", self.c.mounts)))
        socket_dir = self.pod.remap("/var/run/postgresql", self.c.mounts)
        if socket_dir == "/var/run/postgresql":
            socket_dir = str(self.pod.dir / "run")
            Path(socket_dir).mkdir(exist_ok=True)
            self.c.run_as.own(Path(socket_dir), 0o2777)
        self.c.socket_dir = socket_dir
        self.user, self.password, self.database = user, password, env.get("POSTGRES_DB", user)
        self.socket = socket_dir
        self.pgdata = pgdata
        template_key = (user, password, env.get("POSTGRES_INITDB_ARGS", ""), self.c.run_as)
        if not (pgdata / "PG_VERSION").exists() and template_key in _INITDB:
            # initdb's output depends only on these inputs: reuse it (initdb takes seconds).
            r = procs.run(["cp", "-a", str(_INITDB[template_key]), str(pgdata)])
            if r.returncode != 0:
                raise HarnessError(f"{self.pod.name}: cannot copy PGDATA: {r.stderr.strip()}")
        if not (pgdata / "PG_VERSION").exists():
            pwfile = self.pod.dir / "pwfile"
            pwfile.write_text(password + "\n")
            self.c.run_as.own(pwfile, 0o600)
            r = procs.run(["mkdir", "-p", str(pgdata)], run_as=self.c.run_as)
            if r.returncode != 0:
                raise HarnessError(f"{self.pod.name}: cannot create PGDATA {pgdata}: {r.stderr.strip()}")
            pgdata.chmod(0o700)
            init = [tools.find("initdb"), "-D", str(pgdata), f"--username={user}", f"--pwfile={pwfile}"]
            init += ["--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync"]
            init += env.get("POSTGRES_INITDB_ARGS", "").split()
            r = procs.run(init, env=self.c.host_env(), run_as=self.c.run_as, cwd=self.pod.dir)
            if r.returncode != 0:
                raise HarnessError(f"{self.pod.name}: initdb failed: {(r.stderr or r.stdout).strip()[-400:]}")
            pwfile.unlink()
            template = self.pod.cluster.root.parent / f"initdb-{len(_INITDB)}"
            procs.run(["cp", "-a", str(pgdata), str(template)])
            _INITDB[template_key] = template
        argv = [tools.find("postgres"), "-D", str(pgdata), *self.c.argv()[1:]]
        argv += ["-c", "listen_addresses=127.0.0.1", "-p", str(self.port)]
        argv += ["-c", f"unix_socket_directories={socket_dir}", "-c", "fsync=off"]
        argv += self._tls_args() if self.tls else []
        self._spawn([*argv, *extra])

    def _tls_args(self) -> list[str]:
        """A throwaway self-signed certificate, owned by the server's user (a P-256 key:
        generating an RSA one costs a quarter of a second of CPU each time)."""
        cert, key = self.pod.dir / "server.crt", self.pod.dir / "server.key"
        subject = ["-subj", "/CN=managed-db", "-keyout", str(key), "-out", str(cert)]
        new_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
        r = procs.run(["openssl", "req", "-x509", *new_key, "-nodes", "-days", "1", *subject])
        if r.returncode != 0:
            raise HarnessError(f"{self.pod.name}: openssl: {r.stderr.strip()[-200:]}")
        self.c.run_as.own(key, 0o600)
        self.c.run_as.own(cert, 0o644)
        return ["-c", "ssl=on", "-c", f"ssl_cert_file={cert}", "-c", f"ssl_key_file={key}"]

    def _ready(self, timeout: float = 15.0) -> None:
        """The port opens before recovery ends ("the database system is starting up")."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sql("SELECT 1", database="postgres")
                return
            except psycopg.OperationalError as err:
                if time.monotonic() > deadline or not self.proc or not self.proc.alive():
                    raise HarnessError(f"{self.pod.name}: not ready: {err}") from None
                time.sleep(0.01)

    def sql(self, query: str, *, database: str | None = None, ignore_exists: bool = False) -> str:
        try:
            with psycopg.connect(
                host=self.socket,
                port=self.port,
                user=self.user,
                dbname=database or self.database,
                autocommit=True,
            ) as conn:
                cur = conn.execute(query.encode())
                row = cur.fetchone() if cur.description else None
                return str(row[0]) if row else ""
        except psycopg.errors.DuplicateDatabase:
            if not ignore_exists:
                raise
            return ""

    @classmethod
    def standin(cls, cluster: Cluster, host: str, port: int, *, start: bool = True) -> Postgres:
        """A database for an environment whose postgres is managed, from the Secret's keys;
        reachable at the managed endpoint (``start=False``: not running yet)."""
        s = cluster.secret
        manifest = {
            # A short name: the pod directory holds a Unix socket, whose path may not exceed 107 bytes.
            "metadata": {"name": "managed-db"},
            "spec": {
                "template": {
                    "metadata": {"labels": {}},
                    "spec": {
                        "securityContext": {"runAsUser": 70, "runAsGroup": 70, "fsGroup": 70},
                        "volumes": [{"name": "data", "emptyDir": {}}],
                        "containers": [
                            {
                                "name": "postgres",
                                "image": "postgres",
                                "ports": [{"containerPort": port}],
                                "env": [
                                    {"name": "POSTGRES_USER", "value": s.user},
                                    {"name": "POSTGRES_PASSWORD", "value": s.values["postgres-password"]},
                                    {"name": "POSTGRES_DB", "value": s.database},
                                    {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"},
                                ],
                                "volumeMounts": [{"name": "data", "mountPath": "/var/lib/postgresql/data"}],
                            }
                        ],
                    },
                }
            },
        }
        server = cls(cluster.pod(manifest))
        server.tls = True
        cluster.external[f"{host}:{port}"] = server.port
        return server.start() if start else server


def localize_url(cluster: Cluster, url: str) -> str:
    """A client URL with its Service host:port replaced by the loopback port behind it."""
    parts = urlsplit(url)
    if not parts.hostname:
        raise HarnessError(f"{cluster.env}: no host in {url}")
    local = cluster.resolve(parts.hostname, parts.port or {"redis": 6379}.get(parts.scheme, 5432))
    auth = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit(parts._replace(netloc=f"{auth}127.0.0.1:{local}"))
