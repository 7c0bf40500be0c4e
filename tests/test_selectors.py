"""Every selector selects exactly its own workload's pods, in every environment and variant.

Checking that a selector matches its own pods proves little: a selector that lost a
label still does. So each selector is evaluated with the API server's label-selector
semantics (``matchLabels`` and ``matchExpressions``) against every pod template the
environment renders, and against look-alikes of its own pods: the same pod of another
instance in the namespace, of another component, and another workload of the same
component (a new worker pool). A selector meant for one workload must match its own
pods and nothing else; so a selector that drops any identity label is caught in every
environment, not only where a second worker pool happens to exist.

Whose pods an object is meant for comes from its name, never from its selector: a
Service, PodDisruptionBudget, ServiceMonitor or autoscaler is named after its workload
(``<workload>-headless`` for a headless Service), and a NetworkPolicy after the pods it
is about (``<workload>-from-<purpose>``, ``<workload>-to-<purpose>``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support import Manifest, Output, pod_spec

NAME = "app.kubernetes.io/name"
INSTANCE = "app.kubernetes.io/instance"
COMPONENT = "app.kubernetes.io/component"
# The labels that tell one workload's pods from another's. A look-alike differs in one.
IDENTITY = (NAME, INSTANCE, COMPONENT)

# NetworkPolicies about every pod of the namespace, by design.
NAMESPACE_WIDE = {"default-deny-all", "allow-dns"}
# NetworkPolicies about pods we do not render: cert-manager's HTTP-01 solver.
FOREIGN_SUBJECTS = {"acme-solver"}
# The app's egress is named after the web (``vibeyard-to-...``) and covers every pod that
# runs the app's code and makes the same calls: the web and every worker pool, including
# pools added later (so a look-alike of another pool name is meant to match).
APP_COMPONENTS = ("web", "worker")
AUTOSCALERS = ("HorizontalPodAutoscaler", "ScaledObject", "VerticalPodAutoscaler")


def matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A metav1.LabelSelector: every term must hold; ``{}`` matches all, null nothing."""
    if selector is None:
        return False
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        present = key in labels
        held = {
            "In": present and labels.get(key) in values,
            "NotIn": not present or labels.get(key) not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }
        if op not in held:
            raise ValueError(f"unknown selector operator {op!r}")
        if not held[op]:
            return False
    return True


def service_matches(selector: Mapping[str, str] | None, labels: Mapping[str, str]) -> bool:
    """A Service's plain map: a Service without a selector selects no pods."""
    return bool(selector) and matches({"matchLabels": selector}, labels)


@dataclass(frozen=True)
class Pods:
    """One workload's pod template, known by its pods' app.kubernetes.io/name."""

    name: str
    labels: Mapping[str, str]


def pods_of(out: Output) -> list[Pods]:
    templates = [w["spec"]["template"]["metadata"]["labels"] for w in out.workloads()]
    return [Pods(labels[NAME], labels) for labels in templates]


def look_alikes(
    labels: Mapping[str, str], free: tuple[str, ...] = ()
) -> Iterator[tuple[str, dict[str, str]]]:
    """The pod with one identity label changed: another instance, component or workload.
    Labels in ``free`` are meant to vary (a group selector)."""
    for key in IDENTITY:
        if key in labels and key not in free:
            yield key, {**labels, key: f"{labels[key]}-other"}


def _exactly(
    where: str,
    match: Callable[[Mapping[str, str]], bool],
    pods: list[Pods],
    meant: set[str],
    free: tuple[str, ...] = (),
) -> list[str]:
    """``match`` selects the pods of exactly the workloads named ``meant``, and no look-alike."""
    selected = {p.name for p in pods if match(p.labels)}
    problems = []
    if selected != meant:
        problems.append(f"{where} selects the pods of {sorted(selected)}, meant for {sorted(meant)}")
    for p in pods:
        if p.name in meant:
            problems += [
                f"{where} also selects {p.name}'s look-alike with another {key}: "
                f"its selector leaves {key} out"
                for key, other in look_alikes(p.labels, free)
                if match(other)
            ]
    return problems


def selects(selector: Mapping[str, Any] | None) -> Callable[[Mapping[str, str]], bool]:
    """The label-selector ``selector`` as a test of a pod's labels."""
    return lambda labels: matches(selector, labels)


UNROUTED = "vibeyard-unrouted"


def _meant_workload(where: str, name: str, pods: list[Pods]) -> tuple[set[str], list[str]]:
    names = {p.name for p in pods}
    return ({name}, []) if name in names else (set(), [f"{where}: no workload named {name!r} to select"])


def check_workload(obj: Manifest, out: Output) -> list[str]:
    """A Deployment's or StatefulSet's selector, and its pods' spread constraints."""
    pods = pods_of(out)
    where = f"{obj['kind']}/{obj['metadata']['name']}"
    own = obj["spec"]["template"]["metadata"]["labels"]
    problems = [] if own[NAME] == obj["metadata"]["name"] else [f"{where}: its pods are named {own[NAME]!r}"]
    problems += _exactly(where, selects(obj["spec"]["selector"]), pods, {own[NAME]})
    for i, spread in enumerate(pod_spec(obj).get("topologySpreadConstraints", [])):
        problems += _exactly(f"{where} spread[{i}]", selects(spread.get("labelSelector")), pods, {own[NAME]})
    return problems


def check_service(obj: Manifest, out: Output) -> list[str]:
    pods = pods_of(out)
    where = f"Service/{obj['metadata']['name']}"
    selector = obj["spec"].get("selector")
    if not selector and obj["spec"].get("type") == "ExternalName":
        return []  # a name for a managed store: selects no pods, by design
    if obj["metadata"]["name"] == UNROUTED:
        # The Ingress's dead end for the metrics path: no pods, so no endpoints, by design.
        return _exactly(where, lambda labels: service_matches(selector, labels), pods, set())
    meant, problems = _meant_workload(where, obj["metadata"]["name"].removesuffix("-headless"), pods)
    return problems + _exactly(where, lambda labels: service_matches(selector, labels), pods, meant)


def check_budget(obj: Manifest, out: Output) -> list[str]:
    pods = pods_of(out)
    where = f"PodDisruptionBudget/{obj['metadata']['name']}"
    meant, problems = _meant_workload(where, obj["metadata"]["name"], pods)
    return problems + _exactly(where, selects(obj["spec"].get("selector")), pods, meant)


def check_network_policy(obj: Manifest, out: Output) -> list[str]:
    """The pods a policy is about, from its name: ``<pods>-from-<purpose>`` (ingress) or
    ``<pods>-to-<purpose>`` (egress)."""
    pods = pods_of(out)
    name = obj["metadata"]["name"]
    where = f"NetworkPolicy/{name}"
    match = selects(obj["spec"]["podSelector"])
    if name in NAMESPACE_WIDE:
        return _exactly(where, match, pods, {p.name for p in pods}, free=IDENTITY)
    egress = obj["spec"]["policyTypes"] == ["Egress"]
    subject, sep, purpose = name.partition("-to-" if egress else "-from-")
    if not (sep and purpose):
        return [f"{where}: its name says neither <pods>-from-<purpose> nor <pods>-to-<purpose>"]
    if subject in FOREIGN_SUBJECTS:
        return _exactly(where, match, pods, set())
    web = {p.name for p in pods if p.labels.get(COMPONENT) == "web"}
    if egress and subject in web:
        app = {p.name for p in pods if p.labels.get(COMPONENT) in APP_COMPONENTS}
        return _exactly(where, match, pods, app, free=(NAME,))
    meant, problems = _meant_workload(where, subject, pods)
    return problems + _exactly(where, match, pods, meant)


def check_service_monitor(obj: Manifest, out: Output) -> list[str]:
    """The Services it scrapes (selected, with the endpoint's port): exactly its own, in
    its own namespace only."""
    name, spec, namespace = obj["metadata"]["name"], obj["spec"], out.cfg.namespace
    where = f"ServiceMonitor/{name}"
    problems = []
    if spec.get("namespaceSelector") != {"matchNames": [namespace]}:
        problems.append(
            f"{where} namespaceSelector {spec.get('namespaceSelector')} is not [{namespace}] alone"
        )
    ports = {e["port"] for e in spec["endpoints"]}
    match = selects(spec["selector"])
    services = out.of_kind("Service")
    scraped = sorted(
        s["metadata"]["name"]
        for s in services
        if match(s["metadata"]["labels"]) and ports & {p.get("name") for p in s["spec"]["ports"]}
    )
    if scraped != [name]:
        problems.append(f"{where} scrapes the Services {scraped}, meant for [{name}]")
    for s in services:
        if s["metadata"]["name"] == name:
            problems += [
                f"{where} also selects a look-alike Service with another {key}: its selector leaves {key} out"
                for key, other in look_alikes(s["metadata"]["labels"])
                if match(other)
            ]
    return problems


def check_autoscaler(obj: Manifest, out: Output) -> list[str]:
    """The target reference names exactly the workload the autoscaler is named after."""
    where = f"{obj['kind']}/{obj['metadata']['name']}"
    ref = obj["spec"].get("scaleTargetRef") or obj["spec"]["targetRef"]
    # KEDA defaults a ScaledObject's target to an apps/v1 Deployment.
    kind, api = ref.get("kind", "Deployment"), ref.get("apiVersion", "apps/v1")
    rendered = {
        (w["kind"], w["apiVersion"], w["metadata"]["name"]) for w in out.workloads() if w["kind"] != "Job"
    }
    if (kind, api, ref["name"]) not in rendered:
        return [f"{where} targets {api} {kind}/{ref['name']}, which is not rendered"]
    if ref["name"] != obj["metadata"]["name"]:
        return [f"{where} targets {kind}/{ref['name']}, not its own workload"]
    return []


CHECKS: dict[str, Callable[[Manifest, Output], list[str]]] = {
    "Deployment": check_workload,
    "StatefulSet": check_workload,
    "Service": check_service,
    "PodDisruptionBudget": check_budget,
    "NetworkPolicy": check_network_policy,
    "ServiceMonitor": check_service_monitor,
    **dict.fromkeys(AUTOSCALERS, check_autoscaler),
}


def problems_of(out: Output, obj: Manifest) -> list[str]:
    """What is wrong with ``obj``'s selectors in ``out`` (``obj`` may be a planted copy)."""
    check = CHECKS.get(obj["kind"])
    return check(obj, out) if check else []


@pytest.fixture
def called(request: pytest.FixtureRequest) -> str:
    """The name of the environment or variant under test (a variant's config carries its base's)."""
    return str(request.node.callspec.params["every"])


def test_every_selector_selects_exactly_its_own_workloads_pods(every: Output, called: str) -> None:
    names = [p.name for p in pods_of(every)]
    assert len(names) == len(set(names)), f"{called}: two workloads' pods share a name: {sorted(names)}"
    problems = [p for obj in every.objects for p in problems_of(every, obj)]
    assert not problems, "\n".join(f"{called}: {p}" for p in problems)


def test_every_object_that_selects_is_checked(every: Output, called: str) -> None:
    """A kind that selects pods, Services or a target and that this file does not know
    would go unchecked: it fails here until it is added."""
    selecting = ("selector", "podSelector", "scaleTargetRef", "targetRef")
    for obj in every.objects:
        if obj["kind"] == "Job" and "selector" not in obj["spec"]:
            continue  # the API server generates a Job's selector from its own uid
        if any(key in obj.get("spec", {}) for key in selecting):
            assert obj["kind"] in CHECKS, f"{called}: {obj['kind']} selects but is not checked"


def test_a_budget_selector_that_loses_a_label_is_caught(every: Output, called: str) -> None:
    budgets = every.of_kind("PodDisruptionBudget")
    assert budgets, f"{called}: no PodDisruptionBudget"
    for pdb in budgets:
        for key in pdb["spec"]["selector"]["matchLabels"]:
            planted = copy.deepcopy(pdb)
            del planted["spec"]["selector"]["matchLabels"][key]
            found = problems_of(every, planted)
            assert any(f"PodDisruptionBudget/{pdb['metadata']['name']}" in p and key in p for p in found), (
                f"{called}: PodDisruptionBudget/{pdb['metadata']['name']} without {key} passes: {found}"
            )


def _drop(key: str, *path: str | int) -> Callable[[Manifest], bool]:
    """Delete the label ``key`` of the selector at ``path``; False where there is none."""

    def plant(obj: Manifest) -> bool:
        node: Any = obj
        for step in path:
            try:
                node = node[step]
            except (KeyError, IndexError):
                return False
        return node.pop(key, None) is not None

    return plant


def _retarget(obj: Manifest) -> bool:
    ref = obj["spec"].get("scaleTargetRef") or obj["spec"]["targetRef"]
    ref["name"] = "redis-cache"
    return True


def _any_namespace(obj: Manifest) -> bool:
    obj["spec"]["namespaceSelector"] = {"any": True}
    return True


def _also_the_migration(obj: Manifest) -> bool:
    for expr in obj["spec"]["podSelector"].get("matchExpressions", []):
        if expr["key"] == COMPONENT and expr["operator"] == "In":
            expr["values"].append("migration")
            return True
    return False


SPREAD = ("spec", "template", "spec", "topologySpreadConstraints", 0, "labelSelector", "matchLabels")
# A defect, the object it is planted in, and how; a plant returns False where it cannot apply.
PLANTED: dict[str, tuple[str, str, Callable[[Manifest], bool]]] = {
    "web Service without its name label": ("Service", "vibeyard", _drop(NAME, "spec", "selector")),
    "web Deployment selector without its component": (
        "Deployment",
        "vibeyard",
        _drop(COMPONENT, "spec", "selector", "matchLabels"),
    ),
    "web spread constraint without its instance": ("Deployment", "vibeyard", _drop(INSTANCE, *SPREAD)),
    "redis policy without its instance": (
        "NetworkPolicy",
        "redis-from-clients",
        _drop(INSTANCE, "spec", "podSelector", "matchLabels"),
    ),
    "app egress that also takes the migration": (
        "NetworkPolicy",
        "vibeyard-to-datastores",
        _also_the_migration,
    ),
    "app egress without its instance": (
        "NetworkPolicy",
        "vibeyard-to-internet-https",
        _drop(INSTANCE, "spec", "podSelector", "matchLabels"),
    ),
    "web ServiceMonitor in any namespace": ("ServiceMonitor", "vibeyard", _any_namespace),
    "web ServiceMonitor without its name label": (
        "ServiceMonitor",
        "vibeyard",
        _drop(NAME, "spec", "selector", "matchLabels"),
    ),
    "web HPA on another Deployment": ("HorizontalPodAutoscaler", "vibeyard", _retarget),
    "default pool's ScaledObject on another Deployment": (
        "ScaledObject",
        "vibeyard-worker-default",
        _retarget,
    ),
}


def test_planted_selector_defects_are_caught(every: Output, called: str) -> None:
    """Each defect of PLANTED that applies here, on a copy of its object, is named."""
    tried = []
    for defect, (kind, name, plant) in PLANTED.items():
        if not every.has(kind, name):
            continue
        planted = copy.deepcopy(every.get(kind, name))
        if not plant(planted):
            continue
        tried.append(defect)
        found = problems_of(every, planted)
        assert any(f"{kind}/{name}" in p for p in found), f"{called}: {defect} passes"
    assert tried, f"{called}: no planted defect applies"


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ({}, {"a": "1"}, True),
        (None, {"a": "1"}, False),
        ({"matchLabels": {"a": "1"}}, {"a": "1", "b": "2"}, True),
        ({"matchLabels": {"a": "1"}}, {"a": "2"}, False),
        ({"matchLabels": {"a": "1"}}, {}, False),
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["1", "2"]}]}, {"a": "2"}, True),
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["1"]}]}, {}, False),
        ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["1"]}]}, {}, True),
        ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["1"]}]}, {"a": "1"}, False),
        ({"matchExpressions": [{"key": "a", "operator": "Exists"}]}, {"a": ""}, True),
        ({"matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]}, {"a": ""}, False),
        (
            {"matchLabels": {"b": "2"}, "matchExpressions": [{"key": "a", "operator": "Exists"}]},
            {"a": "1"},
            False,
        ),
    ],
)
def test_label_selector_semantics(
    selector: dict[str, Any] | None, labels: dict[str, str], expected: bool
) -> None:
    """As the API server evaluates them (apimachinery's labels.Selector)."""
    assert matches(selector, labels) is expected


def test_a_service_without_a_selector_selects_nothing() -> None:
    assert not service_matches(None, {"a": "1"}) and not service_matches({}, {"a": "1"})
