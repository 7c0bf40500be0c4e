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
    for kind in ("Deployment", "Service", "Ingress", "ServiceAccount", "PodDisruptionBudget"):
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
    assert container["ports"] == [{"containerPort": 3000, "name": "http", "protocol": "TCP"}]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": web.health_path, "port": "http"}, probe
    assert container["lifecycle"]["preStop"]["exec"]["command"] == ["sleep", str(web.pre_stop_sleep_seconds)]
    assert spec["terminationGracePeriodSeconds"] > web.pre_stop_sleep_seconds + 10
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert mounts == {"/app/.next/cache", "/tmp"}
    assert all("emptyDir" in v for v in spec["volumes"])
    assert spec["securityContext"]["runAsUser"] == 1001
    assert spec["securityContext"]["runAsGroup"] == 1001
    assert container["resources"]["requests"] == {
        "cpu": web.resources.cpu_request,
        "memory": web.resources.memory_request,
    }
    rolling = deploy["spec"]["strategy"]["rollingUpdate"]
    assert rolling["maxUnavailable"] == 0
    settings = out.get("ConfigMap", "vibeyard-config")["data"]
    assert settings["HOSTNAME"] == "0.0.0.0"
    assert settings["PORT"] == "3000"
    assert settings["NEXTAUTH_URL"] == out.cfg.app_url
    assert settings["NODE_ENV"] == "production"
    assert {"configMapRef": {"name": "vibeyard-config"}} in container["envFrom"]


def test_service_and_ingress(out: Output) -> None:
    svc = out.get("Service", "vibeyard")
    assert svc["spec"]["type"] == "ClusterIP"
    assert svc["spec"]["ports"] == [{"name": "http", "port": 3000, "protocol": "TCP", "targetPort": "http"}]
    ing = out.get("Ingress", "vibeyard")
    assert ing["spec"]["ingressClassName"] == "nginx"
    assert ing["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == out.cfg.ingress.cluster_issuer
    assert ing["spec"]["tls"] == [{"hosts": [out.cfg.ingress.host], "secretName": out.cfg.ingress.tls_secret}]
    (path,) = ing["spec"]["rules"][0]["http"]["paths"]
    assert path["path"] == "/" and path["backend"]["service"] == {
        "name": "vibeyard",
        "port": {"name": "http"},
    }


def test_tls_secrets_differ_per_environment(outputs: dict[str, Output]) -> None:
    secrets = [o.get("Ingress", "vibeyard")["spec"]["tls"][0]["secretName"] for o in outputs.values()]
    assert len(set(secrets)) == len(secrets) == 3


def test_production_renders_the_design_docs_values(outputs: dict[str, Output]) -> None:
    """values.yaml: HPA 3-10 at 70% CPU / 80% memory, 250m/512Mi requests, 1000m/1Gi limits, nginx, LE."""
    prod = outputs["prod"]
    hpa = prod.get("HorizontalPodAutoscaler", "vibeyard")["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (3, 10)
    targets = {m["resource"]["name"]: m["resource"]["target"]["averageUtilization"] for m in hpa["metrics"]}
    assert targets == {"cpu": 70, "memory": 80}
    resources = pod_spec(prod.get("Deployment", "vibeyard"))["containers"][0]["resources"]
    assert resources == {
        "limits": {"cpu": "1000m", "memory": "1Gi"},
        "requests": {"cpu": "250m", "memory": "512Mi"},
    }
    ingress = prod.get("Ingress", "vibeyard")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt-prod"


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


def test_acme_http01_solver_is_reachable_where_lets_encrypt_issues(out: Output) -> None:
    """Default-deny would otherwise leave every Let's Encrypt certificate Pending."""
    present = out.has("NetworkPolicy", "acme-solver-from-ingress")
    assert present == out.cfg.ingress.acme_http01, out.cfg.name
    if present:
        spec = out.get("NetworkPolicy", "acme-solver-from-ingress")["spec"]
        assert spec["podSelector"] == {"matchLabels": {"acme.cert-manager.io/http01-solver": "true"}}
        (rule,) = spec["ingress"]
        assert rule["ports"] == [{"port": 8089, "protocol": "TCP"}]
        assert rule["from"][0]["namespaceSelector"] == {
            "matchLabels": {"kubernetes.io/metadata.name": out.cfg.network.ingress_namespace}
        }
