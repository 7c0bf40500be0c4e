"""What every environment starts from: the design doc's ``values.yaml``, in production shape.

3 web replicas with an HPA of 3-10 at 70% CPU / 80% memory, requests 250m/512Mi,
limits 1000m/1Gi, issuer letsencrypt-prod; the edge is Gateway API (the design's
ingress-nginx was retired in 2026: docs/design-corrections.md). Third-party images are
pinned by digest: a re-pushed tag can never change what runs. Organisation-specific values come from
``organisation.py``.
"""

from __future__ import annotations

from typing import Any

from ..organisation import ORG

POSTGRES_IMAGE = {
    "repository": "docker.io/library/postgres",
    "tag": "15.18-alpine",
    "digest": "sha256:3d0f7584ed7d04e27fa050d6683a74746608faf21f202be78460d679cc56461f",
}
REDIS_IMAGE = {
    "repository": "docker.io/library/redis",
    "tag": "7.4.11-alpine",
    "digest": "sha256:ff02b58f971e7d7d156a1267e283fcbbeee91773b6aa36c49dac28ecfe28eadf",
}
PGBOUNCER_IMAGE = {
    "repository": "docker.io/edoburu/pgbouncer",
    "tag": "v1.25.2-p0",
    "digest": "sha256:7d7a27d9e90985cab5cf42256f5c13a3120baa4b055b69df37beb272b89b2340",
}
EXPORTERS = {
    "redis": {
        "repository": "docker.io/oliver006/redis_exporter",
        "tag": "v1.90.0",
        "digest": "sha256:a129504e65b87c54f79bc92f1afc403475e8ff646a3d7512de469904ceddf986",
    },
    "postgres": {
        "repository": "quay.io/prometheuscommunity/postgres-exporter",
        "tag": "v0.20.1",
        "digest": "sha256:ac5ec343104fae0e2d84a27bb8d69b38430a11910c5382cad85d478d2bab713e",
    },
    "pgbouncer": {
        "repository": "quay.io/prometheuscommunity/pgbouncer-exporter",
        "tag": "v0.12.1",
        "digest": "sha256:30f31b6c2efdad3647f8182cc7c1a3a19e42bae5d17387694989f969371c230d",
    },
}

DEFAULT_POOL: dict[str, Any] = {"name": "default", "queues": ["default"]}

BASE: dict[str, Any] = {
    "image": {"repository": f"{ORG.registry}/vibeyard", "tag": "1.0.0"},
    "signatures": {"signer_identity": ORG.image_signer_identity, "signer_issuer": ORG.image_signer_issuer},
    # Gateway API only: the release before rendered the Ingress beside it while DNS moved
    # (upgrades/2026-12-05-edge-gateway-api.md); "ingress" or "both" keep a cluster on it.
    "edge": {"mode": "gateway-api", "cluster_issuer": ORG.cluster_issuer},
    "web": {
        "replicas": 3,
        "resources": {
            "cpu_request": "250m",
            "memory_request": "512Mi",
            "cpu_limit": "1000m",
            "memory_limit": "1Gi",
        },
        "autoscaling": {"enabled": True, "min_replicas": 3, "max_replicas": 10},
    },
    "workers": [DEFAULT_POOL],
    "postgres": {"mode": "managed", "image": POSTGRES_IMAGE, "uid": 70},
    "pgbouncer": {"enabled": False, "image": PGBOUNCER_IMAGE},
    "redis": {"mode": "in-cluster", "image": REDIS_IMAGE},
    "cache": {},
    "secrets": {"provider": "sealed"},
    "cluster": {"provider": "eks"},
    "keda": {"enabled": True},
    "vpa_enabled": True,
    "network": {},
    "quota": {
        "cpu_requests": "16",
        "memory_requests": "32Gi",
        "memory_limits": "64Gi",
        "pods": 80,
        "storage": "50Gi",
    },
    "monitoring": {"enabled": True, "exporters": EXPORTERS},
    "migration": {"enabled": True},
    "gitops": {"repo_url": ORG.repo_url, "auto_sync": False},
    "image_pull_secrets": list(ORG.image_pull_secrets),
}
