"""Least-privilege NetworkPolicies for one environment.

The design doc's single policy limited egress to postgres and redis, which broke
DNS (so nothing resolved) and the OpenAI / GitHub OAuth calls the app exists to
make, and it let everything else in because nothing denied by default. Here the
namespace starts from deny-all in both directions, and each policy opens exactly
one need, named after it, so a reviewer can read the allowed graph from the file
list. The needs are declared where they arise (``Needs.admit`` and
``Needs.allow`` in the chart's builders, in the spirit of cdk8s-plus's
``connections.allowFrom/allowTo``), with ports taken from the listener; this
construct renders them.

NetworkPolicy cannot match DNS names, so "the internet on 443" is an IP range
minus the private ones; see docs/security.md for CNI-specific FQDN policies.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdk8s_plus_28 import k8s
from constructs import Construct

from ..config.platform import GKE_METADATA_DNS, NODE_LOCAL_DNS, DnsConfig
from ..identity import Identity
from ..kube import Listener, meta
from . import peers as peer


class Needs:
    """Who may open connections to whom, collected into named policies in declaration order."""

    def __init__(self) -> None:
        self.ingress: dict[str, tuple[k8s.LabelSelector, int, list[k8s.NetworkPolicyPeer]]] = {}
        self.egress: dict[str, tuple[k8s.LabelSelector, list[k8s.NetworkPolicyEgressRule]]] = {}

    def admit(self, listener: Listener, purpose: str, *sources: k8s.NetworkPolicyPeer) -> None:
        """``sources`` may reach ``listener`` on its port: the policy ``<name>-from-<purpose>``."""
        self.admit_pods(
            f"{listener.name}-from-{purpose}", peer.of(listener.identity), listener.port, *sources
        )

    def admit_pods(
        self, policy: str, pods: k8s.LabelSelector, port: int, *sources: k8s.NetworkPolicyPeer
    ) -> None:
        """``sources`` may reach ``pods`` on ``port``: the ingress policy ``policy``."""
        self.ingress.setdefault(policy, (pods, port, []))[2].extend(sources)

    def allow(self, policy: str, pods: k8s.LabelSelector, *to: tuple[k8s.NetworkPolicyPeer, int]) -> None:
        """``pods`` may open connections to each ``(peer, port)``: the egress policy ``policy``."""
        rules = self.egress.setdefault(policy, (pods, []))[1]
        rules += [k8s.NetworkPolicyEgressRule(to=[dest], ports=peer.tcp(port)) for dest, port in to]


class NetworkPolicies(Construct):
    """Default deny, DNS, then one named policy per declared need.

    :param namespace: the environment's namespace.
    :param owner: the platform identity the policies are labelled with.
    :param dns: where the cluster's pods resolve names.
    :param needs: the environment's declared needs.
    """

    def __init__(
        self, scope: Construct, id: str, *, namespace: str, owner: Identity, dns: DnsConfig, needs: Needs
    ) -> None:
        super().__init__(scope, id)
        self._namespace = namespace
        self._owner = owner
        # Empty podSelector + both policy types and no rules: nothing in, nothing out.
        self._policy("default-deny-all", k8s.LabelSelector(), ingress=[], egress=[])
        resolvers = k8s.NetworkPolicyEgressRule(to=_resolvers(dns), ports=peer.dns())
        self._policy("allow-dns", k8s.LabelSelector(), egress=[resolvers])
        for name, (pods, port, sources) in needs.ingress.items():
            rule = k8s.NetworkPolicyIngressRule(from_=list(sources), ports=peer.tcp(port))
            self._policy(name, pods, ingress=[rule])
        for name, (pods, rules) in needs.egress.items():
            if rules:
                self._policy(name, pods, egress=rules)

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
