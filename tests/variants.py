"""Config variants that make every branch of the constructs run, not only the committed environments'.

The committed environments never take some branches: KEDA off (workers get a
CPU HPA), a managed Redis, the external secrets provider, monitoring or
PgBouncer off, VPA in staging, another cloud's spot labels, another DNS mode,
and every edge but their own (GKE's Gateway, a shared Gateway, both edges with
a custom Gateway and F5's controller, Traefik, and today's ingress-nginx Ingress).
Each variant is an overlay on a committed environment, loaded and checked the
way an environment's own overlay is. Each flips several independent branches
at once (so the suite synthesizes four charts, not twenty), and
tests/test_variants.py checks each flip for meaning; the syrupy snapshots of the
variants show what else changed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from vibeyard.config import EnvConfig, Topology, load
from vibeyard.config.fields import plain
from vibeyard.config.quantity import cpu_millis, memory_bytes
from vibeyard.config.sizing import namespace_peak

Configs = Mapping[str, EnvConfig]
ROOT = Path(__file__).resolve().parents[1]


def keda_off(c: Configs) -> tuple[str, dict[str, Any]]:
    """prod without KEDA, VPA or a read replica; GKE spot, Cloud DNS and GKE's Gateway;
    a private registry; Reloader; one pool that cannot scale at all."""
    fixed = {**plain(c["prod"].workers[0]), "name": "fixed", "replicas": 2, "min_replicas": 2}
    fixed["max_replicas"] = 2
    return "prod", {
        "keda": {"enabled": False},
        "vpa_enabled": False,
        "postgres": {"read_replica": False},
        "workers": [*plain(c["prod"].workers), fixed],
        "cluster": {"provider": "gke", "dns": {"mode": "gke-cloud-dns"}},
        "image_pull_secrets": ["registry-credentials"],
        "secrets": {"reloader": True},
        "edge": {"mode": "gateway-api", "gateway": {"implementation": "gke"}},
    }


def managed_redis(c: Configs) -> tuple[str, dict[str, Any]]:
    """prod with a managed Redis (KEDA still on), External Secrets, AKS, NodeLocal DNS,
    two clusters, and routes on the platform team's shared Gateway, whose listener
    reads our certificate."""
    return "prod", {
        "redis": {"mode": "managed"},
        "secrets": {"provider": "external", "external_store": "vault-backend"},
        "cluster": {"provider": "aks", "dns": {"mode": "node-local", "addresses": ["172.20.0.10/32"]}},
        "gitops": {
            "destinations": [
                {"name": "prod-eu", "server": "https://prod-eu.k8s.example.com"},
                {"name": "prod-us", "server": "https://prod-us.k8s.example.com"},
            ]
        },
        "edge": {
            "mode": "gateway-api",
            "gateway": {
                "shared": {
                    "name": "public",
                    "namespace": "gateway-system",
                    "https_listener": "https-vibeyard",
                    "tls_secret_in_app_namespace": True,
                }
            },
        },
    }


def bare(c: Configs) -> tuple[str, dict[str, Any]]:
    """staging without monitoring, PgBouncer or spot, with VPA, storage classes,
    Karpenter, its own cluster domain, explicit DNS resolvers and an existing Secret;
    both edges (F5's NGINX controller and a custom Gateway, an AWS load balancer
    sending from its subnets) and DNS-01 certificates."""
    return "staging", {
        "monitoring": {"enabled": False},
        "pgbouncer": {"enabled": False},
        "vpa_enabled": True,
        "postgres": {"storage_class": "gp3-encrypted"},
        "redis": {"storage_class": "gp3-encrypted"},
        "web": {"placement": {"prefer_spot": False}},
        "workers": [{**plain(p), "placement": None} for p in c["staging"].workers],
        "cluster": {
            "provider": "karpenter",
            "cluster_domain": "k8s.internal",
            "dns": {"mode": "addresses", "addresses": ["10.100.0.10/32"]},
        },
        "secrets": {"provider": "existing"},
        "edge": {
            "mode": "both",
            "acme_http01": False,
            "ingress": {"controller": "f5-nginx"},
            "gateway": {
                "implementation": "custom",
                "class_name": "aws-alb",
                "data_plane": {"cidrs": ["10.0.0.0/20", "10.0.16.0/20"]},
            },
        },
    }


def pinned(c: Configs) -> tuple[str, dict[str, Any]]:
    """prod released with a digest, as CD pins it, behind Traefik, with the cluster
    refusing unsigned app images."""
    return "prod", {
        "image": {"tag": "2.3.4", "digest": "sha256:" + "ab" * 32},
        "edge": {"mode": "ingress", "ingress": {"controller": "traefik"}},
        "signatures": {"admission": "enforce"},
    }


def ingress_nginx(c: Configs) -> tuple[str, dict[str, Any]]:
    """prod on the Ingress it had before Gateway API, for clusters not yet moved."""
    return "prod", {"edge": {"mode": "ingress"}}


VARIANTS: dict[str, Callable[[Configs], tuple[str, dict[str, Any]]]] = {
    "keda-off": keda_off,
    "managed-redis": managed_redis,
    "bare": bare,
    "pinned": pinned,
    "ingress-nginx": ingress_nginx,
}


def sealed_data(cfg: EnvConfig) -> dict[str, str]:
    """The variant's Secret: exactly the keys its topology reads, from its environment's
    committed file where that has them (a variant may need fewer or other keys)."""
    doc = yaml.safe_load((ROOT / cfg.secrets.sealed_file).read_text(encoding="utf-8"))
    committed: dict[str, str] = doc["spec"]["encryptedData"]
    return {k: committed.get(k, f"AgPLACEHOLDER-variant-{k}") for k in Topology.of(cfg).secret_keys}


# Room enough for any variant, only to measure its peak.
_ROOMY = {"cpu_requests": "1000", "memory_requests": "10Ti", "memory_limits": "10Ti", "pods": 100000}


def fitting_quota(env: str, overlay: dict[str, Any], committed: EnvConfig) -> dict[str, Any]:
    """The quota fields to raise where the variant's peak needs more than the committed
    environment's: a variant adds workloads, and must not break when that headroom shrinks."""
    roomy = load(env, {**overlay, "quota": {**_ROOMY, "storage": "100Ti", "pvcs": 1000}})
    peak, q = namespace_peak(Topology.of(roomy)), committed.quota
    have = {
        "cpu_requests": (cpu_millis(q.cpu_requests) or 0, peak.cpu_requests_millis, "m", 1),
        "memory_requests": (memory_bytes(q.memory_requests) or 0, peak.memory_requests_bytes, "Mi", 1024**2),
        "memory_limits": (memory_bytes(q.memory_limits) or 0, peak.memory_limits_bytes, "Mi", 1024**2),
        "storage": (memory_bytes(q.storage) or 0, peak.storage_bytes, "Mi", 1024**2),
    }
    raised: dict[str, Any] = {
        field: f"{math.ceil(need / scale)}{unit}"
        for field, (got, need, unit, scale) in have.items()
        if need > got
    }
    if peak.pods > q.pods:
        raised["pods"] = peak.pods
    return raised


def build(configs: Configs) -> dict[str, EnvConfig]:
    """Every variant, loaded and checked like a committed environment."""
    out = {}
    for name, make in VARIANTS.items():
        env, overlay = make(configs)
        out[name] = load(env, {**overlay, "quota": fitting_quota(env, overlay, configs[env])})
    return out
