"""Production: the base, with the managed database behind PgBouncer and an analysis pool."""

from __future__ import annotations

from typing import Any

from ..organisation import ORG
from .base import DEFAULT_POOL

OVERLAY: dict[str, Any] = {
    "namespace": "production",
    # deploy.yml verifies the release's signature, so prod is released by digest.
    "signatures": {"verify": True},
    "edge": {"host": ORG.base_domain, "tls_secret": "vibeyard-tls"},
    "postgres": {"host": ORG.managed_database_host, "read_replica": True},
    "pgbouncer": {"enabled": True, "server_tls_sslmode": "require"},
    "workers": [
        DEFAULT_POOL,
        {
            "name": "analysis",
            "queues": ["analysis"],
            "replicas": 2,
            "min_replicas": 1,
            "max_replicas": 8,
            "concurrency": 2,
            "resources": {
                "cpu_request": "250m",
                "memory_request": "512Mi",
                "cpu_limit": "1000m",
                "memory_limit": "1Gi",
            },
            "longest_job_seconds": 570,
            # Analysis jobs are idempotent: a job lost with a reclaimed spot node is
            # re-queued by BullMQ's stalled-job check and runs again from the start.
            "interruptible": True,
            "queue_list_length": 5,
            "prioritized": True,
            "placement": {"prefer_spot": True},
        },
    ],
    "network": {"managed_egress": [{"cidr": ORG.managed_database_cidr, "port": 5432}]},
    # A promotion releases to production the image staging runs (deploy.yml).
    "gitops": {"promote_from": "staging"},
}
