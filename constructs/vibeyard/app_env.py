"""The environment every Vibeyard process (web, workers, migrations) sees.

One function builds it so the web app and the workers cannot drift: the same
ConfigMap, the same secret keys under the same variable names, whatever the
secret provider. Composite URLs use Kubernetes ``$(VAR)`` expansion, so the
password never leaves the Secret and the variable it depends on is listed first.
"""

from __future__ import annotations

from cdk8s_plus_28 import k8s

from .config import secret_keys as keys
from .config.types import EnvConfig
from .kube import env, secret_env

CONFIG_MAP_NAME = "vibeyard-config"
PGBOUNCER_HOST = "pgbouncer"
REDIS_HOST = "redis"


def config_from() -> list[k8s.EnvFromSource]:
    return [k8s.EnvFromSource(config_map_ref=k8s.ConfigMapEnvSource(name=CONFIG_MAP_NAME))]


def app_env(cfg: EnvConfig, *, direct_database: bool = False) -> list[k8s.EnvVar]:
    """Secret-backed variables. ``direct_database`` bypasses PgBouncer: schema
    migrations take session-level advisory locks that transaction pooling breaks."""
    secret = cfg.secrets.name
    out = [
        secret_env("NEXTAUTH_SECRET", secret, keys.NEXTAUTH_SECRET),
        secret_env("GITHUB_CLIENT_SECRET", secret, keys.GITHUB_CLIENT_SECRET),
        secret_env("OPENAI_API_KEY", secret, keys.OPENAI_API_KEY),
    ]
    if cfg.sentry_enabled:
        out.append(secret_env("SENTRY_DSN", secret, keys.SENTRY_DSN))
    if cfg.pgbouncer.enabled and not direct_database:
        port = cfg.pgbouncer.port
        out += [
            secret_env("DATABASE_USER", secret, keys.POSTGRES_USER),
            secret_env("DATABASE_PASSWORD", secret, keys.POSTGRES_PASSWORD),
            secret_env("DATABASE_NAME", secret, keys.POSTGRES_DATABASE),
            env(
                "DATABASE_URL",
                f"postgresql://$(DATABASE_USER):$(DATABASE_PASSWORD)@{PGBOUNCER_HOST}:{port}"
                "/$(DATABASE_NAME)?pgbouncer=true",
            ),
        ]
    else:
        out.append(secret_env("DATABASE_URL", secret, keys.DATABASE_URL))
    if cfg.postgres.read_replica:
        out.append(secret_env("DATABASE_READ_URL", secret, keys.DATABASE_READ_URL))
    if cfg.redis.mode == "in-cluster":
        out += [
            secret_env("REDIS_PASSWORD", secret, keys.REDIS_PASSWORD),
            env("REDIS_URL", f"redis://:$(REDIS_PASSWORD)@{REDIS_HOST}:6379/0"),
        ]
    else:
        out.append(secret_env("REDIS_URL", secret, keys.REDIS_URL))
    return out
