"""Gateway API objects in the shapes the edge will render, against the vendored CRDs.

Each sample passes both the strict openAPI check (crd_schema) and the CRDs' CEL rules
(validators/cel.py). The planted defects are ones the openAPI schema lets through (each test
asserts that) and that the API server refuses by a CEL rule, with the CRD's own message.
The last tests run the CEL rules over every custom resource committed in dist/.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from tests.validators import cel, crd_schema, kube_schema
from tests.validators.manifests import Manifest, load_yaml

DIST = Path(__file__).resolve().parents[1] / "dist"
GW_API = "gateway.networking.k8s.io/v1"
HOST = "vibeyard.example.com"
ROUTE_TO_EDGE = {
    "namespaces": {"from": "Selector", "selector": {"matchLabels": {"vibeyard.io/edge": "shared"}}}
}

GATEWAY_CLASS: Manifest = {
    "apiVersion": GW_API,
    "kind": "GatewayClass",
    "metadata": {"name": "envoy-gateway"},
    "spec": {"controllerName": "gateway.envoyproxy.io/gatewayclass-controller"},
}
# A shared Gateway owned by the platform team, terminating TLS with a Secret in the app's namespace.
GATEWAY: Manifest = {
    "apiVersion": GW_API,
    "kind": "Gateway",
    "metadata": {
        "name": "edge",
        "namespace": "edge",
        "annotations": {"cert-manager.io/cluster-issuer": "letsencrypt-prod"},
    },
    "spec": {
        "gatewayClassName": "envoy-gateway",
        "listeners": [
            {
                "name": "http",
                "protocol": "HTTP",
                "port": 80,
                "hostname": HOST,
                "allowedRoutes": ROUTE_TO_EDGE,
            },
            {
                "name": "https",
                "protocol": "HTTPS",
                "port": 443,
                "hostname": HOST,
                "tls": {
                    "mode": "Terminate",
                    "certificateRefs": [
                        {"kind": "Secret", "name": "vibeyard-tls", "namespace": "production"}
                    ],
                },
                "allowedRoutes": ROUTE_TO_EDGE,
            },
        ],
    },
}
ROUTE: Manifest = {
    "apiVersion": GW_API,
    "kind": "HTTPRoute",
    "metadata": {"name": "vibeyard", "namespace": "production"},
    "spec": {
        "parentRefs": [{"name": "edge", "namespace": "edge", "sectionName": "https"}],
        "hostnames": [HOST],
        "rules": [
            {
                "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                "backendRefs": [{"name": "vibeyard", "port": 3000}],
                "timeouts": {"request": "60s", "backendRequest": "30s"},
            },
            # No backendRefs: the gateway answers 404, the metrics stay inside the cluster.
            {"matches": [{"path": {"type": "PathPrefix", "value": "/api/metrics"}}]},
        ],
    },
}
REDIRECT: Manifest = {
    "apiVersion": GW_API,
    "kind": "HTTPRoute",
    "metadata": {"name": "vibeyard-https-redirect", "namespace": "production"},
    "spec": {
        "parentRefs": [{"name": "edge", "namespace": "edge", "sectionName": "http"}],
        "hostnames": [HOST],
        "rules": [
            {
                "filters": [
                    {"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}
                ]
            }
        ],
    },
}
GRANT: Manifest = {
    "apiVersion": GW_API,
    "kind": "ReferenceGrant",
    "metadata": {"name": "edge-gateway-reads-vibeyard-tls", "namespace": "production"},
    "spec": {
        "from": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "namespace": "edge"}],
        "to": [{"group": "", "kind": "Secret", "name": "vibeyard-tls"}],
    },
}
SAMPLES = (GATEWAY_CLASS, GATEWAY, ROUTE, REDIRECT, GRANT)


def _ok(problems: list[str]) -> None:
    assert not problems, "\n".join(problems)


def test_samples_pass_the_schema_and_the_cel_rules() -> None:
    checked, problems = crd_schema.crd_violations("sample", list(SAMPLES))
    assert checked == len(SAMPLES)
    _ok(problems)
    checked, problems = cel.cel_violations("sample", SAMPLES)
    assert checked == len(SAMPLES)
    _ok(problems)


class Defect(NamedTuple):
    sample: Manifest
    plant: Callable[[Manifest], None]
    path: str
    message: str


def _rule(route: Manifest, index: int) -> dict[str, Any]:
    rule: dict[str, Any] = route["spec"]["rules"][index]
    return rule


def _listeners(gateway: Manifest) -> list[dict[str, Any]]:
    listeners: list[dict[str, Any]] = gateway["spec"]["listeners"]
    return listeners


def _metrics_path(value: str) -> Callable[[Manifest], None]:
    return lambda route: _rule(route, 1)["matches"][0]["path"].update(value=value)


ABSOLUTE = "value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']"
DEFECTS = {
    "redirect-with-backend": Defect(
        REDIRECT,
        lambda r: _rule(r, 0).update(backendRefs=[{"name": "vibeyard", "port": 3000}]),
        "spec.rules[0]",
        "RequestRedirect filter must not be used together with backendRefs",
    ),
    "relative-path": Defect(ROUTE, _metrics_path("api/metrics"), "spec.rules[1].matches[0].path", ABSOLUTE),
    "double-slash": Defect(
        ROUTE,
        _metrics_path("/api//metrics"),
        "spec.rules[1].matches[0].path",
        "must not contain '//' when type one of ['Exact', 'PathPrefix']",
    ),
    "dot-segment": Defect(
        ROUTE,
        _metrics_path("/api/./metrics"),
        "spec.rules[1].matches[0].path",
        "must not contain '/./' when type one of ['Exact', 'PathPrefix']",
    ),
    # "1m" sorts before "30s" as text: only a duration comparison sees it is longer.
    "backend-timeout-longer": Defect(
        ROUTE,
        lambda r: _rule(r, 0).update(timeouts={"request": "30s", "backendRequest": "1m"}),
        "spec.rules[0].timeouts",
        "backendRequest timeout cannot be longer than request timeout",
    ),
    "repeated-filter": Defect(
        ROUTE,
        lambda r: _rule(r, 0).update(
            filters=[
                {
                    "type": "RequestHeaderModifier",
                    "requestHeaderModifier": {"set": [{"name": n, "value": "1"}]},
                }
                for n in ("X-A", "X-B")
            ]
        ),
        "spec.rules[0].filters",
        "RequestHeaderModifier filter cannot be repeated",
    ),
    # The Service default for kind (and "" for group) comes from the schema's defaults.
    "service-without-port": Defect(
        ROUTE,
        lambda r: _rule(r, 0)["backendRefs"][0].pop("port"),
        "spec.rules[0].backendRefs[0]",
        "Must have port for Service reference",
    ),
    "second-parent-without-section": Defect(
        ROUTE,
        lambda r: r["spec"]["parentRefs"].append({"name": "edge", "namespace": "edge"}),
        "spec.parentRefs",
        "sectionName must be specified when parentRefs includes 2 or more references to the same parent",
    ),
    "tls-on-http": Defect(
        GATEWAY,
        lambda g: _listeners(g)[0].update(tls=_listeners(g)[1]["tls"]),
        "spec.listeners",
        "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']",
    ),
    "hostname-on-tcp": Defect(
        GATEWAY,
        lambda g: _listeners(g).append({"name": "tcp", "protocol": "TCP", "port": 5432, "hostname": HOST}),
        "spec.listeners",
        "hostname must not be specified for protocols ['TCP', 'UDP']",
    ),
    "listener-name-twice": Defect(
        GATEWAY,
        lambda g: _listeners(g)[1].update(name="http"),
        "spec.listeners",
        "Listener name must be unique within the Gateway",
    ),
}


@pytest.mark.parametrize("name", DEFECTS)
def test_planted_defect_is_refused_by_its_cel_rule_only(name: str) -> None:
    defect = DEFECTS[name]
    planted = copy.deepcopy(defect.sample)
    defect.plant(planted)
    _ok(crd_schema.crd_violations("sample", [planted])[1])
    ref = f"{planted['kind']}/{planted['metadata']['name']}"
    assert cel.cel_violations("sample", [planted])[1] == [f"sample: {ref}: {defect.path}: {defect.message}"]


def test_parent_namespaces_are_read_through_cel_escaping() -> None:
    """The rules read a parentRef's ``namespace`` as ``__namespace__``: two Gateways named edge in
    two namespaces are two parents, the same one twice needs distinct sectionNames."""
    route = copy.deepcopy(ROUTE)
    route["spec"]["parentRefs"] = [{"name": "edge", "namespace": ns} for ns in ("edge", "edge-canary")]
    _ok(cel.cel_violations("sample", [route])[1])
    route["spec"]["parentRefs"][1]["namespace"] = "edge"
    assert cel.cel_violations("sample", [route])[1] == [
        "sample: HTTPRoute/vibeyard: spec.parentRefs: "
        "sectionName must be unique when parentRefs includes 2 or more references to the same parent"
    ]


@pytest.mark.parametrize(("prefix", "refused"), [(252, False), (253, True)])
def test_annotation_key_prefix_is_measured_with_split(prefix: int, refused: bool) -> None:
    """The Gateway CRD's ``key.split("/")[0].size() < 253``: Kubernetes' strings extension."""
    gateway = copy.deepcopy(GATEWAY)
    gateway["spec"]["infrastructure"] = {"annotations": {"a" * prefix + "/team": "edge"}}
    _ok(crd_schema.crd_violations("sample", [gateway])[1])
    expected = "sample: Gateway/edge: spec.infrastructure.annotations: If specified, the annotation key"
    problems = cel.cel_violations("sample", [gateway])[1]
    assert [p.startswith(expected) for p in problems] == ([True] if refused else []), problems


# A made-up CRD for what the vendored ones do not use (messageExpression, fieldPath, reason,
# optionalOldSelf, a Kubernetes-only function); its spec.replicas defaults to 1.
def _widget_schemas(
    rules: list[dict[str, Any]], root_rules: tuple[dict[str, Any], ...] = ()
) -> dict[tuple[str, str], cel.Schema]:
    positive = {"type": "integer", "x-kubernetes-validations": [{"rule": "self > 0", "message": "not > 0"}]}
    spec = {
        "type": "object",
        "x-kubernetes-validations": rules,
        "properties": {
            "replicas": {"type": "integer", "default": 1},
            "max-replicas": {"type": "integer"},
            "note": {"type": "string", "nullable": True},
            "url": {"type": "string"},
            "limits": {"type": "object", "additionalProperties": positive},
        },
    }
    root = {
        "type": "object",
        "x-kubernetes-validations": list(root_rules),
        "properties": {"metadata": {"type": "object"}, "spec": spec},
    }
    version = {"name": "v1", "served": True, "schema": {"openAPIV3Schema": root}}
    crd = {"spec": {"group": "example.com", "names": {"kind": "Widget"}, "versions": [version]}}
    return cel.served_schemas([crd])


def _widget(**spec: Any) -> Manifest:
    return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": spec}


def test_message_expression_field_path_reason_defaults_and_absent_fields() -> None:
    schemas = _widget_schemas(
        [
            {
                "rule": "self.replicas <= self.max__dash__replicas",
                "messageExpression": "'at most ' + string(self.max__dash__replicas)",
                "fieldPath": ".replicas",
                "reason": "FieldValueForbidden",
            },
            {"rule": "self.replicas != 7", "messageExpression": "' '", "message": "not seven"},
            {"rule": "self.replicas != 7"},
            {"rule": "!has(self.note) && !has(self.undeclared)", "message": "null or undeclared seen"},
        ]
    )
    objects = [
        _widget(**{"max-replicas": 1, "note": None, "undeclared": 1}),
        _widget(replicas=7, **{"max-replicas": 9}),
    ]
    assert cel.cel_violations("t", objects, schemas) == (
        2,
        ["t: Widget/w: spec: not seven", "t: Widget/w: spec: failed rule: self.replicas != 7"],
    )
    objects[0]["spec"]["replicas"] = 2
    assert cel.cel_violations("t", objects[:1], schemas)[1] == [
        "t: Widget/w: spec.replicas: Forbidden: at most 1"
    ]


def test_transition_rules_are_skipped_and_unsupported_ones_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    schemas = _widget_schemas(
        [
            {"rule": "self.url == oldSelf.url", "message": "immutable"},
            {"rule": "self.url == oldSelf.url", "message": "immutable", "optionalOldSelf": True},
            {"rule": "isURL(self.url)", "message": "must be a URL"},
        ]
    )
    problems = cel.cel_violations("t", [_widget(url="not a url")], schemas)[1]
    assert len(problems) == 2, problems
    assert problems[0] == (
        "t: Widget/w: spec: rule does not compile "
        "(optionalOldSelf: the rule also runs on create; not implemented): self.url == oldSelf.url"
    )
    assert "undeclared reference to 'isURL'" in problems[1], problems
    monkeypatch.setattr(
        cel, "UNCOMPILABLE", {"isURL(self.url)": "Kubernetes' URL library is not implemented"}
    )
    assert cel.cel_violations("t", [_widget(url="not a url")], schemas)[1] == problems[:1]


def test_map_values_the_root_and_rules_that_fail_to_run() -> None:
    """A rule under a map runs once per value; a fieldPath into a map names the key; at the root
    only metadata.name and generateName are visible; a rule that errors or yields no bool is a
    violation, as it is on a cluster."""
    visible = {"rule": "self.kind == 'Widget' && self.metadata.name == 'w' && !has(self.metadata.namespace)"}
    no_gpu = {"rule": "!('gpu' in self.limits)", "fieldPath": ".limits['gpu']", "message": "no GPUs"}
    schemas = _widget_schemas(
        [{"rule": "self.url.startsWith('https:')"}, {"rule": "self.replicas"}, no_gpu], (visible,)
    )
    widget = _widget(limits={"cpu": 2, "memory": 0, "gpu": 1})
    widget["metadata"]["namespace"] = "production"
    assert cel.cel_violations("t", [widget], schemas)[1] == [
        't: Widget/w: spec: NOT_FOUND: Key not found in map : "url" evaluating rule: '
        "self.url.startsWith('https:')",
        "t: Widget/w: spec: rule returned INT, not a bool: self.replicas",
        "t: Widget/w: spec.limits[gpu]: no GPUs",
        "t: Widget/w: spec.limits[memory]: not > 0",
    ]


def test_property_names_are_escaped_as_kubernetes_documents() -> None:
    """The examples of the ValidationRule API reference (apiextensions.k8s.io/v1)."""
    assert cel.escape("namespace") == "__namespace__"
    assert cel.escape("x-prop") == "x__dash__prop"
    assert cel.escape("redact__d") == "redact__underscores__d"
    assert cel.escape("a.b/c_d") == "a__dot__b__slash__c_d"
    assert cel.escape("1st") is None and cel.escape("a b") is None


def _all_rule_lists(node: Any) -> Iterator[list[Any]]:
    if isinstance(node, dict):
        if "x-kubernetes-validations" in node:
            yield node["x-kubernetes-validations"]
        for value in node.values():
            yield from _all_rule_lists(value)
    elif isinstance(node, list):
        for value in node:
            yield from _all_rule_lists(value)


def _versions() -> Iterator[tuple[str, dict[str, Any]]]:
    for crd in cel.crd_documents():
        for version in crd["spec"]["versions"]:
            yield f"{crd['spec']['names']['kind']} {version['name']}", version["schema"]["openAPIV3Schema"]


def test_every_rule_of_every_crd_is_reached_and_compiles_or_is_listed() -> None:
    reached, unlisted = 0, []
    for where, schema in _versions():
        nodes = list(cel.rule_nodes(schema))
        anywhere = sum(len(rules) for rules in _all_rule_lists(schema))
        assert sum(len(n["x-kubernetes-validations"]) for _, n in nodes) == anywhere, where
        for path, node in nodes:
            for rule in node["x-kubernetes-validations"]:
                reached += 1
                error = cel.compile_rule(rule).error
                if error is not None and rule["rule"] not in cel.UNCOMPILABLE:
                    unlisted.append(f"{where} {path}: {error}: {rule['rule']}")
    assert reached >= 50, "the HTTPRoute CRD alone has more"
    listing = "\n".join(unlisted)
    assert not unlisted, f"rules this runtime cannot compile; list them in cel.UNCOMPILABLE:\n{listing}"


def test_uncompilable_list_names_only_current_uncompilable_rules() -> None:
    current = {r["rule"] for _, s in _versions() for rules in _all_rule_lists(s) for r in rules}
    for rule, reason in cel.UNCOMPILABLE.items():
        assert rule in current, f"cel.UNCOMPILABLE: no CRD in crds/ has {rule!r} any more"
        assert reason and cel.compile_rule({"rule": rule}).error, f"cel.UNCOMPILABLE: {rule!r} compiles now"


def _formats(schema: cel.Schema) -> set[str]:
    found = {schema["format"]} if "format" in schema else set()
    for child in [
        *(schema.get("properties") or {}).values(),
        schema.get("items"),
        schema.get("additionalProperties"),
    ]:
        if isinstance(child, dict):
            found |= _formats(child)
    return found


def test_no_rule_sees_a_timestamp_or_duration_value() -> None:
    """Those reach the rules as strings here, as timestamps and durations on a cluster."""
    typed = {"date-time", "date", "duration"}
    seen = [
        f"{where} {path}"
        for where, schema in _versions()
        for path, node in cel.rule_nodes(schema)
        if _formats(node) & typed
    ]
    assert not seen, f"rules whose value holds a {typed} field: teach cel.to_cel that type first: {seen}"


def _dist_objects(env: str) -> list[Manifest]:
    return [load_yaml(p.read_text(encoding="utf-8")) for p in sorted((DIST / env).glob("*.yaml"))]


@pytest.mark.parametrize("env", sorted({p.parent.name for p in DIST.glob("*/*.yaml")}))
def test_committed_custom_resources_pass_their_cel_rules(env: str) -> None:
    objects = _dist_objects(env)
    checked, problems = cel.cel_violations(env, objects)
    custom = [o for o in objects if not kube_schema.is_builtin(o)]
    assert checked == len(custom), f"{env}: custom kinds without a CRD in crds/"
    _ok(problems)


def test_planted_defect_in_a_committed_scaled_object_is_caught() -> None:
    envs = sorted({p.parent.name for p in DIST.glob("*/*scaledobject*.yaml")})
    assert envs, "no ScaledObject in dist/: plant this defect in another custom resource with a CEL rule"
    objects = _dist_objects(envs[0])
    scaled = next(o for o in objects if o["kind"] == "ScaledObject")
    scaled["spec"]["minReplicaCount"] = scaled["spec"]["maxReplicaCount"] + 1
    assert cel.cel_violations(envs[0], objects)[1] == [
        f"{envs[0]}: ScaledObject/{scaled['metadata']['name']}: spec: "
        "minReplicaCount must be less than or equal to maxReplicaCount"
    ]
