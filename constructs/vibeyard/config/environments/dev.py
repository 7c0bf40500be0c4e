"""Dev: everything in one small namespace of a local cluster (kind, minikube), applied by hand."""

from __future__ import annotations

from typing import Any

from .base import DEFAULT_POOL

OVERLAY: dict[str, Any] = {
    # Built and loaded into kind/minikube by hand (docs/operations.md): never pulled.
    "image": {"repository": "vibeyard", "tag": "local", "pull_policy": "Never"},
    "ingress": {"host": "vibeyard.dev.localhost", "cluster_issuer": "selfsigned", "acme_http01": False},
    "web": {
        "replicas": 1,
        "resources": {
            "cpu_request": "100m",
            "memory_request": "256Mi",
            "memory_limit": "512Mi",
            "cpu_limit": None,
        },
        "autoscaling": {"enabled": False, "min_replicas": 1, "max_replicas": 1},
        "spread_across_zones": False,
    },
    "workers": [{**DEFAULT_POOL, "replicas": 1, "min_replicas": 1, "max_replicas": 1, "metrics_port": None}],
    "postgres": {
        "mode": "in-cluster",
        "storage_size": "1Gi",
        "resources": {
            "cpu_request": "100m",
            "memory_request": "256Mi",
            "memory_limit": "512Mi",
            "cpu_limit": None,
        },
    },
    "redis": {
        "storage_size": "1Gi",
        "resources": {
            "cpu_request": "50m",
            "memory_request": "128Mi",
            "memory_limit": "256Mi",
            "cpu_limit": None,
        },
    },
    "cache": {
        "resources": {
            "cpu_request": "25m",
            "memory_request": "64Mi",
            "memory_limit": "128Mi",
            "cpu_limit": None,
        }
    },
    "secrets": {"provider": "existing"},
    "keda": {"enabled": False},
    "vpa_enabled": False,
    "quota": {
        "cpu_requests": "2",
        "memory_requests": "4Gi",
        "memory_limits": "8Gi",
        "pods": 20,
        "storage": "20Gi",
    },
    "monitoring": {"enabled": False},
    "log_level": "debug",
    "sentry_enabled": False,
    # Local only: applied with kubectl from dist/dev, no Argo CD Application.
    "gitops": None,
}
