"""How a release reaches the cluster: the migration hook, sync waves, protection, and Argo CD's objects."""

from __future__ import annotations

import fnmatch
from dataclasses import replace
from typing import Any

import cdk8s
import pytest

from tests import variants as variant_configs
from tests.support import Output, pod_spec
from tests.validators.manifests import load_yaml
from vibeyard import placeholders
from vibeyard.app.migration import job_name
from vibeyard.config import EnvConfig, load
from vibeyard.config.types import Destination, Image
from vibeyard.gitops.application import SyncTarget
from vibeyard.gitops.chart import GitOpsChart
from vibeyard.order import wave

WAVE = "argocd.argoproj.io/sync-wave"
WORKLOADS = ("StatefulSet", "Deployment")


def test_migration_job_is_a_sync_hook_reading_database_credentials_only(out: Output) -> None:
    (job,) = out.of_kind("Job")
    cfg = out.cfg
    assert job["metadata"]["name"] == job_name("vibeyard-migrate", cfg.image)
    notes = job["metadata"]["annotations"]
    # Sync phase, after the Secret and the stores (earlier waves), before the app (a later one).
    assert notes["argocd.argoproj.io/hook"] == "Sync"
    assert notes["argocd.argoproj.io/hook-delete-policy"] == "BeforeHookCreation"
    spec = job["spec"]
    mig = cfg.migration
    assert (spec["backoffLimit"], spec["activeDeadlineSeconds"]) == (
        mig.backoff_limit,
        mig.active_deadline_seconds,
    )
    assert spec["ttlSecondsAfterFinished"] == mig.ttl_seconds_after_finished
    pod = pod_spec(job)
    assert pod["restartPolicy"] == "Never" and pod["serviceAccountName"] == "vibeyard-migrate"
    (c,) = pod["containers"]
    assert c["image"] == cfg.image.ref, "same image as the release it migrates for"
    assert c["command"][:2] == ["node", "-e"] and c["command"][3:] == list(mig.command)
    assert "envFrom" not in c
    secret_keys = {e["valueFrom"]["secretKeyRef"]["key"] for e in c["env"] if "valueFrom" in e}
    assert secret_keys <= {"database-url", "postgres-password"} and secret_keys, secret_keys


def test_waves_order_a_first_sync_of_an_empty_namespace(out: Output) -> None:
    """Namespace, then policy, then secrets and config, then stores, then the migration, then the app."""
    wave = {(o["kind"], o["metadata"]["name"]): int(o["metadata"]["annotations"][WAVE]) for o in out.objects}
    (job,) = [k for k in wave if k[0] == "Job"]
    namespace = next(k for k in wave if k[0] == "Namespace")
    stores = [
        k for k in wave if k[1] in ("postgres", "redis", "redis-cache", "pgbouncer") and k[0] in WORKLOADS
    ]
    app = [k for k in wave if k[0] == "Deployment" and k[1].startswith("vibeyard")]
    secrets = [k for k in wave if k[0] in ("SealedSecret", "ConfigMap", "Service")]
    assert stores and app
    assert all(wave[namespace] < wave[k] for k in wave if k != namespace)
    assert max(wave[k] for k in secrets) < min(wave[k] for k in stores)
    assert max(wave[k] for k in stores) < wave[job] < min(wave[k] for k in app)


def test_namespace_and_volume_owners_are_never_pruned_or_deleted(out: Output) -> None:
    for obj in out.objects:
        options = obj["metadata"].get("annotations", {}).get("argocd.argoproj.io/sync-options")
        protected = obj["kind"] in ("Namespace", "StatefulSet")
        assert (options == "Prune=false,Delete=false") == protected, (
            f"{obj['kind']}/{obj['metadata']['name']}"
        )


def test_wave_of_unknown_kinds_is_the_apps() -> None:
    assert wave({"kind": "Ingress", "metadata": {}}) == 1
    store = {"kind": "Deployment", "metadata": {"labels": {"app.kubernetes.io/component": "cache"}}}
    assert wave(store) == -1


def test_each_image_gets_its_own_job_name() -> None:
    names = {
        job_name("vibeyard-migrate", cfg.image)
        for tag in ("3f2c1ab", "3f2c1ac", "v1.2.3")
        for cfg in [load("prod", {"image": {"tag": tag}})]
    }
    assert names == {"vibeyard-migrate-3f2c1ab", "vibeyard-migrate-3f2c1ac", "vibeyard-migrate-v1-2-3"}
    local = Image(repository="vibeyard", tag="local", pull_policy="Never")
    rebuilt = replace(local, digest="sha256:" + "1" * 64)
    assert job_name("vibeyard-migrate", local) != job_name("vibeyard-migrate", rebuilt), "dev rebuilds"
    long = job_name("vibeyard-migrate", replace(rebuilt, tag="a" * 128))
    assert len(long) <= 63 and long.endswith("-" + "1" * 12)


@pytest.fixture(scope="module")
def argocd(synthesized: dict[str, dict[str, str]]) -> list[dict[str, Any]]:
    return [load_yaml(text) for text in synthesized["argocd"].values()]


def _apps(argocd: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {a["metadata"]["name"]: a for a in argocd if a["kind"] == "Application"}


def test_one_application_per_synced_environment_and_cluster(
    argocd: list[dict[str, Any]], outputs: dict[str, Output]
) -> None:
    apps = _apps(argocd)
    expected = {"vibeyard-apps"}
    for env, out in outputs.items():
        git = out.cfg.gitops
        if git is None:  # applied by hand
            assert not [a for a in apps.values() if a["spec"]["source"]["path"] == f"dist/{env}"]
            continue
        for name, dest in git.applications(env):
            expected.add(name)
            app = apps[name]
            source = app["spec"]["source"]
            assert (source["repoURL"], source["targetRevision"], source["path"]) == (
                git.repo_url,
                git.target_revision,
                f"dist/{env}",
            )
            assert source["directory"] == {"recurse": True} and app["metadata"]["namespace"] == "argocd"
            # By the name `argocd cluster add --name` registers: never a URL.
            assert app["spec"]["destination"] == {"name": dest.name, "namespace": out.cfg.namespace}
            assert app["spec"]["project"] == git.project
    assert set(apps) == expected


def test_an_environment_syncs_by_itself_only_when_configured_and_free_of_placeholders(
    argocd: list[dict[str, Any]], outputs: dict[str, Output]
) -> None:
    apps = _apps(argocd)
    for env, out in outputs.items():
        git = out.cfg.gitops
        if git is None:
            continue
        sealed = variant_configs.sealed_data(out.cfg) if out.cfg.secrets.provider == "sealed" else None
        ready = not placeholders.in_config(out.cfg, sealed)
        for name, _ in git.applications(env):
            policy = apps[name]["spec"]["syncPolicy"]
            if git.auto_sync and ready:
                assert policy["automated"] == {"prune": True, "selfHeal": True}, name
            else:
                assert "automated" not in policy, f"{name}: syncs by itself with placeholders or by choice"
    prod = outputs["prod"].cfg.gitops
    assert prod is not None
    target = SyncTarget("prod", "production", replace(prod, auto_sync=True), ready=True)
    chart = GitOpsChart(cdk8s.App(), "argocd", targets=[target])
    (app,) = [o for o in chart.manifests() if o["metadata"]["name"] == "vibeyard-prod"]
    assert app["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}, "a ready environment"


def test_the_root_application_is_fenced_to_applications_and_projects(argocd: list[dict[str, Any]]) -> None:
    root = _apps(argocd)["vibeyard-apps"]
    assert root["spec"]["source"]["path"] == "dist/argocd"
    assert root["spec"]["destination"] == {"name": "in-cluster", "namespace": "argocd"}
    assert root["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    projects = {o["metadata"]["name"]: o["spec"] for o in argocd if o["kind"] == "AppProject"}
    fence = projects[root["spec"]["project"]]
    assert fence["destinations"] == [{"name": "in-cluster", "namespace": "argocd"}]
    assert fence["clusterResourceWhitelist"] == [], "no ClusterRole or ClusterRoleBinding through the root"
    assert {(k["group"], k["kind"]) for k in fence["namespaceResourceWhitelist"]} == {
        ("argoproj.io", "Application"),
        ("argoproj.io", "AppProject"),
    }
    waves_of = {o["kind"]: int(o["metadata"]["annotations"][WAVE]) for o in argocd}
    assert waves_of["AppProject"] < waves_of["Application"], "the projects exist before their Applications"


def test_the_project_fences_destinations_repos_and_kinds(
    argocd: list[dict[str, Any]], outputs: dict[str, Output]
) -> None:
    apps = _apps(argocd)
    projects = {o["metadata"]["name"]: o for o in argocd if o["kind"] == "AppProject"}
    (project,) = [p for n, p in projects.items() if n != apps["vibeyard-apps"]["spec"]["project"]]
    spec = project["spec"]
    members = [a for a in apps.values() if a["spec"]["project"] == project["metadata"]["name"]]
    assert {(a["spec"]["destination"]["name"], a["spec"]["destination"]["namespace"]) for a in members} == {
        (d["name"], d["namespace"]) for d in spec["destinations"]
    }, "exactly the Applications' destinations"
    assert spec["sourceRepos"] == sorted({a["spec"]["source"]["repoURL"] for a in members})
    assert spec["clusterResourceWhitelist"] == [{"group": "", "kind": "Namespace"}]
    allowed = {(k["group"], k["kind"]) for k in spec["namespaceResourceWhitelist"]}
    for env, out in outputs.items():
        for obj in out.objects:
            group = obj["apiVersion"].rsplit("/", 1)[0] if "/" in obj["apiVersion"] else ""
            if obj["kind"] != "Namespace":
                assert (group, obj["kind"]) in allowed, f"{env}: {obj['kind']} is not whitelisted"


def test_what_is_orphaned_on_purpose_is_not_reported(
    argocd: list[dict[str, Any]], outputs: dict[str, Output]
) -> None:
    """Argo CD warns about objects in a synced namespace that git does not hold. The data
    volumes a StatefulSet retains and cert-manager's certificates are ours on purpose."""
    (project,) = [
        o["spec"] for o in argocd if o["kind"] == "AppProject" and o["metadata"]["name"] == "vibeyard"
    ]
    ignored = project["orphanedResources"]["ignore"]
    assert project["orphanedResources"]["warn"] is True

    def ignores(kind: str, name: str) -> bool:
        return any(i["kind"] == kind and fnmatch.fnmatchcase(name, i["name"]) for i in ignored)

    for out in outputs.values():
        for sts in out.of_kind("StatefulSet"):
            for claim in sts["spec"].get("volumeClaimTemplates", []):
                pvc = f"{claim['metadata']['name']}-{sts['metadata']['name']}-0"
                assert ignores("PersistentVolumeClaim", pvc), pvc
        for ing in out.of_kind("Ingress"):
            for tls in ing["spec"].get("tls", []):
                assert ignores("Secret", tls["secretName"]), tls["secretName"]
    assert not ignores("Secret", "vibeyard-secrets") and not ignores("PersistentVolumeClaim", "other")


def test_an_environment_on_several_clusters_gets_an_application_each(configs: dict[str, EnvConfig]) -> None:
    prod = configs["prod"]
    assert prod.gitops is not None
    clusters = (
        Destination(name="prod-eu", server="https://eu.k8s.example.com"),
        Destination(name="prod-us", server="https://us.k8s.example.com"),
    )
    target = SyncTarget("prod", prod.namespace, replace(prod.gitops, destinations=clusters))
    chart = GitOpsChart(cdk8s.App(), "argocd", targets=[target, SyncTarget("dev", "dev", None)])
    objects = chart.manifests()
    apps = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Application"}
    assert set(apps) == {"vibeyard-prod-prod-eu", "vibeyard-prod-prod-us", "vibeyard-apps"}
    assert apps["vibeyard-prod-prod-us"]["spec"]["destination"]["name"] == "prod-us"
    (project,) = [o for o in objects if o["kind"] == "AppProject" and o["metadata"]["name"] == "vibeyard"]
    assert len(project["spec"]["destinations"]) == 2


def test_sentry_reaches_app_and_workers_where_enabled(out: Output) -> None:
    settings = out.get("ConfigMap", "vibeyard-config")["data"]
    for wl in out.of_kind("Deployment"):
        if not wl["metadata"]["name"].startswith("vibeyard"):
            continue
        env = {e["name"]: e for e in pod_spec(wl)["containers"][0]["env"]}
        if out.cfg.sentry_enabled:
            assert env["SENTRY_DSN"]["valueFrom"]["secretKeyRef"]["key"] == "sentry-dsn"
            assert settings["SENTRY_ENVIRONMENT"] == out.cfg.name
        else:
            assert "SENTRY_DSN" not in env and "SENTRY_ENVIRONMENT" not in settings
