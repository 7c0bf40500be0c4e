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

from cdk8s_plus_28 import k8s
from constructs import Construct

from . import identity
from . import network_peers as peer
from .config.types import EnvConfig
from .identity import instance_for
from .kube import meta

INTERNET = "0.0.0.0/0"
ACME_SOLVER_LABELS = {"acme.cert-manager.io/http01-solver": "true"}
ACME_SOLVER_PORT = 8089
HTTPS = 443
POSTGRES_PORT = 5432
REDIS_PORT = 6379


class NetworkPolicies(Construct):
    def __init__(self, scope: Construct, id: str, *, cfg: EnvConfig) -> None:
        super().__init__(scope, id)
        self.cfg = cfg
        ns = cfg.namespace
        instance = instance_for(ns)
        self._owner = identity.of(identity.PLATFORM, instance)
        net = cfg.network
        web = identity.of(identity.WEB, instance)
        postgres = peer.of(identity.of(identity.POSTGRES, instance))
        redis = peer.of(identity.of(identity.REDIS, instance))
        pgbouncer = peer.of(identity.of(identity.PGBOUNCER, instance))
        migration = peer.of(identity.of(identity.MIGRATION, instance))
        app = peer.app(ns)
        pg_in_cluster = cfg.postgres.mode == "in-cluster"
        redis_in_cluster = cfg.redis.mode == "in-cluster"
        managed = self._managed_egress()

        # Empty podSelector + both policy types and no rules: nothing in, nothing out.
        self._policy("default-deny-all", k8s.LabelSelector(), ingress=[], egress=[])
        self._policy(
            "allow-dns",
            k8s.LabelSelector(),
            egress=[
                k8s.NetworkPolicyEgressRule(
                    to=[peer.namespace(net.dns_namespace, net.dns_pod_labels)], ports=peer.dns()
                )
            ],
        )
        ingress_controller = [peer.namespace(net.ingress_namespace, net.ingress_pod_labels)]
        self._policy(
            "vibeyard-from-ingress",
            peer.of(web),
            ingress=[_ingress(ingress_controller, cfg.web.port)],
        )
        if cfg.ingress.acme_http01:
            # cert-manager's HTTP-01 solver runs in this namespace during issuance and
            # renewal; without this, default-deny leaves every certificate Pending.
            self._policy(
                "acme-solver-from-ingress",
                k8s.LabelSelector(match_labels=ACME_SOLVER_LABELS),
                ingress=[_ingress(ingress_controller, ACME_SOLVER_PORT)],
            )
        if cfg.monitoring.enabled:
            self._metrics(web)

        # App -> data stores: whatever runs in the cluster, by pod; the rest by CIDR.
        to_stores: list[k8s.NetworkPolicyEgressRule] = []
        if pg_in_cluster:
            to_stores.append(_egress(peer.pods(postgres), POSTGRES_PORT))
        if cfg.pgbouncer.enabled:
            to_stores.append(_egress(peer.pods(pgbouncer), cfg.pgbouncer.port))
        if redis_in_cluster:
            to_stores.append(_egress(peer.pods(redis), REDIS_PORT))
        to_stores += managed
        if to_stores:
            self._policy("vibeyard-to-datastores", app, egress=to_stores)
        self._policy(
            "vibeyard-to-internet-https",
            app,
            egress=[_egress(peer.cidr(INTERNET, net.https_except), HTTPS)],
        )

        # Data-store ingress: only the pods that need each store.
        if pg_in_cluster:
            clients = [peer.pods(app)]
            if cfg.pgbouncer.enabled:
                clients.append(peer.pods(pgbouncer))
            if cfg.migration.enabled:
                clients.append(peer.pods(migration))
            self._policy("postgres-from-clients", postgres, ingress=[_ingress(clients, POSTGRES_PORT)])
        if redis_in_cluster:
            clients = [peer.pods(app)]
            if cfg.keda.enabled:
                clients.append(peer.namespace(peer.KEDA_NAMESPACE, peer.KEDA_OPERATOR_LABELS))
            self._policy("redis-from-clients", redis, ingress=[_ingress(clients, REDIS_PORT)])
        to_database = [_egress(peer.pods(postgres), POSTGRES_PORT)] if pg_in_cluster else managed
        if cfg.pgbouncer.enabled:
            self._policy(
                "pgbouncer-from-app",
                pgbouncer,
                ingress=[_ingress([peer.pods(app)], cfg.pgbouncer.port)],
            )
            if to_database:
                self._policy("pgbouncer-to-database", pgbouncer, egress=to_database)
        if cfg.migration.enabled and to_database:
            # Migrations bypass PgBouncer: they need session-level advisory locks.
            self._policy("vibeyard-migrate-to-database", migration, egress=to_database)

    def _metrics(self, web: identity.Identity) -> None:
        """Prometheus scrapes from the monitoring namespace, on the metrics ports only."""
        scraper = [peer.namespace(self.cfg.network.monitoring_namespace)]
        self._policy(
            "vibeyard-from-monitoring",
            peer.of(web),
            ingress=[_ingress(scraper, self.cfg.web.port)],
        )
        instance = instance_for(self.cfg.namespace)
        for pool in self.cfg.workers:
            if pool.metrics_port is not None:
                self._policy(
                    f"{identity.worker_name(pool.name)}-from-monitoring",
                    peer.of(identity.worker(pool.name, instance)),
                    ingress=[_ingress(scraper, pool.metrics_port)],
                )

    def _managed_egress(self) -> list[k8s.NetworkPolicyEgressRule]:
        return [_egress(peer.cidr(e.cidr), e.port) for e in self.cfg.network.managed_egress]

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
            metadata=meta(name, self.cfg.namespace, self._owner),
            spec=k8s.NetworkPolicySpec(
                pod_selector=selector,
                policy_types=types,
                ingress=list(ingress) if ingress else None,
                egress=list(egress) if egress else None,
            ),
        )


def _egress(to: k8s.NetworkPolicyPeer, port: int) -> k8s.NetworkPolicyEgressRule:
    return k8s.NetworkPolicyEgressRule(to=[to], ports=peer.tcp(port))


def _ingress(sources: Sequence[k8s.NetworkPolicyPeer], port: int) -> k8s.NetworkPolicyIngressRule:
    return k8s.NetworkPolicyIngressRule(from_=list(sources), ports=peer.tcp(port))
