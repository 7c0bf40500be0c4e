"""The data stores and the environment's Secret.

PostgreSQL and the queue Redis are either run in the cluster (a StatefulSet we
render) or managed by the cloud provider (only reached). The cache Redis is a
separate instance: the queue must never evict (BullMQ's jobs are keys), a cache
must. PgBouncer sits in front of either kind of database.
"""

from __future__ import annotations

from typing import Literal

from . import rules
from .fields import check, setting, settings
from .values import Image, Resources, StoreMode

SecretProvider = Literal["sealed", "external", "existing"]


@settings
class PostgresConfig:
    """``user`` and ``database`` are names, not secrets: only the password lives in
    the Secret. For a managed database, ``host`` is where PgBouncer connects."""

    mode: StoreMode = setting(doc="run it here, or reach a managed one")
    image: Image = setting(doc="the in-cluster server's image")
    user: str = setting(default="vibeyard", doc="the app's database user", rule=rules.sql_name)
    database: str = setting(default="vibeyard", doc="the app's database", rule=rules.sql_name)
    host: str | None = setting(
        default=None, doc="a managed database's endpoint", rule=rules.optional(rules.hostname)
    )
    port: int = setting(default=5432, doc="the server's port", rule=rules.port)
    storage_size: str = setting(default="20Gi", doc="the data volume", rule=rules.memory)
    storage_class: str | None = setting(
        default=None,
        doc="the volume's StorageClass; None: the cluster default",
        rule=rules.optional(rules.dns_subdomain),
    )
    shm_size: str = setting(default="256Mi", doc="/dev/shm, for parallel queries", rule=rules.memory)
    resources: Resources = setting(
        factory=lambda: Resources(
            cpu_request="250m", memory_request="512Mi", cpu_limit="1", memory_limit="1Gi"
        ),
        doc="the server container's requests and limits",
    )
    read_replica: bool = setting(default=False, doc="pass DATABASE_READ_URL from the Secret")
    termination_grace_seconds: int = setting(
        default=120, doc="time for a fast shutdown and checkpoint", rule=rules.between(1)
    )
    shutdown_timeout_seconds: int = setting(default=60, doc="pg_ctl stop -t", rule=rules.between(5, 3600))
    uid: int = setting(default=999, doc="the image's postgres uid (alpine: 70)", rule=rules.between(1))

    @check("termination_grace_seconds")
    def _grace_covers_shutdown(self) -> str | None:
        need = self.shutdown_timeout_seconds + 10
        return None if self.termination_grace_seconds >= need else f"an integer >= {need} (shutdown + 10s)"


@settings
class PgBouncerConfig:
    """PgBouncer in front of the database."""

    enabled: bool = setting(doc="pool the app's connections")
    image: Image = setting(doc="PgBouncer's image")
    replicas: int = setting(default=2, doc="pods", rule=rules.between(1))
    pool_mode: Literal["transaction", "session", "statement"] = setting(
        default="transaction", doc="pool_mode"
    )
    default_pool_size: int = setting(default=20, doc="server connections per pool", rule=rules.between(1))
    max_client_conn: int = setting(default=500, doc="client connections", rule=rules.between(1))
    resources: Resources = setting(
        factory=lambda: Resources(
            cpu_request="50m", memory_request="64Mi", cpu_limit="500m", memory_limit="128Mi"
        ),
        doc="the container's requests and limits",
    )
    port: int = setting(default=5432, doc="the port clients connect to", rule=rules.port)
    uid: int = setting(default=70, doc="the image's user", rule=rules.between(1))
    server_tls_sslmode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] = (
        setting(default="prefer", doc="TLS towards the database")
    )
    termination_grace_seconds: int = setting(default=30, doc="time to drain", rule=rules.between(15, 600))

    @check("max_client_conn")
    def _clients_cover_pool(self) -> str | None:
        ok = self.max_client_conn >= self.default_pool_size
        return None if ok else f"at least default_pool_size ({self.default_pool_size})"


@settings
class RedisConfig:
    """The queue Redis: ``noeviction`` and append-only persistence.

    ``maxmemory`` is ``maxmemory_percent`` of the memory limit; the rest is
    headroom for the fork of an AOF rewrite (copy-on-write pages) and client
    buffers, so Redis refuses writes before the kernel OOM-kills it.
    """

    mode: StoreMode = setting(doc="run it here, or reach a managed one")
    image: Image = setting(doc="the image, shared with the cache")
    storage_size: str = setting(default="8Gi", doc="the AOF volume", rule=rules.memory)
    storage_class: str | None = setting(
        default=None,
        doc="the volume's StorageClass; None: the cluster default",
        rule=rules.optional(rules.dns_subdomain),
    )
    resources: Resources = setting(
        factory=lambda: Resources(
            cpu_request="100m", memory_request="256Mi", cpu_limit="500m", memory_limit="512Mi"
        ),
        doc="the server container's requests and limits",
    )
    maxmemory_percent: int = setting(
        default=50, doc="maxmemory, % of the memory limit", rule=rules.between(10, 60)
    )
    memory_alert_ratio: float = setting(
        default=0.8, doc="share of maxmemory that alerts", rule=rules.fraction
    )
    uid: int = setting(default=999, doc="the image's redis uid", rule=rules.between(1))
    gid: int = setting(default=1000, doc="the image's redis gid", rule=rules.between(1))
    port: int = setting(default=6379, doc="the server's port", rule=rules.port)
    termination_grace_seconds: int = setting(
        default=60, doc="time to write the AOF on shutdown", rule=rules.between(10)
    )


@settings
class CacheConfig:
    """The cache Redis: an LRU policy and no persistence. It runs in the cluster
    when the queue Redis does; with a managed queue Redis its URL is in the Secret."""

    resources: Resources = setting(
        factory=lambda: Resources(
            cpu_request="50m", memory_request="128Mi", cpu_limit="500m", memory_limit="256Mi"
        ),
        doc="the container's requests and limits",
    )
    maxmemory_percent: int = setting(
        default=75, doc="maxmemory, % of the memory limit", rule=rules.between(10, 90)
    )
    maxmemory_policy: Literal["allkeys-lru", "allkeys-lfu", "volatile-lru", "volatile-lfu"] = setting(
        default="allkeys-lru", doc="what it evicts"
    )
    port: int = setting(default=6379, doc="the server's port", rule=rules.port)


@settings
class SecretsConfig:
    """Where the one per-environment Secret comes from.

    ``sealed``: committed kubeseal output; ``external``: External Secrets Operator;
    ``existing``: created out of band (``kubectl create secret``), nothing rendered.
    With ``reloader``, pods carry Stakater Reloader's annotation so a credential
    change in the cluster (external or existing) rolls them; a sealed Secret's
    checksum already does.
    """

    provider: SecretProvider = setting(doc="where the Secret comes from")
    name: str = setting(default="vibeyard-secrets", doc="the Secret's name", rule=rules.dns_subdomain)
    sealed_file: str = setting(
        doc="kubeseal output; default secrets/<env>.sealed.yaml", rule=rules.non_empty("a path")
    )
    external_store: str = setting(default="vibeyard-store", doc="the ESO store", rule=rules.dns_subdomain)
    external_store_kind: Literal["ClusterSecretStore", "SecretStore"] = setting(
        default="ClusterSecretStore", doc="the ESO store's kind"
    )
    external_key_prefix: str = setting(default="vibeyard", doc="remote keys live under <prefix>/<env>")
    refresh_interval: str = setting(default="1h", doc="how often ESO re-reads", rule=rules.duration)
    reloader: bool = setting(
        default=False, doc="roll pods on an in-cluster Secret change (Stakater Reloader)"
    )
