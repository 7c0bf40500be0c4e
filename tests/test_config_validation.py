"""Values a cluster, a controller or kubectl would reject later are refused at synth, field named.

Each row plants one mistake in a committed environment and expects the exact
one-line message. (That any ``ConfigError`` leaves the CLI with exit 2, one
line and an untouched ``dist/`` is shown once for all in test_config_errors.py.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest

from vibeyard.config import ENVIRONMENTS, ConfigError, EnvConfig, Topology, validate, validate_together
from vibeyard.config.sizing import namespace_peak
from vibeyard.config.types import ClusterConfig, Destination, DnsConfig, ManagedEgress, Placement, Toleration

CIDR = "an IPv4 or IPv6 network in CIDR form, like '10.0.0.0/8'"
SUBDOMAIN = "a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', at most 253 characters"


def at(path: str, value: Any) -> Callable[[EnvConfig], EnvConfig]:
    """``cfg`` with the dotted ``path`` set to ``value``, rebuilt with ``replace``."""

    def mutate(cfg: EnvConfig) -> EnvConfig:
        head, _, rest = path.partition(".")
        if not rest:
            return replace(cfg, **{head: value})
        return replace(cfg, **{head: at(rest, value)(getattr(cfg, head))})  # type: ignore[arg-type]

    return mutate


def pool(index: int, **changes: Any) -> Callable[[EnvConfig], EnvConfig]:
    def mutate(cfg: EnvConfig) -> EnvConfig:
        workers = list(cfg.workers)
        workers[index] = replace(workers[index], **changes)
        return replace(cfg, workers=tuple(workers))

    return mutate


@dataclass(frozen=True)
class Row:
    id: str
    mutate: Callable[[EnvConfig], EnvConfig]
    expected: str
    env: str = "prod"


ROWS = [
    # The three the robustness review found accepted.
    Row(
        "egress-cidr-without-prefix",
        at("network.managed_egress", (ManagedEgress(cidr="10.0.0.0", port=5432),)),
        f"prod: network.managed_egress[0]='10.0.0.0' is invalid: {CIDR}",
    ),
    Row(
        "unknown-secrets-provider",
        at("secrets.provider", "plaintext"),
        "prod: secrets.provider='plaintext' is invalid: one of 'sealed', 'external', 'existing'",
    ),
    # What a controller or kubectl would refuse.
    Row(
        "https-except-without-prefix",
        at("network.https_except", ("10.0.0.0/8", "192.168.0.0")),
        f"prod: network.https_except[1]='192.168.0.0' is invalid: {CIDR}",
    ),
    Row(
        "dns-addresses-empty",
        at("cluster", ClusterConfig(dns=DnsConfig(mode="addresses"))),
        "prod: cluster.dns.addresses=() is invalid: the resolvers' CIDRs in mode 'addresses'",
    ),
    Row(
        "storage-class-uppercase",
        at("redis.storage_class", "GP3"),
        f"prod: redis.storage_class='GP3' is invalid: {SUBDOMAIN}",
    ),
    Row(
        "cluster-domain-underscore",
        at("cluster.cluster_domain", "cluster_local"),
        f"prod: cluster.cluster_domain='cluster_local' is invalid: {SUBDOMAIN}",
    ),
    Row(
        "pull-secret-name",
        at("image_pull_secrets", ("Registry Creds",)),
        f"prod: image_pull_secrets[0]='Registry Creds' is invalid: {SUBDOMAIN}",
    ),
    Row(
        "extra-env-shadows-port",
        at("extra_env", {"PORT": "8080"}),
        "prod: extra_env[PORT]='PORT' is invalid: a variable name of letters, digits and '_' that the chart "
        "does not set itself",
    ),
    Row(
        "extra-env-bad-name",
        at("extra_env", {"feature-flag": "on"}),
        "prod: extra_env[feature-flag]='feature-flag' is invalid: a variable name of letters, digits and '_' "
        "that the chart does not set itself",
    ),
    Row(
        "nginx-body-size",
        at("ingress.proxy_body_size", "10 MB"),
        "prod: ingress.proxy_body_size='10 MB' is invalid: an nginx size like '10m', '512k' or '1g'",
    ),
    Row(
        "node-selector-key",
        at("web.placement", Placement(node_selector={"pool type": "general"})),
        "prod: web.placement.node_selector[pool type]='pool type' is invalid: a label key like "
        "'app.kubernetes.io/name'",
    ),
    Row(
        "toleration-exists-with-value",
        at(
            "web.placement",
            Placement(tolerations=(Toleration(key="dedicated", value="web", operator="Exists"),)),
        ),
        "prod: web.placement.tolerations[0].value='web' is invalid: None with 'Exists'",
    ),
    Row(
        "postgres-user-uppercase",
        at("postgres.user", "Vibeyard"),
        "prod: postgres.user='Vibeyard' is invalid: a lowercase PostgreSQL name of letters, digits and '_'",
    ),
    Row(
        "managed-database-without-host",
        at("postgres.host", None),
        "prod: postgres.host=None is invalid: the managed database's DNS name, which PgBouncer connects to",
    ),
    Row(
        "postgres-grace-below-shutdown",
        at("postgres.termination_grace_seconds", 60),
        "staging: postgres.termination_grace_seconds=60 is invalid: an integer >= 70",
        env="staging",
    ),
    Row(
        "redis-without-fork-headroom",
        at("redis.maxmemory_percent", 90),
        "prod: redis.maxmemory_percent=90 is invalid: an integer from 10 to 60",
    ),
    Row(
        "gitops-destination-http",
        at("gitops.destinations", (Destination(name="prod", server="http://prod.example.com"),)),
        "prod: gitops.destinations[0].server='http://prod.example.com' is invalid: an absolute https URL",
    ),
    Row(
        "gitops-destination-twice",
        at(
            "gitops.destinations",
            (Destination(name="a", server="https://a"), Destination(name="a", server="https://b")),
        ),
        "prod: gitops.destinations[1].name='a' is invalid: a cluster named once",
    ),
    Row(
        "scrape-interval",
        at("monitoring.scrape_interval", "30"),
        "prod: monitoring.scrape_interval='30' is invalid: a duration like '30s', '15m' or '1h'",
    ),
    # Spot nodes are reclaimed with a notice: a job that outlasts it is lost unless it may run again.
    Row(
        "long-jobs-on-spot",
        pool(1, interruptible=False),
        "prod: workers[1].placement.prefer_spot=True is invalid: False, or workers[1].interruptible=True: "
        "its jobs (570s) outlast eks's 120s spot reclaim notice",
    ),
    Row(
        "long-jobs-on-gke-spot",
        lambda cfg: pool(0, longest_job_seconds=60)(at("cluster.provider", "gke")(cfg)),
        "staging: workers[0].placement.prefer_spot=True is invalid: False, or workers[0].interruptible=True: "
        "its jobs (60s) outlast gke's 30s spot reclaim notice",
        env="staging",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_a_value_the_cluster_would_reject_is_refused_at_synth(row: Row) -> None:
    with pytest.raises(ConfigError) as err:
        validate(row.mutate(ENVIRONMENTS[row.env]), row.env)
    assert str(err.value) == row.expected


def test_two_environments_sharing_a_namespace_are_refused() -> None:
    clash = {**ENVIRONMENTS, "staging": replace(ENVIRONMENTS["staging"], namespace="production")}
    with pytest.raises(ConfigError) as err:
        validate_together(clash)
    assert (
        str(err.value)
        == "prod: namespace='production' is invalid: a namespace of its own; staging uses it already"
    )
    validate_together(ENVIRONMENTS)


def test_the_quota_must_cover_old_pods_terminating_during_a_release_at_peak() -> None:
    prod = ENVIRONMENTS["prod"]
    peak = namespace_peak(Topology.of(prod))
    web_max = prod.web.autoscaling.max_replicas
    # A quota that covers the surge but not the old pods still in their grace period is refused.
    without_terminating = peak.pods - web_max
    with pytest.raises(ConfigError) as err:
        validate(replace(prod, quota=replace(prod.quota, pods=without_terminating)), "prod")
    assert str(err.value).startswith(
        f"prod: quota.pods={without_terminating} is invalid: at least {peak.pods}"
    )
    validate(replace(prod, quota=replace(prod.quota, pods=peak.pods)), "prod")


def test_interruptible_long_jobs_may_prefer_spot() -> None:
    prod = ENVIRONMENTS["prod"]
    assert prod.workers[1].interruptible and prod.workers[1].placement == Placement(prefer_spot=True)
    validate(pool(1, placement=Placement(prefer_spot=False), interruptible=False)(prod), "prod")
