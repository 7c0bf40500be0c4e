"""The variables every Vibeyard process (web, workers, migrations) sees.

One builder so the web app and the workers cannot drift: the same ConfigMap,
the same Secret keys under the same variable names, whatever the secret
provider. Composite URLs use Kubernetes ``$(VAR)`` expansion, so a password
never leaves the Secret, and the variables a URL depends on are listed first.
Where a store runs in the cluster its address comes from the Service we render;
where it is managed, the whole URL comes from the Secret.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdk8s_plus_28 import k8s

from ..config import secret_keys as keys
from ..config.topology import ServiceAddress
from ..kube import env, secret_env


@dataclass(frozen=True)
class AppEnvironment:
    """
    :param settings: the ConfigMap read through ``envFrom``.
    :param secret: the environment's Secret.
    :param sentry: pass ``SENTRY_DSN``.
    :param read_replica: pass ``DATABASE_READ_URL``.
    :param pooler: PgBouncer's Service; DATABASE_URL is composed through it. None: the Secret's URL.
    :param redis: the in-cluster Redis Service; REDIS_URL is composed from it. None: the Secret's URL.
    """

    settings: str
    secret: str
    sentry: bool
    read_replica: bool
    pooler: ServiceAddress | None
    redis: ServiceAddress | None

    def env_from(self) -> list[k8s.EnvFromSource]:
        return [k8s.EnvFromSource(config_map_ref=k8s.ConfigMapEnvSource(name=self.settings))]

    def variables(self, *, direct_database: bool = False) -> list[k8s.EnvVar]:
        """Secret-backed variables. ``direct_database`` bypasses PgBouncer: schema
        migrations take session-level advisory locks that transaction pooling breaks."""
        secret = self.secret
        out = [
            secret_env("NEXTAUTH_SECRET", secret, keys.NEXTAUTH_SECRET),
            secret_env("GITHUB_CLIENT_SECRET", secret, keys.GITHUB_CLIENT_SECRET),
            secret_env("OPENAI_API_KEY", secret, keys.OPENAI_API_KEY),
        ]
        if self.sentry:
            out.append(secret_env("SENTRY_DSN", secret, keys.SENTRY_DSN))
        if self.pooler is not None and not direct_database:
            out += [
                secret_env("DATABASE_USER", secret, keys.POSTGRES_USER),
                secret_env("DATABASE_PASSWORD", secret, keys.POSTGRES_PASSWORD),
                secret_env("DATABASE_NAME", secret, keys.POSTGRES_DATABASE),
                env(
                    "DATABASE_URL",
                    f"postgresql://$(DATABASE_USER):$(DATABASE_PASSWORD)@{self.pooler.host}:{self.pooler.port}"
                    "/$(DATABASE_NAME)?pgbouncer=true",
                ),
            ]
        else:
            out.append(secret_env("DATABASE_URL", secret, keys.DATABASE_URL))
        if self.read_replica:
            out.append(secret_env("DATABASE_READ_URL", secret, keys.DATABASE_READ_URL))
        if self.redis is not None:
            out += [
                secret_env("REDIS_PASSWORD", secret, keys.REDIS_PASSWORD),
                env("REDIS_URL", f"redis://:$(REDIS_PASSWORD)@{self.redis.host}:{self.redis.port}/0"),
            ]
        else:
            out.append(secret_env("REDIS_URL", secret, keys.REDIS_URL))
        return out
