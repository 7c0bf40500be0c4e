"""Which keys the environment's Secret must hold, derived from the config.

The design doc names four keys; in-cluster data stores and Sentry add their own.
Deriving the list (instead of writing it per environment) means a sealed file
that lacks a key the chosen modes need fails the synth, not the rollout.
"""

from __future__ import annotations

from .types import EnvConfig

DATABASE_URL = "database-url"
DATABASE_READ_URL = "database-read-url"
NEXTAUTH_SECRET = "nextauth-secret"
GITHUB_CLIENT_SECRET = "github-client-secret"
OPENAI_API_KEY = "openai-api-key"
SENTRY_DSN = "sentry-dsn"
POSTGRES_USER = "postgres-user"
POSTGRES_PASSWORD = "postgres-password"
POSTGRES_DATABASE = "postgres-database"
REDIS_PASSWORD = "redis-password"
REDIS_URL = "redis-url"
REDIS_ADDRESS = "redis-address"


def required_secret_keys(cfg: EnvConfig) -> tuple[str, ...]:
    keys = [DATABASE_URL, NEXTAUTH_SECRET, GITHUB_CLIENT_SECRET, OPENAI_API_KEY]
    if cfg.sentry_enabled:
        keys.append(SENTRY_DSN)
    if cfg.postgres.read_replica:
        keys.append(DATABASE_READ_URL)
    if cfg.postgres.mode == "in-cluster" or cfg.pgbouncer.enabled:
        keys += [POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DATABASE]
    if cfg.redis.mode == "in-cluster":
        keys.append(REDIS_PASSWORD)
    else:
        keys.append(REDIS_URL)
        if cfg.keda.enabled:  # KEDA's redis scaler takes host:port and password, not a URL
            keys += [REDIS_ADDRESS, REDIS_PASSWORD]
    return tuple(keys)
