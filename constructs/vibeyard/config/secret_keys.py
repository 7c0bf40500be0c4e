"""The key names inside the environment's one Secret.

Which of them an environment needs is the topology's decision
(``Topology.secret_keys``); the names live here so the Secret, every
``secretKeyRef`` and the sealing script spell them the same way.
"""

from __future__ import annotations

DATABASE_URL = "database-url"
DATABASE_READ_URL = "database-read-url"
NEXTAUTH_SECRET = "nextauth-secret"
GITHUB_CLIENT_SECRET = "github-client-secret"
OPENAI_API_KEY = "openai-api-key"
SENTRY_DSN = "sentry-dsn"
POSTGRES_PASSWORD = "postgres-password"
REDIS_PASSWORD = "redis-password"
REDIS_CACHE_PASSWORD = "redis-cache-password"
REDIS_URL = "redis-url"
REDIS_CACHE_URL = "redis-cache-url"
REDIS_ADDRESS = "redis-address"
