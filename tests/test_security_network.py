"""NetworkPolicies, proven with network-config-analyzer (nca).

Three ways, once per environment in a single nca process each: the golden
connectivity map (every change to who-talks-to-whom shows up in review as a
diff of ``tests/network/<env>-connectivity.txt``), ``forbids`` queries for the
paths that must stay closed, and ``permits`` queries for every path the app
needs. The planted-defect tests mutate copies of the rendered output and show
that the right query fails with a readable message.
"""

from __future__ import annotations

import copy
import difflib
from pathlib import Path
from typing import Any

import pytest

from tests.edge_facts import ACME_SOLVER, INGRESS, NS_LABEL, data_plane, edges
from tests.support import Output
from tests.validators import nca
from tests.validators.nca_queries import OTHER_NAMESPACE, Query, queries_for
from vibeyard.config import EnvConfig
from vibeyard.synth.render import render

UPDATE_HINT = "run `python scripts/update-network-maps.py` and review the diff"


@pytest.fixture(scope="session")
def nca_results(
    synthesized: dict[str, dict[str, str]],
    configs: dict[str, EnvConfig],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, nca.Result]:
    root = tmp_path_factory.mktemp("nca")
    results = {}
    for env, cfg in configs.items():
        inputs = nca.write_inputs(synthesized[env], root / env / "inputs")
        results[env] = nca.run(env, inputs, queries_for(cfg), root / env / "work")
    return results


def _run_variant(out: Output, objects: list[dict[str, Any]], tmp_path: Path) -> nca.Result:
    """nca on a mutated copy of one environment's output."""
    tree = render(objects)
    inputs = nca.write_inputs(tree, tmp_path / "inputs")
    return nca.run(out.cfg.name, inputs, queries_for(out.cfg), tmp_path / "work", connectivity=False)


def test_connectivity_map_matches_golden(out: Output, nca_results: dict[str, nca.Result]) -> None:
    env = out.cfg.name
    actual = nca_results[env].connectivity
    path = nca.map_path(env)
    assert path.exists(), f"{env}: no committed connectivity map at {path}; {UPDATE_HINT}"
    expected = path.read_text()
    diff = "\n".join(
        difflib.unified_diff(
            expected.splitlines(), actual.splitlines(), "committed", "synthesized", lineterm="", n=0
        )
    )
    assert actual == expected, f"{env}: the connectivity map changed; {UPDATE_HINT}:\n{diff}"


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
        inputs = nca.write_inputs(out.files, tmp_path / name / "inputs")
        queries = queries_for(out.cfg)
        failures += nca.unmatched_selectors(name, out.objects, queries)
        failures += nca.run(name, inputs, queries, tmp_path / name / "work", connectivity=False).failures(
            queries
        )
    assert not failures, "\n".join(failures)


# --- planted defects ---------------------------------------------------------------


def test_planted_gateway_policy_open_to_every_proxy_is_caught(
    outputs: dict[str, Output], tmp_path: Path
) -> None:
    """Admitting all of Envoy Gateway's namespace lets another team's Gateway in."""
    out = next(o for o in outputs.values() if o.has("NetworkPolicy", "vibeyard-from-gateway"))
    objects = copy.deepcopy(out.objects)
    policy = next(o for o in objects if o["metadata"]["name"] == "vibeyard-from-gateway")
    for peer in policy["spec"]["ingress"][0]["from"]:
        peer.pop("podSelector", None)
    failed = _failed(_run_variant(out, objects, tmp_path), queries_for(out.cfg))
    assert set(failed) == {"other-teams-gateway-to-web"}, failed


def _staging(outputs: dict[str, Output]) -> Output:
    return outputs["staging"]  # runs postgres, redis and pgbouncer in the cluster


def _failed(result: nca.Result, queries: list[Query]) -> dict[str, str]:
    return {line.split(": ")[1].split()[-1]: line for line in result.failures(queries)}


def test_planted_allow_all_ingress_on_postgres_is_caught(outputs: dict[str, Output], tmp_path: Path) -> None:
    out = _staging(outputs)
    objects = copy.deepcopy(out.objects)
    objects.append(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "postgres-allow-all", "namespace": out.cfg.namespace},
            "spec": {
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": "postgres"}},
                "policyTypes": ["Ingress"],
                "ingress": [{}],
            },
        }
    )
    failed = _failed(_run_variant(out, objects, tmp_path), queries_for(out.cfg))
    edge = edges(out.cfg)[0]
    assert {f"{edge}-to-postgres", "other-namespace-to-anything"} <= failed.keys(), failed
    assert (
        f"staging: nca forbids {edge}-to-postgres: the {edge} must not reach postgres"
        in (failed[f"{edge}-to-postgres"])
    )
    assert not [n for n in failed if n.endswith(("-to-dns", "-to-redis"))], failed


def test_planted_missing_dns_egress_is_caught(outputs: dict[str, Output], tmp_path: Path) -> None:
    out = _staging(outputs)
    objects = [
        o
        for o in copy.deepcopy(out.objects)
        if not (o["kind"] == "NetworkPolicy" and any("port" in p and p["port"] == 53 for p in _ports(o)))
    ]
    assert len(objects) == len(out.objects) - 1, "expected exactly one DNS policy to remove"
    failed = _failed(_run_variant(out, objects, tmp_path), queries_for(out.cfg))
    assert set(failed) == {"every-pod-to-dns"}, failed
    assert failed["every-pod-to-dns"].startswith(
        "staging: nca permits every-pod-to-dns: every pod resolves names on UDP and TCP 53"
    )


def _ports(policy: dict[str, Any]) -> list[dict[str, Any]]:
    spec = policy["spec"]
    return [p for rule in spec.get("egress") or [] for p in rule.get("ports") or []]


def test_security_doc_shows_the_committed_maps() -> None:
    """docs/security.md carries a copy of each map; it must not drift."""
    readme = nca.README.read_text(encoding="utf-8")
    for env in ("dev", "staging", "prod"):
        block = nca.readme_block(env, nca.map_path(env).read_text(encoding="utf-8"))
        assert block in readme, (
            f"{env}: docs/security.md's connectivity map differs from tests/network/{env}-connectivity.txt; "
            "run scripts/update-network-maps.py"
        )


def test_gke_cloud_dns_leaves_the_metadata_server_closed_but_for_dns(
    variants: dict[str, Output], tmp_path: Path
) -> None:
    """169.254.169.254 is both GKE's Cloud DNS resolver and its metadata server (credentials)."""
    out = variants["keda-off"]
    assert out.cfg.cluster.dns.mode == "gke-cloud-dns"
    metadata = [{"ipBlock": {"cidr": "169.254.169.254/32"}}]
    dns_ports = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
    other_ports = [
        {"protocol": "TCP", "port": 1, "endPort": 52},
        {"protocol": "TCP", "port": 54, "endPort": 65535},
        {"protocol": "UDP", "port": 1, "endPort": 52},
        {"protocol": "UDP", "port": 54, "endPort": 65535},
    ]

    def query(name: str, verb: str, ports: list[dict[str, Any]]) -> Query:
        spec = {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": metadata, "ports": ports}]}
        policy = {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": out.cfg.namespace},
            "spec": spec,
        }
        return Query(name=name, verb=verb, description=name, policy=policy)  # type: ignore[arg-type]

    queries = [
        query("pods-to-cloud-dns", "permits", dns_ports),
        query("pods-to-metadata", "forbids", other_ports),
    ]
    inputs = nca.write_inputs(out.files, tmp_path / "inputs")
    result = nca.run("keda-off", inputs, queries, tmp_path / "work", connectivity=False)
    assert not result.failures(queries), result.failures(queries)
    closed = copy.deepcopy(out.objects)
    for obj in closed:
        if obj["metadata"]["name"] == "allow-dns":
            obj["spec"]["egress"][0]["ports"] = [{"protocol": "TCP", "port": 80}]
    planted = nca.run(
        "keda-off",
        nca.write_inputs(render(closed), tmp_path / "p"),
        queries,
        tmp_path / "pw",
        connectivity=False,
    )
    assert len(planted.failures(queries)) == 2, "a policy opening port 80 of the metadata server is caught"
