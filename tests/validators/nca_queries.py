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

from tests.edge_facts import ACME_SOLVER, ENVOY_NAMESPACE, ENVOY_OWNER, INGRESS, data_plane, edges
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


def _all_but(port: int, protocols: tuple[str, ...] = ("TCP",)) -> list[dict[str, Any]]:
    """Every port of ``protocols`` except ``port``, and all of the other protocols."""
    ranges = [(1, port - 1), (port + 1, MAX_PORT)]
    some = [{"protocol": p, "port": lo, "endPort": hi} for p in protocols for lo, hi in ranges if lo <= hi]
    return [*some, *({"protocol": p} for p in ("TCP", "UDP", "SCTP") if p not in protocols)]


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


def _edge_queries(b: _Builder, cfg: EnvConfig, web: Identity, inside: list[tuple[str, Identity]]) -> None:
    """Only the chosen edge's proxies reach the web pods (and, for HTTP-01, the ACME
    solver), on their port only; no other edge, and no other team's Gateway, does."""
    solver_labels, solver_port = ACME_SOLVER
    solver = {"matchLabels": solver_labels}
    http01 = cfg.edge.acme_http01
    for edge in edges(cfg):
        proxies = data_plane(cfg, edge)
        b.add(
            "permits",
            f"{edge}-to-web",
            f"the {edge} reaches web",
            _sel(web),
            ingress_from=proxies,
            ports=_tcp(cfg.web.port),
        )
        b.add(
            "forbids",
            f"{edge}-to-web-other-ports",
            f"the {edge} reaches web on TCP {cfg.web.port} only",
            _sel(web),
            ingress_from=proxies,
            ports=_all_but(cfg.web.port),
        )
        for name, who in inside:
            b.add(
                "forbids",
                f"{edge}-to-{name}",
                f"the {edge} must not reach {name}",
                _sel(who),
                ingress_from=proxies,
            )
        if http01:
            b.add(
                "permits",
                f"{edge}-to-acme-solver",
                f"the {edge} reaches cert-manager's HTTP-01 solver",
                solver,
                ingress_from=proxies,
                ports=_tcp(solver_port),
            )
    for name, peer in _other_edges(cfg):
        b.add(
            "forbids",
            f"{name}-to-web",
            f"{name} is not this environment's edge",
            _sel(web),
            ingress_from=[peer],
        )
        if http01:
            b.add(
                "forbids",
                f"{name}-to-acme-solver",
                f"{name} must not reach the ACME solver",
                solver,
                ingress_from=[peer],
            )


def _other_edges(cfg: EnvConfig) -> list[tuple[str, Peer]]:
    """Every edge in the cluster context that is not this environment's."""
    chosen = cfg.edge.ingress.controller if "ingress" in edges(cfg) else None
    out = [(c, _namespace(ns, labels)) for c, (_, ns, labels) in INGRESS.items() if c != chosen]
    other_gateway = dict(zip(ENVOY_OWNER, ("edge", OTHER_NAMESPACE), strict=True))
    out.append(("other-teams-gateway", _namespace(ENVOY_NAMESPACE, other_gateway)))
    return out


@dataclass(frozen=True)
class _Who:
    """The environment's pods, by identity: each is None where it does not run."""

    web: Identity
    workers: list[tuple[Any, Identity]]
    postgres: Identity | None
    redis: Identity | None
    pgbouncer: Identity | None
    migration: Identity | None
    stores: list[tuple[str, Identity]]
    ports: dict[str, int]

    @property
    def apps(self) -> list[tuple[str, Identity]]:
        return [("web", self.web)] + [(f"worker-{pool.name}", who) for pool, who in self.workers]

    @staticmethod
    def of(cfg: EnvConfig) -> _Who:
        inst = instance_for(cfg.namespace)
        in_cluster = cfg.redis.mode == "in-cluster"
        postgres = identity.of(identity.POSTGRES, inst) if cfg.postgres.mode == "in-cluster" else None
        redis = identity.of(identity.REDIS, inst) if in_cluster else None
        cache = identity.of(identity.CACHE, inst) if in_cluster else None
        pgbouncer = identity.of(identity.PGBOUNCER, inst) if cfg.pgbouncer.enabled else None
        named = (("postgres", postgres), ("redis", redis), ("redis-cache", cache), ("pgbouncer", pgbouncer))
        return _Who(
            web=identity.of(identity.WEB, inst),
            workers=[(pool, identity.worker(pool.name, inst)) for pool in cfg.workers],
            postgres=postgres,
            redis=redis,
            pgbouncer=pgbouncer,
            migration=identity.of(identity.MIGRATION, inst) if cfg.migration.enabled else None,
            stores=[(n, who) for n, who in named if who],
            ports={
                "postgres": cfg.postgres.port,
                "redis": 6379,
                "redis-cache": 6379,
                "pgbouncer": cfg.pgbouncer.port,
            },
        )


def queries_for(cfg: EnvConfig) -> list[Query]:
    b, who = _Builder(cfg), _Who.of(cfg)
    _edge_queries(b, cfg, who.web, [*who.stores, *((f"worker-{p.name}", w) for p, w in who.workers)])
    _outsiders(b, cfg)
    _monitoring(b, cfg, who)
    _internet_egress(b, cfg, who)
    _dns(b, cfg)
    _app_to_stores(b, cfg, who)
    _database_clients(b, cfg, who)
    if who.redis and cfg.keda.enabled:
        b.add(
            "permits",
            "keda-operator-to-redis",
            "KEDA's operator reads queue lengths from redis",
            _sel(who.redis),
            ingress_from=[_namespace(cfg.keda.namespace, dict(cfg.keda.operator_labels))],
            ports=_tcp(6379),
        )
    return b.queries


def _outsiders(b: _Builder, cfg: EnvConfig) -> None:
    """Another namespace reaches nothing; nothing outside the cluster but the edge's ranges."""
    b.add(
        "forbids",
        "other-namespace-to-anything",
        f"namespace {OTHER_NAMESPACE} must reach nothing of ours",
        {},
        ingress_from=[_namespace(OTHER_NAMESPACE)],
    )
    # An edge that sends from address ranges (a cloud load balancer) is the one exception.
    edge_ranges = sorted(
        {p["ipBlock"]["cidr"] for e in edges(cfg) for p in data_plane(cfg, e) if "ipBlock" in p}
    )
    b.add(
        "forbids",
        "internet-to-anything",
        "no address outside the cluster connects to our pods directly, but the edge's",
        {},
        ingress_from=[{"ipBlock": {"cidr": INTERNET, **({"except": edge_ranges} if edge_ranges else {})}}],
    )


def _monitoring(b: _Builder, cfg: EnvConfig, who: _Who) -> None:
    """Prometheus scrapes each metrics port, and reaches no store's data port."""
    monitoring, on = _namespace(cfg.network.monitoring_namespace), cfg.monitoring.enabled
    for name, store in who.stores:
        b.add(
            "forbids",
            f"monitoring-to-{name}",
            f"the monitoring namespace must not reach {name}'s data port",
            _sel(store),
            ingress_from=[monitoring],
            ports=_tcp(who.ports[name]),
        )
        if on:
            b.add(
                "permits",
                f"monitoring-to-{name}-exporter",
                f"Prometheus scrapes {name}'s exporter",
                _sel(store),
                ingress_from=[monitoring],
                ports=_tcp(EXPORTER_PORTS[name]),
            )
        else:
            b.add(
                "forbids",
                f"monitoring-to-{name}-any-port",
                f"monitoring is off here, so nothing scrapes {name}",
                _sel(store),
                ingress_from=[monitoring],
            )
    scraped = [("web", who.web, cfg.web.port)] + [
        (f"worker-{pool.name}", w, pool.metrics_port) for pool, w in who.workers
    ]
    for name, pods, port in scraped:
        if on and port is not None:
            what = "the web metrics port" if name == "web" else f"worker pool {name.removeprefix('worker-')}"
            query = "monitoring-to-web-metrics" if name == "web" else f"monitoring-to-{name}-metrics"
            b.add(
                "permits",
                query,
                f"Prometheus scrapes {what}",
                _sel(pods),
                ingress_from=[monitoring],
                ports=_tcp(port),
            )
        elif not on or port is None:
            why = (
                "monitoring is off here"
                if not on
                else f"worker pool {name.removeprefix('worker-')} exposes no metrics port"
            )
            b.add(
                "forbids",
                f"monitoring-to-{name}",
                f"{why}, so monitoring must not reach it",
                _sel(pods),
                ingress_from=[monitoring],
            )


def _internet_egress(b: _Builder, cfg: EnvConfig, who: _Who) -> None:
    """The app reaches the internet on 443 only; stores and the migration not at all."""
    for name, store in who.stores:
        b.add(
            "forbids",
            f"{name}-to-internet",
            f"{name} must not reach the internet",
            _sel(store),
            egress_to=[_internet(cfg)],
        )
    if who.migration:
        b.add(
            "forbids",
            "migration-to-internet",
            "the migration job must not reach the internet",
            _sel(who.migration),
            egress_to=[_internet(cfg)],
        )
    for name, app in who.apps:
        b.add(
            "forbids",
            f"{name}-to-internet-other-ports",
            f"{name} reaches the internet on TCP 443 only",
            _sel(app),
            egress_to=[_internet(cfg)],
            ports=_all_but(443),
        )
        b.add(
            "permits",
            f"{name}-to-internet-https",
            f"{name} calls external APIs on TCP 443",
            _sel(app),
            egress_to=[_internet(cfg)],
            ports=_tcp(443),
        )


def _dns(b: _Builder, cfg: EnvConfig) -> None:
    """Each resolver as its mode documents it (NodeLocal DNSCache's link-local address,
    GKE's Cloud DNS on the metadata server's)."""
    dns = cfg.cluster.dns
    metadata = {"ipBlock": {"cidr": "169.254.169.254/32"}}
    resolvers = {
        "kube-dns": [_namespace(dns.namespace, dict(dns.pod_labels))],
        "node-local": [{"ipBlock": {"cidr": "169.254.20.10/32"}}],
        "gke-cloud-dns": [metadata],
        "addresses": [],
    }[dns.mode] + [{"ipBlock": {"cidr": c}} for c in dns.addresses]
    b.add(
        "permits",
        "every-pod-to-dns",
        "every pod resolves names on UDP and TCP 53",
        {},
        egress_to=resolvers,
        ports=[{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
    )
    if dns.mode == "gke-cloud-dns":
        # GKE's resolver address is also its metadata server, which hands out node credentials.
        b.add(
            "forbids",
            "every-pod-to-metadata-server",
            "the metadata server, GKE's resolver, is open on port 53 only",
            {},
            egress_to=[metadata],
            ports=_all_but(53, ("TCP", "UDP")),
        )


def _app_to_stores(b: _Builder, cfg: EnvConfig, who: _Who) -> None:
    for name, app in who.apps:
        for store, target in who.stores:
            b.add(
                "permits",
                f"{name}-to-{store}",
                f"{name} reaches {store}",
                _sel(app),
                egress_to=[_pods(target)],
                ports=_tcp(who.ports[store]),
            )
        for i, dest in enumerate(cfg.network.managed_egress):
            b.add(
                "permits",
                f"{name}-to-managed-{i}",
                f"{name} reaches the managed store {dest.cidr}:{dest.port}",
                _sel(app),
                egress_to=[{"ipBlock": {"cidr": dest.cidr}}],
                ports=_tcp(dest.port),
            )


def _database_clients(b: _Builder, cfg: EnvConfig, who: _Who) -> None:
    """PgBouncer and the migration reach the database itself."""
    for client_name, client in (("pgbouncer", who.pgbouncer), ("migration", who.migration)):
        if client is None:
            continue
        if who.postgres:
            b.add(
                "permits",
                f"{client_name}-to-postgres",
                f"{client_name} reaches postgres",
                _sel(client),
                egress_to=[_pods(who.postgres)],
                ports=_tcp(cfg.postgres.port),
            )
        elif cfg.postgres.mode == "managed":
            for i, dest in enumerate(cfg.network.managed_egress):
                b.add(
                    "permits",
                    f"{client_name}-to-managed-{i}",
                    f"{client_name} reaches the managed database {dest.cidr}:{dest.port}",
                    _sel(client),
                    egress_to=[{"ipBlock": {"cidr": dest.cidr}}],
                    ports=_tcp(dest.port),
                )
