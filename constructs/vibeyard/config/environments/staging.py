"""Staging: production's shape at a smaller size, with its own PostgreSQL, on spot nodes."""

from __future__ import annotations

from typing import Any

from .base import DEFAULT_POOL

OVERLAY: dict[str, Any] = {
    "web": {
        "replicas": 2,
        "resources": {
            "cpu_request": "100m",
            "memory_request": "256Mi",
            "cpu_limit": "500m",
            "memory_limit": "512Mi",
        },
        "autoscaling": {"enabled": True, "min_replicas": 2, "max_replicas": 4},
        "placement": {"prefer_spot": True},
    },
    "workers": [{**DEFAULT_POOL, "max_replicas": 4, "placement": {"prefer_spot": True}}],
    "postgres": {"mode": "in-cluster", "storage_size": "10Gi"},
    "pgbouncer": {"enabled": True, "replicas": 1},
    "redis": {"storage_size": "4Gi"},
    "vpa_enabled": False,
    "quota": {
        "cpu_requests": "4",
        "memory_requests": "8Gi",
        "memory_limits": "16Gi",
        "pods": 30,
        "storage": "50Gi",
    },
    "gitops": {"target_revision": "develop", "auto_sync": True},
}
