"""The migration Job and the Argo CD Applications: how a release reaches the cluster."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.support import Output, pod_spec
from vibeyard.app.migration import job_name
from vibeyard.synth.inputs import IMAGE_TAG_VAR, resolve
from vibeyard.synth.releases import load_release, record_release


def test_migration_job_is_a_presync_hook_per_release(out: Output) -> None:
    (job,) = out.of_kind("Job")
    cfg = out.cfg
    assert job["metadata"]["name"] == job_name("vibeyard-migrate", cfg.image.tag)
    assert job["metadata"]["name"].startswith("vibeyard-migrate-")
    notes = job["metadata"]["annotations"]
    assert notes["argocd.argoproj.io/hook"] == "PreSync"
    assert notes["argocd.argoproj.io/hook-delete-policy"] == "BeforeHookCreation"
    spec = job["spec"]
    mig = cfg.migration
    assert spec["backoffLimit"] == mig.backoff_limit
    assert spec["activeDeadlineSeconds"] == mig.active_deadline_seconds
    assert spec["ttlSecondsAfterFinished"] == mig.ttl_seconds_after_finished
    pod = pod_spec(job)
    assert pod["restartPolicy"] == "Never"
    assert pod["serviceAccountName"] == "vibeyard-migrate"
    (c,) = pod["containers"]
    assert c["image"] == cfg.image.ref, "same image as the release it migrates for"
    assert c["command"] == list(mig.command)
    assert c["resources"]["limits"]["memory"] and c["resources"]["requests"]["cpu"]
    assert {"configMapRef": {"name": "vibeyard-config"}} in c["envFrom"]


def test_each_release_gets_its_own_job_name() -> None:
    names = {
        job_name("vibeyard-migrate", cfg.image.tag)
        for tag in ("3f2c1ab", "3f2c1ac", "v1.2.3")
        for cfg in resolve(["prod"], overrides={IMAGE_TAG_VAR: tag})
    }
    assert names == {"vibeyard-migrate-3f2c1ab", "vibeyard-migrate-3f2c1ac", "vibeyard-migrate-v1-2-3"}
    assert len(job_name("vibeyard-migrate", "a" * 128)) <= 63


@pytest.fixture(scope="module")
def applications(synthesized: dict[str, dict[str, str]]) -> dict[str, Any]:
    apps = [yaml.safe_load(text) for text in synthesized["argocd"].values()]
    return {a["spec"]["source"]["path"].removeprefix("dist/"): a for a in apps}


def test_one_application_per_environment(applications: dict[str, Any], outputs: dict[str, Output]) -> None:
    assert sorted(applications) == sorted(outputs)
    for env, app in applications.items():
        cfg = outputs[env].cfg
        assert app["apiVersion"] == "argoproj.io/v1alpha1" and app["kind"] == "Application"
        assert app["metadata"] == {**app["metadata"], "name": f"vibeyard-{env}", "namespace": "argocd"}
        source = app["spec"]["source"]
        assert source["repoURL"] == cfg.gitops.repo_url
        assert source["targetRevision"] == cfg.gitops.target_revision
        assert source["directory"] == {"recurse": True}
        assert app["spec"]["destination"]["namespace"] == cfg.namespace


def test_dev_and_staging_self_heal_prod_syncs_by_hand(applications: dict[str, Any]) -> None:
    for env in ("dev", "staging"):
        automated = applications[env]["spec"]["syncPolicy"]["automated"]
        assert automated == {"prune": True, "selfHeal": True}, env
    assert "automated" not in applications["prod"]["spec"]["syncPolicy"]
    assert applications["staging"]["spec"]["source"]["targetRevision"] == "develop"
    assert applications["prod"]["spec"]["source"]["targetRevision"] == "main"


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


def test_release_record_is_reproduced_without_the_override(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A synth with VIBEYARD_IMAGE_TAG records the pin; a plain one reads it back."""
    root = tmp_path_factory.mktemp("repo")
    (cfg,) = resolve(["prod"], overrides={IMAGE_TAG_VAR: "3f2c1ab"}, root=root)
    record_release(root, "prod", cfg.image.tag, cfg.image.digest)
    (again,) = resolve(["prod"], overrides={}, root=root)
    assert again.image == cfg.image and load_release(root, "prod") == {"tag": "3f2c1ab"}
