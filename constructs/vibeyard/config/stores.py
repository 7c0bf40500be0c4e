"""The data stores and the environment's Secret.

PostgreSQL and the queue Redis are either run in the cluster (a StatefulSet we
render) or managed by the cloud provider (only reached). The cache Redis is a
separate instance: the queue must never evict (BullMQ's jobs are keys), a cache
must. PgBouncer sits in front of either kind of database.
"""

from __future__ import annotations

from dataclasses import field
from typing import Literal

from .base import settings
from .values import Image, Resources, StoreMode

SecretProvider = Literal["sealed", "external", "existing"]


@settings
class PostgresConfig:
    """``user`` and ``database`` are names, not secrets: only the password lives in
    the Secret. For a managed database, ``host`` is where PgBouncer connects."""

    mode: StoreMode
    image: Image
    user: str = "vibeyard"
    database: str = "vibeyard"
    host: str | None = None
    port: int = 5432
    storage_size: str = "20Gi"
    storage_class: str | None = None
    shm_size: str = "256Mi"
    resources: Resources = field(
        default_factory=lambda: Resources(
            cpu_request="250m", memory_request="512Mi", cpu_limit="1", memory_limit="1Gi"
        )
    )
    read_replica: bool = False
    termination_grace_seconds: int = 120
    shutdown_timeout_seconds: int = 60
    uid: int = 999


@settings
class PgBouncerConfig:
    enabled: bool
    image: Image
    replicas: int = 2
    pool_mode: Literal["transaction", "session", "statement"] = "transaction"
    default_pool_size: int = 20
    max_client_conn: int = 500
    resources: Resources = field(
        default_factory=lambda: Resources(
            cpu_request="50m", memory_request="64Mi", cpu_limit="500m", memory_limit="128Mi"
        )
    )
    port: int = 5432
    uid: int = 70
    server_tls_sslmode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] = (
        "prefer"
    )
    termination_grace_seconds: int = 30


@settings
class RedisConfig:
    """The queue Redis: ``noeviction`` and append-only persistence.

    ``maxmemory`` is ``maxmemory_percent`` of the memory limit; the rest is
    headroom for the fork of an AOF rewrite (copy-on-write pages) and client
    buffers, so Redis refuses writes before the kernel OOM-kills it.
    """

    mode: StoreMode
    image: Image
    storage_size: str = "8Gi"
    storage_class: str | None = None
    resources: Resources = field(
        default_factory=lambda: Resources(
            cpu_request="100m", memory_request="256Mi", cpu_limit="500m", memory_limit="512Mi"
        )
    )
    maxmemory_percent: int = 50
    memory_alert_ratio: float = 0.8
    uid: int = 999
    gid: int = 1000
    port: int = 6379
    termination_grace_seconds: int = 60


@settings
class CacheConfig:
    """The cache Redis: an LRU policy and no persistence. It runs in the cluster
    when the queue Redis does; with a managed queue Redis its URL is in the Secret."""

    resources: Resources = field(
        default_factory=lambda: Resources(
            cpu_request="50m", memory_request="128Mi", cpu_limit="500m", memory_limit="256Mi"
        )
    )
    maxmemory_percent: int = 75
    maxmemory_policy: Literal["allkeys-lru", "allkeys-lfu", "volatile-lru", "volatile-lfu"] = "allkeys-lru"
    port: int = 6379


@settings
class SecretsConfig:
    """Where the one per-environment Secret comes from.

    ``sealed``: committed kubeseal output; ``external``: External Secrets Operator;
    ``existing``: created out of band (``kubectl create secret``), nothing rendered.
    With ``reloader``, pods carry Stakater Reloader's annotation so a credential
    change in the cluster (external or existing) rolls them; a sealed Secret's
    checksum already does.
    """

    provider: SecretProvider
    name: str = "vibeyard-secrets"
    sealed_file: str | None = None
    external_store: str = "vibeyard-store"
    external_store_kind: Literal["ClusterSecretStore", "SecretStore"] = "ClusterSecretStore"
    external_key_prefix: str = "vibeyard"
    refresh_interval: str = "1h"
    reloader: bool = False
