"""The public edge: Gateway API, an Ingress, or both, in every environment and variant.

Expectations come from each environment's edge settings (its input) and from the
upstream facts in tests/edge_facts.py, not from the code under test.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.edge_facts import (
    ACME_SOLVER,
    ANNOTATION_PREFIX,
    GATEWAY_CLASSES,
    INGRESS,
    ISSUER,
    data_plane,
    edges,
    gateway_mode,
    ingress_mode,
    parent,
)
from tests.support import Manifest, Output
from tests.validators import cel, cert_manager

DATA = Path(__file__).parent / "data" / "edge"


def where(outputs: dict[str, Output], variants: dict[str, Output], wanted: Any) -> list[Output]:
    """Every environment and variant for which ``wanted(cfg)`` holds; at least one must."""
    chosen = [o for o in [*outputs.values(), *variants.values()] if wanted(o.cfg)]
    assert chosen, "no environment or variant takes this branch: add a variant (tests/variants.py)"
    return chosen


def sources(policy: Manifest) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    (rule,) = policy["spec"]["ingress"]
    return rule["from"], rule["ports"]


# --- which edge renders --------------------------------------------------------------


def test_each_edge_renders_exactly_when_chosen(every: Output) -> None:
    cfg = every.cfg
    kinds = {o["kind"] for o in every.objects}
    assert ("HTTPRoute" in kinds) == gateway_mode(cfg), f"{cfg.name}: HTTPRoutes for mode {cfg.edge.mode}"
    assert ("Ingress" in kinds) == ingress_mode(cfg), f"{cfg.name}: Ingress for mode {cfg.edge.mode}"
    owned = gateway_mode(cfg) and cfg.edge.gateway.shared is None
    assert every.has("Gateway", "vibeyard") == owned, f"{cfg.name}: our own Gateway only without a shared one"
    for edge in ("gateway", "ingress"):
        chosen = edge in edges(cfg)
        assert every.has("NetworkPolicy", f"vibeyard-from-{edge}") == chosen, f"{cfg.name}: {edge} policy"


def test_staging_and_prod_default_to_gateway_api(outputs: dict[str, Output]) -> None:
    for env in ("staging", "prod"):
        assert outputs[env].cfg.edge.mode in ("gateway-api", "both"), f"{env}: Gateway API edge"
        assert outputs[env].of_kind("HTTPRoute"), f"{env}: no HTTPRoute"


# --- Gateway API -----------------------------------------------------------------------


def test_the_route_serves_the_host_and_refuses_the_metrics_path(
    outputs: dict[str, Output], variants: dict[str, Output]
) -> None:
    for every in where(outputs, variants, gateway_mode):
        _route_serves_the_host(every)


def _route_serves_the_host(every: Output) -> None:
    cfg = every.cfg
    name, namespace, _, https = parent(cfg)
    route = every.get("HTTPRoute", "vibeyard")["spec"]
    ref = {"name": name, "sectionName": https}
    if namespace != cfg.namespace:
        ref["namespace"] = namespace
    assert route["parentRefs"] == [ref]
    assert route["hostnames"] == [cfg.edge.host]
    rules = {r["matches"][0]["path"]["value"]: r for r in route["rules"]}
    assert set(rules) == {"/", cfg.web.metrics_path}
    assert all(r["matches"][0]["path"]["type"] == "PathPrefix" for r in rules.values())
    metrics = rules[cfg.web.metrics_path]
    assert "backendRefs" not in metrics and "filters" not in metrics, "the metrics path is not routed"
    app = rules["/"]
    service = every.get("Service", "vibeyard")["spec"]["ports"][0]["port"]
    assert app["backendRefs"] == [{"name": "vibeyard", "port": service}], "a list, ready for a canary"
    assert app["timeouts"] == {"request": f"{cfg.edge.request_timeout_seconds}s"}


def test_plain_http_is_redirected_to_https(outputs: dict[str, Output], variants: dict[str, Output]) -> None:
    for every in where(outputs, variants, gateway_mode):
        cfg = every.cfg
        name, namespace, http, _ = parent(cfg)
        route = every.get("HTTPRoute", "vibeyard-https-redirect")["spec"]
        assert route["parentRefs"][0]["name"] == name and route["parentRefs"][0]["sectionName"] == http
        assert route["parentRefs"][0].get("namespace", cfg.namespace) == namespace
        assert route["hostnames"] == [cfg.edge.host]
        (rule,) = route["rules"]
        assert "backendRefs" not in rule
        assert rule["filters"] == [
            {"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}
        ]


def test_our_gateway_terminates_tls_for_our_routes_only(
    outputs: dict[str, Output], variants: dict[str, Output]
) -> None:
    for every in where(outputs, variants, lambda c: gateway_mode(c) and c.edge.gateway.shared is None):
        _our_gateway(every)


def _our_gateway(every: Output) -> None:
    cfg = every.cfg
    gateway = every.get("Gateway", "vibeyard")
    impl = cfg.edge.gateway.implementation
    assert gateway["spec"]["gatewayClassName"] == (cfg.edge.gateway.class_name or GATEWAY_CLASSES[impl])
    listeners = {item["name"]: item for item in gateway["spec"]["listeners"]}
    assert {(n, item["protocol"], item["port"]) for n, item in listeners.items()} == {
        ("http", "HTTP", 80),
        ("https", "HTTPS", 443),
    }
    for item in listeners.values():
        assert item["hostname"] == cfg.edge.host
        assert item["allowedRoutes"] == {"namespaces": {"from": "Same"}}
    tls = listeners["https"]["tls"]
    assert tls == {"mode": "Terminate", "certificateRefs": [{"name": cfg.edge.tls_secret}]}
    # One issuer per Secret: while the Ingress runs too, its ingress-shim owns the certificate.
    issuer = gateway["metadata"].get("annotations", {}).get(ISSUER)
    assert issuer == (None if ingress_mode(cfg) else cfg.edge.cluster_issuer)


def test_a_shared_gateway_gets_our_label_certificate_and_grant(variants: dict[str, Output]) -> None:
    out = variants["managed-redis"]
    shared = out.cfg.edge.gateway.shared
    assert shared is not None and shared.tls_secret_in_app_namespace
    labels = out.get("Namespace", out.cfg.namespace)["metadata"]["labels"]
    assert dict(shared.namespace_labels).items() <= labels.items(), "allowedRoutes selects our namespace"
    cert = out.get("Certificate", out.cfg.edge.tls_secret)["spec"]
    assert cert == {
        "secretName": out.cfg.edge.tls_secret,
        "dnsNames": [out.cfg.edge.host],
        "issuerRef": {
            "group": "cert-manager.io",
            "kind": "ClusterIssuer",
            "name": out.cfg.edge.cluster_issuer,
        },
    }
    grant = out.get("ReferenceGrant", f"{out.cfg.edge.tls_secret}-for-gateway")["spec"]
    assert grant["from"] == [
        {"group": "gateway.networking.k8s.io", "kind": "Gateway", "namespace": shared.namespace}
    ]
    assert grant["to"] == [{"group": "", "kind": "Secret", "name": out.cfg.edge.tls_secret}]


def test_only_a_shared_gateway_reading_our_secret_gets_a_certificate_or_grant(every: Output) -> None:
    shared = every.cfg.edge.gateway.shared if gateway_mode(every.cfg) else None
    wanted = shared is not None and shared.tls_secret_in_app_namespace
    assert bool(every.of_kind("ReferenceGrant")) == wanted
    assert bool(every.of_kind("Certificate")) == (wanted and not ingress_mode(every.cfg))


def test_a_misspelt_certificate_is_caught(variants: dict[str, Output]) -> None:
    cert = copy.deepcopy(variants["managed-redis"].get("Certificate", "vibeyard-tls"))
    cert["spec"]["secretName"] = ["vibeyard-tls"]
    del cert["spec"]["issuerRef"]
    _, problems = cert_manager.violations("managed-redis", [cert])
    assert problems == [
        "managed-redis: Certificate/vibeyard-tls: /spec must have required property issuerRef",
        "managed-redis: Certificate/vibeyard-tls: /spec/secretName must be string",
    ]


@pytest.mark.parametrize(
    ("route", "plant", "message"),
    [
        (
            "vibeyard-https-redirect",
            lambda r: r["spec"]["rules"][0].update(backendRefs=[{"name": "vibeyard", "port": 3000}]),
            "RequestRedirect filter must not be used together with backendRefs",
        ),
        (
            "vibeyard",
            lambda r: r["spec"]["rules"][0]["matches"][0]["path"].update(value="/api//metrics"),
            "must not contain '//' when type one of ['Exact', 'PathPrefix']",
        ),
    ],
)
def test_a_planted_route_defect_is_refused_by_the_crds_rules(
    outputs: dict[str, Output], route: str, plant: Any, message: str
) -> None:
    out = next(o for o in outputs.values() if o.has("HTTPRoute", route))
    planted = copy.deepcopy(out.get("HTTPRoute", route))
    plant(planted)
    _, problems = cel.cel_violations(out.cfg.name, [planted])
    assert len(problems) == 1 and problems[0].endswith(message), problems


# --- the Ingress ----------------------------------------------------------------------


def test_the_ingress_speaks_only_its_controllers_annotations(
    outputs: dict[str, Output], variants: dict[str, Output]
) -> None:
    for every in where(outputs, variants, ingress_mode):
        _controllers_annotations(every)


def _controllers_annotations(every: Output) -> None:
    cfg = every.cfg
    ingress = every.get("Ingress", "vibeyard")
    controller = cfg.edge.ingress.controller
    class_name, _, _ = INGRESS[controller]
    assert ingress["spec"]["ingressClassName"] == (cfg.edge.ingress.class_name or class_name)
    annotations = ingress["metadata"]["annotations"]
    foreign = [
        k for k in annotations for c, p in ANNOTATION_PREFIX.items() if c != controller and k.startswith(p)
    ]
    assert not foreign, f"{cfg.name}: annotations {controller} does not read: {foreign}"
    assert annotations[ISSUER] == cfg.edge.cluster_issuer
    ours = {k: v for k, v in annotations.items() if k.startswith(ANNOTATION_PREFIX[controller])}
    assert ours, f"{cfg.name}: no {controller} annotation at all"


def test_the_ingress_nginx_edge_is_todays_ingress_but_for_annotations_and_the_metrics_path(
    variants: dict[str, Output],
) -> None:
    """A cluster that stays on ingress-nginx sees its Ingress change in two ways only: the
    annotations, and the metrics path sent nowhere (a public /api/metrics was a finding).

    tests/data/edge/ingress-before-gateway-api.yaml is prod's Ingress as the release
    before Gateway API rendered it.
    """
    out = variants["ingress-nginx"]
    before = yaml.safe_load((DATA / "ingress-before-gateway-api.yaml").read_text(encoding="utf-8"))
    now = copy.deepcopy(out.get("Ingress", "vibeyard"))
    old, new = before["metadata"].pop("annotations"), now["metadata"].pop("annotations")
    (rule,) = now["spec"]["rules"]
    first = rule["http"]["paths"].pop(0)
    assert now == before
    assert first == {
        "path": out.cfg.web.metrics_path,
        "pathType": "Prefix",
        "backend": {"service": {"name": "vibeyard-unrouted", "port": {"name": "http"}}},
    }
    unrouted = out.get("Service", "vibeyard-unrouted")["spec"]
    assert "selector" not in unrouted, "a Service that selects no pod has no endpoints: the edge answers 503"
    assert {k: new.get(k) for k in old} == old, "every annotation it had keeps its value"
    timeout = str(out.cfg.edge.request_timeout_seconds)
    added = {k: v for k, v in new.items() if k not in old}
    assert added == {
        "nginx.ingress.kubernetes.io/proxy-read-timeout": timeout,
        "nginx.ingress.kubernetes.io/proxy-send-timeout": timeout,
    }


# --- network policy follows the edge ------------------------------------------------------


def test_only_the_chosen_edges_proxies_reach_the_web_pods(every: Output) -> None:
    cfg = every.cfg
    port = every.get("Service", "vibeyard")["spec"]["ports"][0]["port"]
    for edge in edges(cfg):
        peers, ports = sources(every.get("NetworkPolicy", f"vibeyard-from-{edge}"))
        assert peers == data_plane(cfg, edge), f"{cfg.name}: vibeyard-from-{edge}"
        assert ports == [{"port": port, "protocol": "TCP"}]


def test_acme_solver_is_reachable_from_the_edge_only_with_http01(every: Output) -> None:
    cfg = every.cfg
    labels, port = ACME_SOLVER
    for edge in ("gateway", "ingress"):
        name, chosen = f"acme-solver-from-{edge}", edge in edges(cfg)
        assert every.has("NetworkPolicy", name) == (chosen and cfg.edge.acme_http01), f"{cfg.name}: {name}"
        if every.has("NetworkPolicy", name):
            policy = every.get("NetworkPolicy", name)
            assert policy["spec"]["podSelector"] == {"matchLabels": labels}
            peers, ports = sources(policy)
            assert peers == data_plane(cfg, edge) and ports == [{"port": port, "protocol": "TCP"}]


# --- monitoring does not depend on the edge ------------------------------------------------


def test_alerts_and_dashboards_are_the_same_behind_every_edge(
    outputs: dict[str, Output], variants: dict[str, Output]
) -> None:
    """No alert reads a metric one edge emits and another does not: prod's rules are
    the same behind Gateway API as behind ingress-nginx (whose rules promtool runs)."""
    gateway, ingress = outputs["prod"], variants["ingress-nginx"]
    assert gateway.cfg.edge.mode != ingress.cfg.edge.mode
    for kind in ("PrometheusRule", "ConfigMap"):
        assert gateway.of_kind(kind) == ingress.of_kind(kind), f"{kind}s differ between edges"
    text = yaml.safe_dump(gateway.of_kind("PrometheusRule"))
    for family in ("nginx_", "envoy_", "traefik_"):
        assert family not in text, f"an alert reads the edge's own {family}* metrics"
