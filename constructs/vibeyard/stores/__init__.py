"""The data tier: PostgreSQL, Redis and PgBouncer, where the environment runs them itself."""
