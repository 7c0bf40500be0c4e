"""Test values for the environment's one Secret, consistent with each other.

The keys are the topology's (``Topology.secret_keys``); the values follow the formats
docs/operations.md gives (``database-url`` uses the config's user and database with the
``postgres-password``, and points at the in-cluster Service or, for a managed database,
at its configured endpoint, which a stand-in the harness starts serves). A key the
harness has no value for fails loudly: a new Secret key needs a line here, not a guess.
"""

from __future__ import annotations

import secrets as rnd
from collections.abc import Mapping
from urllib.parse import quote

from vibeyard.config import EnvConfig, Topology

from .procs import HarnessError

# One set of random values per session, the same in every environment, so identical
# initdb inputs give identical data directories (see servers.Postgres.start).
_SESSION = {name: rnd.token_hex(12) for name in ("postgres", "redis", "redis-cache", "github")}
MANAGED_REDIS = ("managed-redis", 6379)
MANAGED_REDIS_CACHE = ("managed-redis-cache", 6379)


class TestSecret:
    __test__ = False  # not a pytest class

    def __init__(self, cfg: EnvConfig, passwords: Mapping[str, str] | None = None) -> None:
        """``passwords``: other values for the keys ``postgres``, ``redis``, ``redis-cache``
        (any text); a URL key holds its password percent-encoded, as whoever seals one must."""
        topology = Topology.of(cfg)
        self.name = cfg.secrets.name
        self.user, self.database = cfg.postgres.user, cfg.postgres.database
        user, database = self.user, self.database
        chosen = {**_SESSION, **(passwords or {})}
        pg_password, redis_password = chosen["postgres"], chosen["redis"]
        cache_password = chosen["redis-cache"]
        pg = topology.postgres
        pg_host, pg_port = (pg.host, pg.port) if pg is not None else self.managed_postgres(topology)
        url = f"postgresql://{user}:{quote(pg_password, safe='')}@{pg_host}:{pg_port}/{database}"
        redis_host, redis_port = MANAGED_REDIS
        cache_host, cache_port = MANAGED_REDIS_CACHE
        values = {
            "database-url": url,
            "database-read-url": url,
            "postgres-password": pg_password,
            "redis-password": redis_password,
            "redis-cache-password": cache_password,
            "redis-url": f"redis://:{quote(redis_password, safe='')}@{redis_host}:{redis_port}/0",
            "redis-cache-url": f"redis://:{quote(cache_password, safe='')}@{cache_host}:{cache_port}/0",
            "redis-address": f"{redis_host}:{redis_port}",
            "nextauth-secret": _SESSION["github"] + "-nextauth",
            "github-client-secret": _SESSION["github"],
            "openai-api-key": "sk-test-" + _SESSION["github"],
            "sentry-dsn": "https://public@sentry.invalid/1",
        }
        unknown = [k for k in topology.secret_keys if k not in values]
        if unknown:
            raise HarnessError(
                f"no test value for Secret key(s) {unknown}: add them to tests/real/harness/secrets.py"
            )
        self.values = values
        self.keys = set(topology.secret_keys)

    @staticmethod
    def managed_postgres(topology: Topology) -> tuple[str, int]:
        """Where a managed database is reached: its configured endpoint, served by a stand-in."""
        return topology.managed_database or ("managed-postgres", 5432)

    def value(self, secret: str, key: str) -> str:
        if secret != self.name:
            raise HarnessError(f"Secret {secret} is not the environment's Secret {self.name}")
        if key not in self.values:
            raise HarnessError(f"Secret key {key} has no test value: add it to tests/real/harness/secrets.py")
        return self.values[key]

    def all(self, secret: str) -> dict[str, str]:
        return {k: self.value(secret, k) for k in sorted(self.keys)}

    def files(self, secret: str, items: list[Mapping[str, str]] | None) -> dict[str, str]:
        keys = [i["key"] for i in items] if items else sorted(self.keys)
        return {k: self.value(secret, k) for k in keys}
