"""Least-privilege NetworkPolicies for one environment.

The design doc's single policy limited egress to postgres and redis, which broke
DNS (so nothing resolved) and the OpenAI / GitHub OAuth calls the app exists to
make, and it let everything else in because nothing denied by default. Here the
namespace starts from deny-all in both directions, and each policy below opens
exactly one need, named after it, so a reviewer can read the allowed graph from
the file list. Everything is derived from the config: a store that is managed
has no pods to admit traffic to, so its rules turn into egress to its CIDR.

NetworkPolicy cannot match DNS names, so "the internet on 443" is an IP range
minus the private ones; see docs/security.md for CNI-specific FQDN policies.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from cdk8s_plus_28 import k8s
from constructs import Construct

from ..config.platform import GKE_METADATA_DNS, NODE_LOCAL_DNS, DnsConfig
from ..config.types import NetworkConfig
from ..identity import Identity
from ..kube import meta
from . import peers as peer

INTERNET = "0.0.0.0/0"
ACME_SOLVER_LABELS = {"acme.cert-manager.io/http01-solver": "true"}
ACME_SOLVER_PORT = 8089
HTTPS = 443


class Listener(Protocol):
    """A workload that accepts connections: its pods and the port they listen on."""

    name: str
    identity: Identity
    port: int


class NetworkPolicies(Construct):
    """Default deny, then one named policy per need.

    :param namespace: the environment's namespace.
    :param owner: the platform identity the policies are labelled with.
    :param network: the neighbours' namespaces and labels, the HTTPS exceptions and managed CIDRs.
    :param dns: where the cluster's pods resolve names.
    :param app: the pods that run the app (web and workers); they share their network needs.
    :param web: the web tier, reached from the ingress controller.
    :param postgres: the in-cluster database, or None.
    :param pgbouncer: the pooler, or None.
    :param redis: the in-cluster queue Redis, or None.
    :param cache: the in-cluster cache Redis, or None.
    :param migration: the migration's identity, or None when migrations are off.
    :param redis_readers: pods outside the namespace that read Redis (KEDA's operator). Default none.
    :param scraped: workloads and metrics ports the monitoring namespace scrapes. Default none.
    :param acme_solver: let the ingress controller reach cert-manager's HTTP-01 solver. Default False.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        namespace: str,
        owner: Identity,
        network: NetworkConfig,
        dns: DnsConfig,
        app: k8s.LabelSelector,
        web: Listener,
        postgres: Listener | None,
        pgbouncer: Listener | None,
        redis: Listener | None,
        cache: Listener | None,
        migration: Identity | None,
        redis_readers: Sequence[k8s.NetworkPolicyPeer] = (),
        scraped: Sequence[tuple[Identity, int]] = (),
        acme_solver: bool = False,
    ) -> None:
        super().__init__(scope, id)
        self._namespace = namespace
        self._owner = owner
        net = network
        managed = [_egress(peer.cidr(e.cidr), e.port) for e in net.managed_egress]

        # Empty podSelector + both policy types and no rules: nothing in, nothing out.
        self._policy("default-deny-all", k8s.LabelSelector(), ingress=[], egress=[])
        self._policy(
            "allow-dns",
            k8s.LabelSelector(),
            egress=[k8s.NetworkPolicyEgressRule(to=_resolvers(dns), ports=peer.dns())],
        )
        ingress_controller = [peer.namespace(net.ingress_namespace, net.ingress_pod_labels)]
        self._policy(
            f"{web.name}-from-ingress",
            peer.of(web.identity),
            ingress=[_ingress(ingress_controller, web.port)],
        )
        if acme_solver:
            # cert-manager's HTTP-01 solver runs in this namespace during issuance and
            # renewal; without this, default-deny leaves every certificate Pending.
            self._policy(
                "acme-solver-from-ingress",
                k8s.LabelSelector(match_labels=ACME_SOLVER_LABELS),
                ingress=[_ingress(ingress_controller, ACME_SOLVER_PORT)],
            )
        scraper = [peer.namespace(net.monitoring_namespace)]
        for who, port in scraped:
            self._policy(f"{who.name}-from-monitoring", peer.of(who), ingress=[_ingress(scraper, port)])

        # App -> data stores: whatever runs in the cluster, by pod; the rest by CIDR.
        in_cluster = [s for s in (postgres, pgbouncer, redis, cache) if s is not None]
        to_stores = [_egress(peer.pods(peer.of(s.identity)), s.port) for s in in_cluster] + managed
        if to_stores:
            self._policy(f"{web.name}-to-datastores", app, egress=to_stores)
        self._policy(
            f"{web.name}-to-internet-https",
            app,
            egress=[_egress(peer.cidr(INTERNET, net.https_except), HTTPS)],
        )

        # Data-store ingress: only the pods that need each store.
        if postgres is not None:
            clients = [peer.pods(app)]
            if pgbouncer is not None:
                clients.append(peer.pods(peer.of(pgbouncer.identity)))
            if migration is not None:
                clients.append(peer.pods(peer.of(migration)))
            self._policy(
                f"{postgres.name}-from-clients",
                peer.of(postgres.identity),
                ingress=[_ingress(clients, postgres.port)],
            )
        if redis is not None:
            self._policy(
                f"{redis.name}-from-clients",
                peer.of(redis.identity),
                ingress=[_ingress([peer.pods(app), *redis_readers], redis.port)],
            )
        if cache is not None:
            self._policy(
                f"{cache.name}-from-clients",
                peer.of(cache.identity),
                ingress=[_ingress([peer.pods(app)], cache.port)],
            )
        to_database = [_egress(peer.pods(peer.of(postgres.identity)), postgres.port)] if postgres else managed
        if pgbouncer is not None:
            self._policy(
                f"{pgbouncer.name}-from-app",
                peer.of(pgbouncer.identity),
                ingress=[_ingress([peer.pods(app)], pgbouncer.port)],
            )
            if to_database:
                self._policy(f"{pgbouncer.name}-to-database", peer.of(pgbouncer.identity), egress=to_database)
        if migration is not None and to_database:
            # Migrations bypass PgBouncer: they need session-level advisory locks.
            self._policy(f"{migration.name}-to-database", peer.of(migration), egress=to_database)

    def _policy(
        self,
        name: str,
        selector: k8s.LabelSelector,
        *,
        ingress: Sequence[k8s.NetworkPolicyIngressRule] | None = None,
        egress: Sequence[k8s.NetworkPolicyEgressRule] | None = None,
    ) -> None:
        # policyTypes lists only the directions this policy speaks about, so an
        # ingress-only policy never isolates its pods' egress by accident.
        types = [t for t, rules in (("Ingress", ingress), ("Egress", egress)) if rules is not None]
        k8s.KubeNetworkPolicy(
            self,
            name,
            metadata=meta(name, self._namespace, self._owner),
            spec=k8s.NetworkPolicySpec(
                pod_selector=selector,
                policy_types=types,
                ingress=list(ingress) if ingress else None,
                egress=list(egress) if egress else None,
            ),
        )


def _resolvers(dns: DnsConfig) -> list[k8s.NetworkPolicyPeer]:
    """Exactly where the pods' DNS queries go in the cluster's DNS mode."""
    extra = [peer.cidr(a) for a in dns.addresses]
    if dns.mode == "kube-dns":
        return [peer.namespace(dns.namespace, dns.pod_labels), *extra]
    if dns.mode == "node-local":
        return [peer.cidr(NODE_LOCAL_DNS), *extra]
    if dns.mode == "gke-cloud-dns":
        return [peer.cidr(GKE_METADATA_DNS), *extra]
    return extra


def _egress(to: k8s.NetworkPolicyPeer, port: int) -> k8s.NetworkPolicyEgressRule:
    return k8s.NetworkPolicyEgressRule(to=[to], ports=peer.tcp(port))


def _ingress(sources: Sequence[k8s.NetworkPolicyPeer], port: int) -> k8s.NetworkPolicyIngressRule:
    return k8s.NetworkPolicyIngressRule(from_=list(sources), ports=peer.tcp(port))
