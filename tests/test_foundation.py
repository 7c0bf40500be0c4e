"""The web tier, names, labels, selectors and apply order, for every environment."""

from __future__ import annotations

import re
from pathlib import Path

import constructs
import pytest

from tests.support import ROOT, Output, pod_spec

RECOMMENDED = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/component",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/managed-by",
)
SELECTOR_KEYS = {"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component"}
HASH_SUFFIX = re.compile(r"-c8[0-9a-f]{6,}$|-[0-9a-f]{8}$")
EXPECTED_NAMESPACE = {"dev": "dev", "staging": "staging", "prod": "production"}


def test_constructs_folder_does_not_shadow_the_library() -> None:
    assert not (ROOT / "constructs" / "__init__.py").exists()
    assert "site-packages" in Path(constructs.__file__).parts, constructs.__file__


def test_web_objects_have_stable_names(out: Output) -> None:
    edge = [
        k for k, mode in (("HTTPRoute", "ingress"), ("Ingress", "gateway-api")) if out.cfg.edge.mode != mode
    ]
    for kind in ("Deployment", "Service", "ServiceAccount", "PodDisruptionBudget", *edge):
        assert out.has(kind, "vibeyard"), f"{out.cfg.name}: {kind}/vibeyard missing"
    for obj in out.objects:
        name = obj["metadata"]["name"]
        assert not HASH_SUFFIX.search(name), f"{out.cfg.name}: {obj['kind']}/{name} looks hash-suffixed"


def test_every_object_has_recommended_labels(out: Output) -> None:
    for obj in out.objects:
        labels = obj["metadata"].get("labels", {})
        missing = [k for k in RECOMMENDED if k not in labels]
        assert not missing, f"{out.cfg.name}: {obj['kind']}/{obj['metadata']['name']} lacks {missing}"
        assert labels["app.kubernetes.io/part-of"] == "vibeyard"
        assert labels["app.kubernetes.io/managed-by"] == "cdk8s"
    for wl in out.workloads():
        assert "app.kubernetes.io/version" in wl["metadata"]["labels"], wl["metadata"]["name"]


def test_no_construct_address_label_anywhere(out: Output) -> None:
    for name, text in out.files.items():
        assert "cdk8s.io/metadata.addr" not in text, f"{out.cfg.name}/{name}"


def test_selectors_use_only_stable_labels_and_match_pods(out: Output) -> None:
    for wl in out.workloads():
        if wl["kind"] == "Job":
            continue
        selector = wl["spec"]["selector"]["matchLabels"]
        assert set(selector) == SELECTOR_KEYS, wl["metadata"]["name"]
        pod_labels = wl["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= pod_labels.items(), wl["metadata"]["name"]
    for svc in out.of_kind("Service"):
        selector = svc["spec"]["selector"]
        assert set(selector) == SELECTOR_KEYS, svc["metadata"]["name"]


def test_web_deployment_runs_nextjs_safely(out: Output) -> None:
    deploy = out.get("Deployment", "vibeyard")
    spec = pod_spec(deploy)
    (container,) = spec["containers"]
    web = out.cfg.web
    assert container["image"] == out.cfg.image.ref
    assert container["ports"] == [{"containerPort": web.port, "name": "http", "protocol": "TCP"}]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": web.health_path, "port": "http"}, probe
    assert container["lifecycle"]["preStop"]["exec"]["command"] == ["sleep", str(web.pre_stop_sleep_seconds)]
    assert spec["terminationGracePeriodSeconds"] > web.pre_stop_sleep_seconds + 10
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert mounts == {"/app/.next/cache", "/tmp"}
    assert all("emptyDir" in v for v in spec["volumes"])
    assert container["resources"]["requests"] == {
        "cpu": web.resources.cpu_request,
        "memory": web.resources.memory_request,
    }
    rolling = deploy["spec"]["strategy"]["rollingUpdate"]
    assert rolling["maxUnavailable"] == 0
    settings = out.get("ConfigMap", "vibeyard-config")["data"]
    assert settings["HOSTNAME"] == "0.0.0.0"
    assert settings["PORT"] == str(web.port)
    assert settings["NEXTAUTH_URL"] == out.cfg.app_url
    assert settings["NODE_ENV"] == "production"
    assert {"configMapRef": {"name": "vibeyard-config"}} in container["envFrom"]


def test_service(out: Output) -> None:
    """The edge in front of it is tests/test_edge.py's."""
    svc = out.get("Service", "vibeyard")
    assert svc["spec"]["type"] == "ClusterIP"
    port = out.cfg.web.port
    assert svc["spec"]["ports"] == [{"name": "http", "port": port, "protocol": "TCP", "targetPort": "http"}]


def _tls_secrets(out: Output) -> set[str]:
    """The Secrets the edge serves certificates from: the Ingress's or our Gateway's."""
    names = {t["secretName"] for i in out.of_kind("Ingress") for t in i["spec"]["tls"]}
    names |= {
        ref["name"]
        for g in out.of_kind("Gateway")
        for listener in g["spec"]["listeners"]
        for ref in listener.get("tls", {}).get("certificateRefs", [])
    }
    return names


def test_tls_secrets_differ_per_environment(outputs: dict[str, Output]) -> None:
    secrets = [_tls_secrets(o) for o in outputs.values()]
    assert all(len(s) == 1 for s in secrets), secrets
    assert len(set.union(*secrets)) == len(outputs), f"an environment shares another's certificate: {secrets}"


def test_files_apply_in_one_pass(out: Output) -> None:
    """``kubectl apply -R`` goes in path order: every dependency must sort first."""
    order = list(out.files)  # already sorted, as on disk
    position = {(o["kind"], o["metadata"]["name"]): i for i, o in enumerate(out.objects)}
    assert out.objects[0]["kind"] == "Namespace" and order[0].startswith("00-namespace-")
    for i, wl in enumerate(out.objects):
        if wl["kind"] not in ("Deployment", "StatefulSet", "Job"):
            continue
        spec = pod_spec(wl)
        needs = [("ServiceAccount", spec["serviceAccountName"])]
        for c in spec["containers"]:
            needs += [("ConfigMap", e["configMapRef"]["name"]) for e in c.get("envFrom", [])]
        needs += [("ConfigMap", v["configMap"]["name"]) for v in spec.get("volumes", []) if "configMap" in v]
        for need in needs:
            assert need in position and position[need] < i, (
                f"{out.cfg.name}: {wl['metadata']['name']} needs {need}"
            )


def test_committed_dist_matches_a_fresh_synth(committed_output: dict[str, dict[str, str]]) -> None:
    dist = ROOT / "dist"
    on_disk = {
        folder.name: {f.name: f.read_text(encoding="utf-8") for f in sorted(folder.iterdir())}
        for folder in sorted(dist.iterdir())
        if folder.is_dir()
    }
    on_disk["."] = {f.name: f.read_text(encoding="utf-8") for f in sorted(dist.iterdir()) if not f.is_dir()}
    assert sorted(on_disk) == sorted(committed_output), "dist/ folders differ: run `make synth`"
    for folder, files in committed_output.items():
        assert sorted(on_disk[folder]) == sorted(files), f"dist/{folder} file set differs: run `make synth`"
        for name, text in files.items():
            assert on_disk[folder][name] == text, f"dist/{folder}/{name} is stale: run `make synth`"


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_hpa_managed_web_omits_replicas(outputs: dict[str, Output], env: str) -> None:
    assert "replicas" not in outputs[env].get("Deployment", "vibeyard")["spec"]


def test_dev_web_has_fixed_replicas_and_no_hpa(outputs: dict[str, Output]) -> None:
    dev = outputs["dev"]
    assert dev.get("Deployment", "vibeyard")["spec"]["replicas"] == 1
    assert not dev.of_kind("HorizontalPodAutoscaler")
