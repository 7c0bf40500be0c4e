"""The variables every Vibeyard process (web, workers, migrations) sees.

One builder so the web app and the workers cannot drift: the same ConfigMap,
the same Secret keys under the same variable names, whatever the secret
provider. No password is written into a URL: a URL is a grammar, and a password
holding ``/ @ # ? %`` would break its parsing. Where a store runs in the cluster,
its URL (from the Service we render) has no password, and the password is its own
variable beside it (``DATABASE_PASSWORD``, ``REDIS_PASSWORD``,
``REDIS_CACHE_PASSWORD``), which the app sets with the WHATWG ``URL`` password
setter, which percent-encodes (docs/app-contract.md). Where a store is managed,
the whole URL comes from the Secret, encoded by whoever wrote it. Each workload
gets only the keys it reads: the workers sign no sessions and run no OAuth.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdk8s_plus_28 import k8s

from ..config import secret_keys as keys
from ..config.topology import ServiceAddress
from ..kube import env, secret_env

PASSWORD_VAR = "DATABASE_PASSWORD"


@dataclass(frozen=True)
class Database:
    """How the app reaches PostgreSQL.

    :param user: the database user (a name, not a secret).
    :param name: the database name.
    :param server: the in-cluster PostgreSQL Service; None for a managed database, whose
        direct URL (host, TLS options) is the Secret's ``database-url``.
    :param pooler: PgBouncer's Service, which the app's DATABASE_URL goes through when set.
    :param read_replica: pass ``DATABASE_READ_URL`` from the Secret.
    """

    user: str
    name: str
    server: ServiceAddress | None
    pooler: ServiceAddress | None
    read_replica: bool

    def _url(self, host: ServiceAddress, query: str = "") -> str:
        return f"postgresql://{self.user}@{host.host}:{host.port}/{self.name}{query}"

    def variables(self, secret: str, *, direct: bool = False) -> list[k8s.EnvVar]:
        """``DATABASE_URL`` (and what it expands). ``direct`` bypasses PgBouncer: schema
        migrations take session-level advisory locks that transaction pooling breaks."""
        password = secret_env(PASSWORD_VAR, secret, keys.POSTGRES_PASSWORD)
        if self.pooler is not None and not direct:
            # Prisma's flag for transaction pooling: no prepared statements across transactions.
            return [env("DATABASE_URL", self._url(self.pooler, "?pgbouncer=true")), password]
        if self.server is not None:
            return [env("DATABASE_URL", self._url(self.server)), password]
        return [secret_env("DATABASE_URL", secret, keys.DATABASE_URL)]


@dataclass(frozen=True)
class AppEnvironment:
    """
    :param settings: the ConfigMap read through ``envFrom``.
    :param secret: the environment's Secret.
    :param database: how PostgreSQL is reached.
    :param sentry: pass ``SENTRY_DSN``.
    :param redis: the in-cluster queue Redis; REDIS_URL is composed from it. None: the Secret's URL.
    :param cache: the in-cluster cache Redis; REDIS_CACHE_URL likewise.
    """

    settings: str
    secret: str
    database: Database
    sentry: bool
    redis: ServiceAddress | None
    cache: ServiceAddress | None

    def env_from(self) -> list[k8s.EnvFromSource]:
        return [k8s.EnvFromSource(config_map_ref=k8s.ConfigMapEnvSource(name=self.settings))]

    def web_variables(self) -> list[k8s.EnvVar]:
        """The web tier's Secret-backed variables: the workers' and its sessions' and OAuth's."""
        return [
            secret_env("NEXTAUTH_SECRET", self.secret, keys.NEXTAUTH_SECRET),
            secret_env("GITHUB_CLIENT_SECRET", self.secret, keys.GITHUB_CLIENT_SECRET),
            *self.worker_variables(),
        ]

    def worker_variables(self) -> list[k8s.EnvVar]:
        """Secret-backed variables every process of the app reads: the stores and the APIs."""
        secret = self.secret
        out = [secret_env("OPENAI_API_KEY", secret, keys.OPENAI_API_KEY)]
        if self.sentry:
            out.append(secret_env("SENTRY_DSN", secret, keys.SENTRY_DSN))
        out += self.database.variables(secret)
        if self.database.read_replica:
            out.append(secret_env("DATABASE_READ_URL", secret, keys.DATABASE_READ_URL))
        if self.redis is not None and self.cache is not None:
            out += [
                env("REDIS_URL", f"redis://{self.redis.host}:{self.redis.port}/0"),
                secret_env("REDIS_PASSWORD", secret, keys.REDIS_PASSWORD),
                env("REDIS_CACHE_URL", f"redis://{self.cache.host}:{self.cache.port}/0"),
                secret_env("REDIS_CACHE_PASSWORD", secret, keys.REDIS_CACHE_PASSWORD),
            ]
        else:
            out += [
                secret_env("REDIS_URL", secret, keys.REDIS_URL),
                secret_env("REDIS_CACHE_URL", secret, keys.REDIS_CACHE_URL),
            ]
        return out

    def migration_variables(self) -> list[k8s.EnvVar]:
        """Database credentials only: a migration runs before the app's other secrets
        may exist (a release that adds a key must not wedge its own migration)."""
        return self.database.variables(self.secret, direct=True)
