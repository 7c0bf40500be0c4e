"""Config variants that make every branch of the constructs run, not only the three environments'.

The committed environments never take some branches: KEDA off (workers get a
CPU HPA), a managed Redis, the external secrets provider, monitoring or
PgBouncer off, VPA in staging, another cloud's spot labels, another DNS mode.
Each variant below flips several independent branches at once (so the suite
synthesizes four charts, not twenty), and tests/test_variants.py checks each
flip for meaning; the syrupy snapshots of the variants show what else changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

from vibeyard.config import EnvConfig, validate
from vibeyard.config.types import (
    ClusterConfig,
    Destination,
    DnsConfig,
    Placement,
    SecretsConfig,
)

Configs = Mapping[str, EnvConfig]


def keda_off(c: Configs) -> EnvConfig:
    """prod without KEDA, VPA or a read replica; GKE spot and Cloud DNS; a private
    registry; Reloader; one pool that cannot scale at all."""
    prod = c["prod"]
    fixed = replace(prod.workers[0], name="fixed", replicas=2, min_replicas=2, max_replicas=2)
    return replace(
        prod,
        keda=replace(prod.keda, enabled=False),
        vpa_enabled=False,
        postgres=replace(prod.postgres, read_replica=False),
        workers=(*prod.workers, fixed),
        cluster=ClusterConfig(provider="gke", dns=DnsConfig(mode="gke-cloud-dns")),
        image_pull_secrets=("registry-credentials",),
        secrets=replace(prod.secrets, reloader=True),
    )


def managed_redis(c: Configs) -> EnvConfig:
    """prod with a managed Redis (KEDA still on), External Secrets, AKS, NodeLocal DNS
    and two clusters."""
    prod = c["prod"]
    return replace(
        prod,
        redis=replace(prod.redis, mode="managed"),
        secrets=SecretsConfig(provider="external", external_store="vault-backend"),
        cluster=ClusterConfig(
            provider="aks", dns=DnsConfig(mode="node-local", addresses=("172.20.0.10/32",))
        ),
        gitops=replace(
            prod.gitops,
            destinations=(
                Destination(name="prod-eu", server="https://prod-eu.k8s.example.com"),
                Destination(name="prod-us", server="https://prod-us.k8s.example.com"),
            ),
        )
        if prod.gitops
        else None,
    )


def bare(c: Configs) -> EnvConfig:
    """staging without monitoring, PgBouncer or spot, with VPA, storage classes,
    Karpenter, its own cluster domain, explicit DNS resolvers and an existing Secret."""
    staging = c["staging"]
    return replace(
        staging,
        monitoring=replace(staging.monitoring, enabled=False),
        pgbouncer=replace(staging.pgbouncer, enabled=False),
        vpa_enabled=True,
        postgres=replace(staging.postgres, storage_class="gp3-encrypted"),
        redis=replace(staging.redis, storage_class="gp3-encrypted"),
        web=replace(staging.web, placement=Placement()),
        workers=tuple(replace(p, placement=None) for p in staging.workers),
        cluster=ClusterConfig(
            provider="karpenter",
            cluster_domain="k8s.internal",
            dns=DnsConfig(mode="addresses", addresses=("10.100.0.10/32",)),
        ),
        secrets=SecretsConfig(provider="existing"),
    )


def pinned(c: Configs) -> EnvConfig:
    """prod released with a digest, as CD pins it."""
    prod = c["prod"]
    return replace(prod, image=replace(prod.image, tag="2.3.4", digest="sha256:" + "ab" * 32))


VARIANTS: dict[str, Callable[[Configs], EnvConfig]] = {
    "keda-off": keda_off,
    "managed-redis": managed_redis,
    "bare": bare,
    "pinned": pinned,
}


def build(configs: Configs) -> dict[str, EnvConfig]:
    """Every variant, validated like a committed environment."""
    out = {}
    for name, make in VARIANTS.items():
        cfg = make(configs)
        validate(cfg, name)
        out[name] = cfg
    return out
