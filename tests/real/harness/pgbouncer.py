"""PgBouncer started from its rendered pod: the ini from a volume, or the edoburu image's
ini-from-env reproduced; only its network is rewritten for loopback."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from . import tools
from .procs import HarnessError
from .servers import Server

# The edoburu/pgbouncer image's entrypoint turns these variables into its ini.
EDOBURU_POOL_ENV = (
    "POOL_MODE",
    "MAX_CLIENT_CONN",
    "DEFAULT_POOL_SIZE",
    "MIN_POOL_SIZE",
    "RESERVE_POOL_SIZE",
    "MAX_DB_CONNECTIONS",
    "MAX_PREPARED_STATEMENTS",
)
EDOBURU_ENV = frozenset(
    {
        *EDOBURU_POOL_ENV,
        "DATABASE_URL",
        "LISTEN_PORT",
        "LISTEN_ADDR",
        "AUTH_TYPE",
        "SERVER_TLS_SSLMODE",
        "IGNORE_STARTUP_PARAMETERS",
        "ADMIN_USERS",
        "STATS_USERS",
        "SERVER_RESET_QUERY",
        "SERVER_CHECK_QUERY",
    }
)


class PgBouncer(Server):
    """The rendered pgbouncer.ini when a volume holds one; otherwise the ini the edoburu
    image's entrypoint writes from env (DATABASE_URL, LISTEN_PORT, POOL_MODE...),
    reproduced from its entrypoint.sh. Either way, only the network is rewritten:
    listen_addr/listen_port, each database's host/port (through the Services), and the
    Unix socket directory (a mount path, or off)."""

    program = "pgbouncer"
    DEFAULT_INI = "/etc/pgbouncer/pgbouncer.ini"

    def rendered_ini(self) -> tuple[str, Path | None]:
        argv = self.c.argv()
        path = next((w for w in argv if w.endswith(".ini")), self.pod.remap(self.DEFAULT_INI, self.c.mounts))
        p = Path(path)
        if p.exists():
            return p.read_text(), p
        return self._edoburu_ini(), None

    def _edoburu_ini(self) -> str:
        env = self.c.env()
        declared = {v["name"] for v in self.c.spec.get("env", [])}
        unknown = sorted(declared - EDOBURU_ENV)
        if unknown:
            raise HarnessError(
                f"{self.pod.name}: the edoburu env model lacks {unknown}; add them in servers.py"
            )
        url = urlsplit(env["DATABASE_URL"])
        user, password = url.username or "", url.password or ""
        dbname = url.path.lstrip("/") + (f"?{url.query}" if url.query else "")
        auth_file = self.pod.remap("/etc/pgbouncer/userlist.txt", self.c.mounts)
        auth_type = env.get("AUTH_TYPE", "md5")
        if auth_type not in ("plain", "scram-sha-256"):
            raise HarnessError(
                f"{self.pod.name}: AUTH_TYPE {auth_type} needs md5 userlist hashing (not modelled)"
            )
        Path(auth_file).write_text(f'"{user}" "{password}"\n')
        lines = [
            "[databases]",
            f"{dbname or '*'} = host={url.hostname} port={url.port or 5432} auth_user={user or 'postgres'}",
            "[pgbouncer]",
            f"listen_addr = {env.get('LISTEN_ADDR', '0.0.0.0')}",
            f"listen_port = {env.get('LISTEN_PORT', '5432')}",
            "unix_socket_dir = ",
            "user = postgres",
            f"auth_file = {auth_file}",
            f"auth_type = {auth_type}",
        ]
        for key in EDOBURU_POOL_ENV:
            if env.get(key):
                lines.append(f"{key.lower()} = {env[key]}")
        lines.append(
            f"ignore_startup_parameters = {env.get('IGNORE_STARTUP_PARAMETERS', 'extra_float_digits')}"
        )
        lines.append(f"admin_users = {env.get('ADMIN_USERS', 'postgres')}")
        for key in ("STATS_USERS", "SERVER_RESET_QUERY", "SERVER_CHECK_QUERY", "SERVER_TLS_SSLMODE"):
            if env.get(key):
                lines.append(f"{key.lower()} = {env[key]}")
        return "\n".join(lines) + "\n"

    def local_ini(self) -> str:
        text, _ = self.rendered_ini()
        out: list[str] = []
        section, seen = "", set[str]()
        for raw in text.splitlines():
            line, stripped = raw, raw.strip()
            if stripped.startswith("["):
                if section == "pgbouncer":
                    out += self._missing_network(seen)
                section = stripped.strip("[]").lower()
            elif "=" in stripped and not stripped.startswith((";", "#")):
                key, _, value = (part.strip() for part in stripped.partition("="))
                if section == "databases":
                    line = f"{key} = {self._local_connstr(value)}"
                elif section == "pgbouncer":
                    seen.add(key)
                    if key == "listen_addr":
                        line = "listen_addr = 127.0.0.1"
                    elif key == "listen_port":
                        if int(value) != self.container_port:
                            raise HarnessError(
                                f"{self.pod.name}: listen_port {value} but the container declares "
                                f"{self.container_port}"
                            )
                        line = f"listen_port = {self.port}"
                    elif key == "unix_socket_dir" and value:
                        line = f"unix_socket_dir = {self.pod.remap(value, self.c.mounts)}"
            out.append(line)
        if section == "pgbouncer":
            out += self._missing_network(seen)
        return "\n".join(out) + "\n"

    def _missing_network(self, seen: set[str]) -> list[str]:
        lines = []
        if "listen_addr" not in seen:
            lines.append("listen_addr = 127.0.0.1")
        if "listen_port" not in seen:
            if self.container_port != 6432:
                raise HarnessError(
                    f"{self.pod.name}: no listen_port (default 6432) but the container declares "
                    f"{self.container_port}"
                )
            lines.append(f"listen_port = {self.port}")
        if "unix_socket_dir" not in seen:  # default /tmp: the pod's own /tmp volume, or none
            tmp = self.pod.remap("/tmp", self.c.mounts)
            lines.append(f"unix_socket_dir = {tmp if tmp != '/tmp' else ''}")
        return lines

    def _local_connstr(self, value: str) -> str:
        pairs = dict(p.split("=", 1) for p in value.split())
        host, port = pairs.get("host"), int(pairs.get("port", "5432"))
        if host:
            pairs["host"], pairs["port"] = "127.0.0.1", str(self.pod.cluster.resolve(host, port))
        return " ".join(f"{k}={v}" for k, v in pairs.items())

    def start(self) -> PgBouncer:
        ini = self.pod.dir / "pgbouncer.local.ini"
        ini.write_text(self.local_ini())
        ini.chmod(0o644)
        self._spawn([tools.find("pgbouncer"), str(ini)])
        return self
