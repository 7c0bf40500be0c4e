"""The connections each environment must permit and must forbid, from its config.

Written independently of ``network_policies.py``: these are the requirements
(the issue's list of needed paths and forbidden ones), expressed as the
NetworkPolicies network-config-analyzer takes as queries. A ``permits`` query
passes when every connection its policy explicitly allows is allowed by the
environment; a ``forbids`` query when none of them is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from vibeyard import identity
from vibeyard.config import EnvConfig
from vibeyard.identity import Identity, instance_for

Verb = Literal["permits", "forbids"]
Peer = dict[str, Any]

NS_LABEL = "kubernetes.io/metadata.name"
OTHER_NAMESPACE = "other-team"
# The exporters' listen ports, from their images' documentation (not from our code).
EXPORTER_PORTS = {"postgres": 9187, "redis": 9121, "redis-cache": 9121, "pgbouncer": 9127}
INTERNET = "0.0.0.0/0"
MAX_PORT = 65535


@dataclass(frozen=True)
class Query:
    name: str
    verb: Verb
    description: str
    policy: dict[str, Any]


def _namespace(name: str, pod_labels: dict[str, str] | None = None) -> Peer:
    peer: Peer = {"namespaceSelector": {"matchLabels": {NS_LABEL: name}}}
    if pod_labels:
        peer["podSelector"] = {"matchLabels": dict(pod_labels)}
    return peer


def _pods(who: Identity) -> Peer:
    return {"podSelector": {"matchLabels": who.selector}}


def _internet(cfg: EnvConfig) -> Peer:
    return {"ipBlock": {"cidr": INTERNET, "except": list(cfg.network.https_except)}}


def _tcp(port: int) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": port}]


def _all_but(port: int) -> list[dict[str, Any]]:
    """Every TCP port except ``port``, and all of UDP and SCTP."""
    ranges = [(1, port - 1), (port + 1, MAX_PORT)]
    tcp = [{"protocol": "TCP", "port": lo, "endPort": hi} for lo, hi in ranges if lo <= hi]
    return [*tcp, {"protocol": "UDP"}, {"protocol": "SCTP"}]


class _Builder:
    def __init__(self, cfg: EnvConfig) -> None:
        self.cfg = cfg
        self.ns = cfg.namespace
        self.queries: list[Query] = []

    def add(
        self,
        verb: Verb,
        name: str,
        description: str,
        subject: dict[str, Any],
        *,
        ingress_from: list[Peer] | None = None,
        egress_to: list[Peer] | None = None,
        ports: list[dict[str, Any]] | None = None,
    ) -> None:
        """One query: ``subject`` pods of our namespace, and the traffic in or out of them."""
        spec: dict[str, Any] = {"podSelector": subject}
        rule: dict[str, Any] = {}
        if ports:
            rule["ports"] = ports
        if ingress_from is not None:
            spec["policyTypes"] = ["Ingress"]
            spec["ingress"] = [{"from": ingress_from, **rule}]
        else:
            spec["policyTypes"] = ["Egress"]
            spec["egress"] = [{"to": egress_to or [], **rule}]
        policy = {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": self.ns},
            "spec": spec,
        }
        self.queries.append(Query(name=name, verb=verb, description=description, policy=policy))


def _sel(who: Identity) -> dict[str, Any]:
    return {"matchLabels": who.selector}


def queries_for(cfg: EnvConfig) -> list[Query]:
    b = _Builder(cfg)
    net = cfg.network
    inst = instance_for(cfg.namespace)
    web = identity.of(identity.WEB, inst)
    workers = [(pool, identity.worker(pool.name, inst)) for pool in cfg.workers]
    apps = [("web", web)] + [(f"worker-{pool.name}", who) for pool, who in workers]
    postgres = identity.of(identity.POSTGRES, inst) if cfg.postgres.mode == "in-cluster" else None
    redis = identity.of(identity.REDIS, inst) if cfg.redis.mode == "in-cluster" else None
    cache = identity.of(identity.CACHE, inst) if cfg.redis.mode == "in-cluster" else None
    pgbouncer = identity.of(identity.PGBOUNCER, inst) if cfg.pgbouncer.enabled else None
    migration = identity.of(identity.MIGRATION, inst) if cfg.migration.enabled else None
    stores = [
        (n, who)
        for n, who in (
            ("postgres", postgres),
            ("redis", redis),
            ("redis-cache", cache),
            ("pgbouncer", pgbouncer),
        )
        if who
    ]
    ports = {
        "postgres": cfg.postgres.port,
        "redis": 6379,
        "redis-cache": 6379,
        "pgbouncer": cfg.pgbouncer.port,
    }
    ingress_ctl = _namespace(net.ingress_namespace, dict(net.ingress_pod_labels))
    monitoring = _namespace(net.monitoring_namespace)

    # --- forbidden ---------------------------------------------------------------
    for name, who in [*stores, *((f"worker-{p.name}", w) for p, w in workers)]:
        b.add(
            "forbids",
            f"ingress-controller-to-{name}",
            f"the ingress controller must not reach {name}",
            _sel(who),
            ingress_from=[_namespace(net.ingress_namespace)],
        )
    b.add(
        "forbids",
        "ingress-controller-to-web-other-ports",
        f"the ingress controller reaches the web pods on TCP {cfg.web.port} only",
        _sel(web),
        ingress_from=[_namespace(net.ingress_namespace)],
        ports=_all_but(cfg.web.port),
    )
    b.add(
        "forbids",
        "other-namespace-to-anything",
        f"namespace {OTHER_NAMESPACE} must reach nothing of ours",
        {},
        ingress_from=[_namespace(OTHER_NAMESPACE)],
    )
    b.add(
        "forbids",
        "internet-to-anything",
        "no address outside the cluster connects to our pods directly",
        {},
        ingress_from=[{"ipBlock": {"cidr": INTERNET}}],
    )
    for name, who in stores:
        b.add(
            "forbids",
            f"monitoring-to-{name}",
            f"the monitoring namespace must not reach {name}'s data port",
            _sel(who),
            ingress_from=[monitoring],
            ports=_tcp(ports[name]),
        )
        if not cfg.monitoring.enabled:
            b.add(
                "forbids",
                f"monitoring-to-{name}-any-port",
                f"monitoring is off here, so nothing scrapes {name}",
                _sel(who),
                ingress_from=[monitoring],
            )
        b.add(
            "forbids",
            f"{name}-to-internet",
            f"{name} must not reach the internet",
            _sel(who),
            egress_to=[_internet(cfg)],
        )
    for pool, who in workers:
        if pool.metrics_port is None:
            b.add(
                "forbids",
                f"monitoring-to-worker-{pool.name}",
                f"worker pool {pool.name} exposes no metrics port, so monitoring must not reach it",
                _sel(who),
                ingress_from=[monitoring],
            )
    if not cfg.monitoring.enabled:
        b.add(
            "forbids",
            "monitoring-to-web",
            "monitoring is off here, so nothing scrapes the web pods",
            _sel(web),
            ingress_from=[monitoring],
        )
    if migration:
        b.add(
            "forbids",
            "migration-to-internet",
            "the migration job must not reach the internet",
            _sel(migration),
            egress_to=[_internet(cfg)],
        )
    for name, who in apps:
        b.add(
            "forbids",
            f"{name}-to-internet-other-ports",
            f"{name} reaches the internet on TCP 443 only",
            _sel(who),
            egress_to=[_internet(cfg)],
            ports=_all_but(443),
        )

    # --- permitted ---------------------------------------------------------------
    b.add(
        "permits",
        "ingress-controller-to-web",
        f"the ingress controller reaches web on TCP {cfg.web.port}",
        _sel(web),
        ingress_from=[ingress_ctl],
        ports=_tcp(cfg.web.port),
    )
    dns = cfg.cluster.dns
    assert dns.mode == "kube-dns", "the committed environments resolve with kube-dns"
    b.add(
        "permits",
        "every-pod-to-dns",
        "every pod resolves names with kube-dns on UDP and TCP 53",
        {},
        egress_to=[_namespace(dns.namespace, dict(dns.pod_labels))],
        ports=[{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
    )
    if cfg.monitoring.enabled:
        b.add(
            "permits",
            "monitoring-to-web-metrics",
            "Prometheus scrapes the web metrics port",
            _sel(web),
            ingress_from=[monitoring],
            ports=_tcp(cfg.web.port),
        )
        for pool, who in workers:
            if pool.metrics_port is not None:
                b.add(
                    "permits",
                    f"monitoring-to-worker-{pool.name}-metrics",
                    f"Prometheus scrapes worker pool {pool.name}",
                    _sel(who),
                    ingress_from=[monitoring],
                    ports=_tcp(pool.metrics_port),
                )
        for name, who in stores:
            b.add(
                "permits",
                f"monitoring-to-{name}-exporter",
                f"Prometheus scrapes {name}'s exporter",
                _sel(who),
                ingress_from=[monitoring],
                ports=_tcp(EXPORTER_PORTS[name]),
            )
    managed = cfg.network.managed_egress
    for name, who in apps:
        for store, target in stores:
            b.add(
                "permits",
                f"{name}-to-{store}",
                f"{name} reaches {store}",
                _sel(who),
                egress_to=[_pods(target)],
                ports=_tcp(ports[store]),
            )
        for i, dest in enumerate(managed):
            b.add(
                "permits",
                f"{name}-to-managed-{i}",
                f"{name} reaches the managed store {dest.cidr}:{dest.port}",
                _sel(who),
                egress_to=[{"ipBlock": {"cidr": dest.cidr}}],
                ports=_tcp(dest.port),
            )
        b.add(
            "permits",
            f"{name}-to-internet-https",
            f"{name} calls external APIs on TCP 443",
            _sel(who),
            egress_to=[_internet(cfg)],
            ports=_tcp(443),
        )
    for client_name, client in (("pgbouncer", pgbouncer), ("migration", migration)):
        if client is None:
            continue
        if postgres:
            b.add(
                "permits",
                f"{client_name}-to-postgres",
                f"{client_name} reaches postgres",
                _sel(client),
                egress_to=[_pods(postgres)],
                ports=_tcp(cfg.postgres.port),
            )
        elif cfg.postgres.mode == "managed":
            for i, dest in enumerate(managed):
                b.add(
                    "permits",
                    f"{client_name}-to-managed-{i}",
                    f"{client_name} reaches the managed database {dest.cidr}:{dest.port}",
                    _sel(client),
                    egress_to=[{"ipBlock": {"cidr": dest.cidr}}],
                    ports=_tcp(dest.port),
                )
    if redis and cfg.keda.enabled:
        b.add(
            "permits",
            "keda-operator-to-redis",
            "KEDA's operator reads queue lengths from redis",
            _sel(redis),
            ingress_from=[_namespace(cfg.keda.namespace, dict(cfg.keda.operator_labels))],
            ports=_tcp(6379),
        )
    return b.queries
