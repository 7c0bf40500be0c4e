"""NetworkPolicies, proven with network-config-analyzer (nca).

Once per environment, in a single nca process each: ``forbids`` queries for the paths
that must stay closed, and ``permits`` queries for every path the app needs. The
planted-defect tests mutate a copy of one environment's policies (``PLANTS``) and show
that the right query fails with a readable message; nca answers them in the process of
the environment they are planted in. The connectivity map is tests/test_network_diagrams.py's.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.edge_facts import ACME_SOLVER, INGRESS, NS_LABEL, data_plane, edges
from tests.support import Manifest, Output
from tests.validators import nca
from tests.validators.nca_queries import OTHER_NAMESPACE, Query, queries_for


def _open_gateway_to_every_proxy(out: Output) -> list[Manifest] | None:
    """Admitting all of Envoy Gateway's namespace lets another team's Gateway in."""
    if not out.has("NetworkPolicy", "vibeyard-from-gateway"):
        return None
    objects = copy.deepcopy(out.objects)
    policy = next(o for o in objects if o["metadata"]["name"] == "vibeyard-from-gateway")
    for peer in policy["spec"]["ingress"][0]["from"]:
        peer.pop("podSelector", None)
    return objects


def _allow_all_ingress_on_postgres(out: Output) -> list[Manifest] | None:
    if out.cfg.postgres.mode != "in-cluster":
        return None
    spec = {
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "postgres"}},
        "policyTypes": ["Ingress"],
        "ingress": [{}],
    }
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "postgres-allow-all", "namespace": out.cfg.namespace},
        "spec": spec,
    }
    return [*copy.deepcopy(out.objects), policy]


def _without_dns_egress(out: Output) -> list[Manifest] | None:
    def opens_dns(o: Manifest) -> bool:
        return o["kind"] == "NetworkPolicy" and any("port" in p and p["port"] == 53 for p in _ports(o))

    return [o for o in copy.deepcopy(out.objects) if not opens_dns(o)]


# A planted defect: a copy of an environment's objects with one policy changed, or None
# where the environment has no such path.
PLANTS: dict[str, Callable[[Output], list[Manifest] | None]] = {
    "gateway-open-to-every-proxy": _open_gateway_to_every_proxy,
    "allow-all-ingress-on-postgres": _allow_all_ingress_on_postgres,
    "no-dns-egress": _without_dns_egress,
}


def _host(outputs: dict[str, Output], plant: str) -> Output:
    """The environment a defect is planted in: the smallest where its path exists, since
    a planted copy costs one more pass of that environment's queries."""
    fits = [out for out in outputs.values() if PLANTS[plant](out) is not None]
    assert fits, f"{plant}: no environment has the path to plant this defect on"
    return min(fits, key=lambda out: len(queries_for(out.cfg)))


def _planted_policies(out: Output, objects: list[Manifest], path: Path) -> Path:
    """The policies of a planted copy, which nca checks on ``out``'s own workloads."""
    workloads = [o for o in out.objects if o["kind"] != "NetworkPolicy"]
    assert [o for o in objects if o["kind"] != "NetworkPolicy"] == workloads, "a plant changes policies only"
    return nca.write_policies(objects, path)


@pytest.fixture(scope="session")
def nca_results(
    outputs: dict[str, Output], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, nca.Result]:
    root = tmp_path_factory.mktemp("nca")
    hosts = {plant: _host(outputs, plant).cfg.name for plant in PLANTS}
    results = {}
    for env, out in outputs.items():
        inputs = nca.write_inputs(out.files, root / env / "inputs", out.objects)
        planted = {
            plant: _planted_policies(out, PLANTS[plant](out) or [], root / env / f"planted-{plant}.yaml")
            for plant, host in hosts.items()
            if host == env
        }
        results[env] = nca.run(env, inputs, queries_for(out.cfg), root / env / "work", planted=planted)
    return results


def test_nca_forbids(out: Output, nca_results: dict[str, nca.Result]) -> None:
    queries = [q for q in queries_for(out.cfg) if q.verb == "forbids"]
    failures = nca_results[out.cfg.name].failures(queries)
    assert not failures, "\n".join(failures)


def test_nca_permits(out: Output, nca_results: dict[str, nca.Result]) -> None:
    queries = [q for q in queries_for(out.cfg) if q.verb == "permits"]
    failures = nca_results[out.cfg.name].failures(queries)
    assert not failures, "\n".join(failures)


def test_queries_select_real_pods(out: Output) -> None:
    """A permits/forbids query about pods that do not exist proves nothing."""
    problems = nca.unmatched_selectors(out.cfg.name, out.objects, queries_for(out.cfg))
    assert not problems, "\n".join(problems)


def test_queries_cover_every_required_path(out: Output) -> None:
    names = {q.name for q in queries_for(out.cfg)}
    cfg = out.cfg
    edge = edges(cfg)
    required = {
        *(f"{e}-to-web" for e in edge),
        "every-pod-to-dns",
        "web-to-internet-https",
        "other-namespace-to-anything",
    }
    required |= {f"worker-{p.name}-to-internet-https" for p in cfg.workers}
    if cfg.postgres.mode == "in-cluster":
        required |= {"web-to-postgres", "postgres-to-internet", *(f"{e}-to-postgres" for e in edge)}
    if cfg.redis.mode == "in-cluster":
        required |= {
            "web-to-redis",
            "redis-to-internet",
            "web-to-redis-cache",
            *(f"{e}-to-redis" for e in edge),
        }
        if cfg.keda.enabled:
            required.add("keda-operator-to-redis")
    if cfg.monitoring.enabled:
        required |= {"monitoring-to-web-metrics", "monitoring-to-redis-exporter", "monitoring-to-redis"}
    if cfg.postgres.mode == "managed":
        required |= {f"web-to-managed-{i}" for i in range(len(cfg.network.managed_egress))}
    if cfg.edge.acme_http01:
        required |= {f"{e}-to-acme-solver" for e in edge}
    required |= {
        f"{c}-to-web" for c in INGRESS if not (c == cfg.edge.ingress.controller and "ingress" in edge)
    }
    required.add("other-teams-gateway-to-web")
    if cfg.cluster.dns.mode == "gke-cloud-dns":
        required.add("every-pod-to-metadata-server")
    missing = required - names
    assert not missing, f"{cfg.name}: no nca query for {sorted(missing)}"


def test_default_deny_covers_the_namespace(out: Output) -> None:
    policies = out.of_kind("NetworkPolicy")
    deny = [
        p
        for p in policies
        if p["spec"]["podSelector"] == {}
        and set(p["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
    ]
    assert len(deny) == 1, f"{out.cfg.name}: NetworkPolicy: default deny: want exactly one, have {len(deny)}"


def test_cluster_context_matches_config(every: Output) -> None:
    """The stand-in pods must carry the labels our policies select, or nca proves nothing."""
    out = every
    docs = nca.context(out.objects)
    namespaces = {d["metadata"]["name"] for d in docs if d["kind"] == "Namespace"} | {out.cfg.namespace}
    pods = [(d["metadata"]["namespace"], d["metadata"].get("labels", {})) for d in docs if d["kind"] == "Pod"]
    net, dns, keda = out.cfg.network, out.cfg.cluster.dns, out.cfg.keda
    proxies = [
        (p["namespaceSelector"]["matchLabels"][NS_LABEL], p.get("podSelector", {}).get("matchLabels", {}))
        for e in edges(out.cfg)
        for p in data_plane(out.cfg, e)
        if "namespaceSelector" in p
    ]
    wanted = [
        *proxies,
        *((ns, labels) for _, ns, labels in INGRESS.values()),
        *([(out.cfg.namespace, ACME_SOLVER[0])] if out.cfg.edge.acme_http01 else []),
        (dns.namespace, dict(dns.pod_labels)),
        (net.monitoring_namespace, {}),
        (keda.namespace, dict(keda.operator_labels)),
        (OTHER_NAMESPACE, {}),
    ]
    for ns, labels in wanted:
        assert ns in namespaces, f"{out.cfg.name}: {nca.CONTEXT.name}: no Namespace {ns}"
        assert any(p_ns == ns and labels.items() <= p_labels.items() for p_ns, p_labels in pods), (
            f"{out.cfg.name}: {nca.CONTEXT.name}: no Pod in {ns} labelled {labels}"
        )


def test_nca_proves_every_variants_edge(variants: dict[str, Output], tmp_path: Path) -> None:
    """The variants run the edges the environments do not (GKE's and a shared Gateway,
    both edges, F5's and Traefik's controllers, ingress-nginx): every query holds there too."""
    failures = []
    for name, out in variants.items():
        inputs = nca.write_inputs(out.files, tmp_path / name / "inputs", out.objects)
        queries = queries_for(out.cfg)
        failures += nca.unmatched_selectors(name, out.objects, queries)
        failures += nca.run(name, inputs, queries, tmp_path / name / "work").failures(queries)
    assert not failures, "\n".join(failures)


# --- planted defects ---------------------------------------------------------------


def _planted(
    outputs: dict[str, Output], nca_results: dict[str, nca.Result], plant: str
) -> tuple[Output, dict[str, str]]:
    """The environment a defect was planted in, and the queries that fail there: name → message."""
    env = next(env for env, result in nca_results.items() if plant in result.planted)
    return outputs[env], _failed(nca_results[env].planted[plant], queries_for(outputs[env].cfg))


def _failed(result: nca.Result, queries: list[Query]) -> dict[str, str]:
    return {line.split(": ")[1].split()[-1]: line for line in result.failures(queries)}


def test_planted_gateway_policy_open_to_every_proxy_is_caught(
    outputs: dict[str, Output], nca_results: dict[str, nca.Result]
) -> None:
    _, failed = _planted(outputs, nca_results, "gateway-open-to-every-proxy")
    assert set(failed) == {"other-teams-gateway-to-web"}, failed


def test_planted_allow_all_ingress_on_postgres_is_caught(
    outputs: dict[str, Output], nca_results: dict[str, nca.Result]
) -> None:
    out, failed = _planted(outputs, nca_results, "allow-all-ingress-on-postgres")
    edge = edges(out.cfg)[0]
    assert {f"{edge}-to-postgres", "other-namespace-to-anything"} <= failed.keys(), failed
    assert (
        f"{out.cfg.name}: nca forbids {edge}-to-postgres: the {edge} must not reach postgres"
        in (failed[f"{edge}-to-postgres"])
    )
    assert not [n for n in failed if n.endswith(("-to-dns", "-to-redis"))], failed


def test_planted_missing_dns_egress_is_caught(
    outputs: dict[str, Output], nca_results: dict[str, nca.Result]
) -> None:
    out, failed = _planted(outputs, nca_results, "no-dns-egress")
    objects = PLANTS["no-dns-egress"](out) or []
    assert len(objects) == len(out.objects) - 1, "expected exactly one DNS policy to remove"
    assert set(failed) == {"every-pod-to-dns"}, failed
    assert failed["every-pod-to-dns"].startswith(
        f"{out.cfg.name}: nca permits every-pod-to-dns: every pod resolves names on UDP and TCP 53"
    )


def _ports(policy: dict[str, Any]) -> list[dict[str, Any]]:
    spec = policy["spec"]
    return [p for rule in spec.get("egress") or [] for p in rule.get("ports") or []]


def test_security_doc_shows_the_committed_maps(outputs: dict[str, Output]) -> None:
    """docs/security.md carries a copy of each map; it must not drift."""
    readme = nca.README.read_text(encoding="utf-8")
    for env in outputs:
        block = nca.readme_block(env, nca.map_path(env).read_text(encoding="utf-8"))
        assert block in readme, (
            f"{env}: docs/security.md's connectivity map differs from docs/network/{env}.txt; "
            "run scripts/update-network-maps.py"
        )


def test_gke_cloud_dns_leaves_the_metadata_server_closed_but_for_dns(
    variants: dict[str, Output], tmp_path: Path
) -> None:
    """169.254.169.254 is both GKE's Cloud DNS resolver and its metadata server (credentials):
    the queries on it hold (every variant's run proves it too) and catch a policy opening port 80."""
    name, out = next((n, o) for n, o in variants.items() if o.cfg.cluster.dns.mode == "gke-cloud-dns")
    names = {"every-pod-to-dns", "every-pod-to-metadata-server"}
    queries = [q for q in queries_for(out.cfg) if q.name in names]
    assert {q.name for q in queries} == names
    opened = copy.deepcopy(out.objects)
    for obj in opened:
        if obj["metadata"]["name"] == "allow-dns":
            obj["spec"]["egress"][0]["ports"] = [{"protocol": "TCP", "port": 80}]
    port_80 = _planted_policies(out, opened, tmp_path / "port-80.yaml")
    inputs = nca.write_inputs(out.files, tmp_path / "inputs", out.objects)
    result = nca.run(name, inputs, queries, tmp_path / "work", planted={"port-80": port_80})
    assert not result.failures(queries), result.failures(queries)
    failed = _failed(result.planted["port-80"], queries)
    assert set(failed) == names, "a policy opening port 80 of the metadata server is caught"
