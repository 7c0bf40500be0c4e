"""kubernetes-validate (strict) on every built-in object, for 1.28 and the newest bundled version."""

from __future__ import annotations

import copy

import kubernetes_validate
import pytest

from tests.support import Output
from tests.validators import cel, cert_manager, crd_schema, kube_schema
from tests.validators.kube_schema import TARGET_VERSION
from tests.validators.manifests import Manifest, load_yaml


def test_bundled_schemas_span_target_and_newer() -> None:
    target, newest = kube_schema.versions()
    bundled = [str(v) for v in kubernetes_validate.utils.all_versions()]
    assert any(v.startswith(f"{TARGET_VERSION}.") for v in bundled), (
        f"no {TARGET_VERSION} schema in {bundled}"
    )
    assert tuple(map(int, newest.split(".")[:2])) > tuple(map(int, target.split("."))), newest


@pytest.mark.parametrize("which", ["target", "newest"])
def test_builtin_objects_are_schema_valid(out: Output, which: str) -> None:
    version = kube_schema.versions()[0 if which == "target" else 1]
    checked = [o for o in out.objects if kube_schema.is_builtin(o)]
    assert len(checked) >= 10, f"{out.cfg.name}: only {len(checked)} built-in objects to validate"
    problems = kube_schema.schema_violations(out.cfg.name, out.objects, version)
    assert not problems, "\n".join(problems)


def test_custom_resources_are_not_mistaken_for_builtins(out: Output) -> None:
    crds = {o["kind"] for o in out.objects if not kube_schema.is_builtin(o)}
    assert "VerticalPodAutoscaler" not in {o["kind"] for o in out.objects if kube_schema.is_builtin(o)}
    assert crds <= {
        "SealedSecret",
        "ExternalSecret",
        "ScaledObject",
        "TriggerAuthentication",
        "VerticalPodAutoscaler",
        "ServiceMonitor",
        "PrometheusRule",
        "Application",
        "AppProject",
        "Gateway",
        "HTTPRoute",
        "ReferenceGrant",
        "Certificate",
        "ClusterImagePolicy",
    }, f"{out.cfg.name}: unexpected custom kinds {sorted(crds)}: add to this list if deliberate"


def test_planted_unknown_field_and_removed_api_are_caught(outputs: dict[str, Output]) -> None:
    objects = copy.deepcopy(outputs["prod"].objects)
    web = next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "vibeyard")
    web["spec"]["template"]["spec"]["containers"][0]["resourcez"] = {}
    pdb = next(o for o in objects if o["kind"] == "PodDisruptionBudget")
    pdb["apiVersion"] = "policy/v1beta1"  # removed in Kubernetes 1.25
    problems = kube_schema.schema_violations("prod", objects, kube_schema.versions()[1])
    assert any(
        p.startswith("prod: Deployment/vibeyard: kubernetes ") and "resourcez" in p for p in problems
    ), problems
    assert any(
        p.startswith(f"prod: PodDisruptionBudget/{pdb['metadata']['name']}: kubernetes ") for p in problems
    )


def _with_crd(objects: list[Manifest]) -> list[Manifest]:
    """The custom resources whose CRD is vendored: all but cert-manager's (validators/cert_manager.py)."""
    return [o for o in objects if not kube_schema.is_builtin(o) and not cert_manager.is_cert_manager(o)]


def test_custom_resources_match_their_upstream_crd_schemas(every: Output) -> None:
    checked, problems = crd_schema.crd_violations(every.cfg.name, every.objects)
    assert checked == len(_with_crd(every.objects)), f"{every.cfg.name}: custom kinds without a CRD schema"
    assert not problems, "\n".join(problems)


def test_cert_manager_objects_match_cert_managers_models(every: Output) -> None:
    checked, problems = cert_manager.violations(every.cfg.name, every.objects)
    assert checked == len([o for o in every.objects if cert_manager.is_cert_manager(o)])
    assert not problems, "\n".join(problems)


def test_argocd_objects_match_their_crds(synthesized: dict[str, dict[str, str]]) -> None:
    objects = [load_yaml(t) for t in synthesized["argocd"].values()]
    checked, problems = crd_schema.crd_violations("argocd", objects)
    assert checked == len(objects) and {o["kind"] for o in objects} == {"Application", "AppProject"}
    assert not problems, "\n".join(problems)
    checked, problems = cel.cel_violations("argocd", objects)
    assert checked == len(objects) and not problems, "\n".join(problems)


def test_custom_resources_pass_their_crds_cel_rules(every: Output) -> None:
    checked, problems = cel.cel_violations(every.cfg.name, every.objects)
    assert checked == len(_with_crd(every.objects)), f"{every.cfg.name}: custom kinds without a CRD"
    assert not problems, "\n".join(problems)


def test_planted_misspelt_custom_field_is_caught(outputs: dict[str, Output]) -> None:
    objects = copy.deepcopy(outputs["prod"].objects)
    scaled = next(o for o in objects if o["kind"] == "ScaledObject")
    scaled["spec"]["pollingIntervall"] = 15
    scaled["spec"]["triggers"][0]["metadata"]["listLength"] = 5  # must be a string
    _, problems = crd_schema.crd_violations("prod", objects)
    assert len(problems) == 2 and all(
        p.startswith(f"prod: ScaledObject/{scaled['metadata']['name']}") for p in problems
    )
    assert any("pollingIntervall" in p for p in problems), problems
