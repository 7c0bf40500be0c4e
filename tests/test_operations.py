"""How a release reaches the cluster: the migration hook, sync waves, protection, and Argo CD's objects."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import cdk8s
import pytest

from tests.support import Output, pod_spec
from tests.validators.manifests import load_yaml
from vibeyard.app.migration import job_name
from vibeyard.config import EnvConfig, load
from vibeyard.config.types import Destination, Image
from vibeyard.gitops.application import SyncTarget
from vibeyard.gitops.chart import GitOpsChart
from vibeyard.gitops.project import NAMESPACED_KINDS
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
    assert c["command"] == list(mig.command)
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
    apps = {a["spec"]["source"]["path"].removeprefix("dist/"): a for a in _apps(argocd).values()}
    assert sorted(apps) == ["argocd", "prod", "staging"], "dev is applied by hand; the root syncs dist/argocd"
    for env in ("staging", "prod"):
        app, cfg = apps[env], outputs[env].cfg
        assert cfg.gitops is not None
        assert app["metadata"]["name"] == f"vibeyard-{env}" and app["metadata"]["namespace"] == "argocd"
        source = app["spec"]["source"]
        assert (source["repoURL"], source["targetRevision"]) == (
            cfg.gitops.repo_url,
            cfg.gitops.target_revision,
        )
        assert source["directory"] == {"recurse": True}
        (dest,) = cfg.gitops.destinations
        assert app["spec"]["destination"] == {"namespace": cfg.namespace, "server": dest.server}
        assert app["spec"]["project"] == cfg.gitops.project
    assert apps["prod"]["spec"]["destination"]["server"] != "https://kubernetes.default.svc", (
        "its own cluster"
    )


def test_staging_self_heals_prod_syncs_by_hand(argocd: list[dict[str, Any]]) -> None:
    apps = _apps(argocd)
    assert apps["vibeyard-staging"]["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    assert "automated" not in apps["vibeyard-prod"]["spec"]["syncPolicy"]
    assert apps["vibeyard-staging"]["spec"]["source"]["targetRevision"] == "develop"


def test_the_root_application_installs_the_rest_from_one_folder(argocd: list[dict[str, Any]]) -> None:
    root = _apps(argocd)["vibeyard-apps"]
    assert root["spec"]["source"]["path"] == "dist/argocd"
    assert root["spec"]["destination"] == {"namespace": "argocd", "server": "https://kubernetes.default.svc"}
    assert root["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    waves_of = {o["kind"]: int(o["metadata"]["annotations"][WAVE]) for o in argocd}
    assert waves_of["AppProject"] < waves_of["Application"], "the project exists before its Applications"


def test_the_project_fences_destinations_repos_and_kinds(
    argocd: list[dict[str, Any]], outputs: dict[str, Output]
) -> None:
    (project,) = [o for o in argocd if o["kind"] == "AppProject"]
    spec = project["spec"]
    apps = [a for a in _apps(argocd).values() if a["spec"]["project"] == project["metadata"]["name"]]
    assert {(a["spec"]["destination"]["server"], a["spec"]["destination"]["namespace"]) for a in apps} == {
        (d["server"], d["namespace"]) for d in spec["destinations"]
    }, "exactly the Applications' destinations"
    assert spec["sourceRepos"] == sorted({a["spec"]["source"]["repoURL"] for a in apps})
    assert spec["clusterResourceWhitelist"] == [{"group": "", "kind": "Namespace"}]
    allowed = {(k["group"], k["kind"]) for k in spec["namespaceResourceWhitelist"]}
    for env in ("staging", "prod"):
        for obj in outputs[env].objects:
            group = obj["apiVersion"].rsplit("/", 1)[0] if "/" in obj["apiVersion"] else ""
            if obj["kind"] != "Namespace":
                assert (group, obj["kind"]) in allowed, f"{env}: {obj['kind']} is not whitelisted"
    assert set(NAMESPACED_KINDS) == allowed


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
    assert apps["vibeyard-prod-prod-us"]["spec"]["destination"]["server"] == "https://us.k8s.example.com"
    (project,) = [o for o in objects if o["kind"] == "AppProject"]
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
