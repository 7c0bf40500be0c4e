"""PostgreSQL, Redis, PgBouncer and the Secret, as each environment configures them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import cdk8s
import pytest

from tests.support import Output, pod_spec
from vibeyard.chart import VibeyardChart
from vibeyard.config import Topology
from vibeyard.config.quantity import memory_bytes
from vibeyard.config.types import EnvConfig, SecretsConfig
from vibeyard.synth.render import render


def _env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env", [])}


def _container(out: Output, kind: str, name: str) -> dict[str, Any]:
    container: dict[str, Any] = pod_spec(out.get(kind, name))["containers"][0]
    return container


def test_modes_per_environment(outputs: dict[str, Output]) -> None:
    assert outputs["dev"].has("StatefulSet", "postgres") and outputs["staging"].has("StatefulSet", "postgres")
    assert not outputs["prod"].has("StatefulSet", "postgres"), "prod uses a managed database"
    assert not outputs["prod"].has("Service", "postgres")
    for env in ("dev", "staging", "prod"):
        assert outputs[env].has("StatefulSet", "redis")
    assert not outputs["dev"].has("Deployment", "pgbouncer")
    assert outputs["staging"].has("Deployment", "pgbouncer") and outputs["prod"].has(
        "Deployment", "pgbouncer"
    )


@pytest.mark.parametrize("env", ["dev", "staging"])
def test_postgres_statefulset(outputs: dict[str, Output], env: str) -> None:
    out = outputs[env]
    pg = out.cfg.postgres
    sts = out.get("StatefulSet", "postgres")
    spec = pod_spec(sts)
    c = spec["containers"][0]
    assert c["image"] == pg.image.ref and "@sha256:" in c["image"]
    assert c["image"].startswith("docker.io/library/postgres:15.")
    env_vars = _env(c)
    data_mount = next(m["mountPath"] for m in c["volumeMounts"] if m["name"] == "data")
    assert env_vars["PGDATA"]["value"].startswith(data_mount + "/"), "PGDATA must be a subdirectory"
    for var, key in (
        ("POSTGRES_USER", "postgres-user"),
        ("POSTGRES_PASSWORD", "postgres-password"),
        ("POSTGRES_DB", "postgres-database"),
    ):
        assert env_vars[var]["valueFrom"]["secretKeyRef"] == {"name": out.cfg.secrets.name, "key": key}
    for probe in ("readinessProbe", "livenessProbe"):
        assert "pg_isready" in " ".join(c[probe]["exec"]["command"]), probe
    assert spec["securityContext"]["runAsUser"] == pg.uid and spec["securityContext"]["fsGroup"] == pg.uid
    assert spec["terminationGracePeriodSeconds"] >= 60
    assert "pg_ctl stop" in " ".join(c["lifecycle"]["preStop"]["exec"]["command"])
    (claim,) = sts["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["resources"]["requests"]["storage"] == pg.storage_size
    assert claim["spec"].get("storageClassName") == pg.storage_class
    assert out.get("Service", "postgres")["spec"]["ports"][0]["port"] == 5432
    headless = out.get("Service", "postgres-headless")
    assert headless["spec"]["clusterIP"] == "None" and sts["spec"]["serviceName"] == "postgres-headless"


def test_redis_config_reaches_the_container(out: Output) -> None:
    redis = out.cfg.redis
    conf = out.get("ConfigMap", "redis-config")["data"]["redis.conf"].splitlines()
    for line in ("appendonly yes", "appendfsync everysec", "maxmemory-policy noeviction"):
        assert line in conf, f"{out.cfg.name}: redis.conf lacks {line!r}"
    (maxmemory,) = [ln for ln in conf if ln.startswith("maxmemory ")]
    mb = int(maxmemory.split()[1].removesuffix("mb"))
    assert 0 < mb * 1024 * 1024 < (memory_bytes(redis.resources.memory_limit) or 0)
    sts = out.get("StatefulSet", "redis")
    spec = pod_spec(sts)
    c = spec["containers"][0]
    assert c["args"][:2] == ["redis-server", "/etc/redis/redis.conf"]
    mount = next(m for m in c["volumeMounts"] if m["name"] == "config")
    assert mount["mountPath"] == "/etc/redis"
    volume = next(v for v in spec["volumes"] if v["name"] == "config")
    assert volume["configMap"]["name"] == "redis-config"
    (claim,) = sts["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["resources"]["requests"]["storage"] == redis.storage_size
    assert "@sha256:" in c["image"] and ":7." in c["image"]


def test_redis_auth_is_on_and_probes_authenticate(out: Output) -> None:
    c = _container(out, "StatefulSet", "redis")
    env_vars = _env(c)
    ref = {"name": out.cfg.secrets.name, "key": "redis-password"}
    assert c["args"][2:] == ["--requirepass", "$(REDIS_PASSWORD)"]
    assert env_vars["REDIS_PASSWORD"]["valueFrom"]["secretKeyRef"] == ref
    assert env_vars["REDISCLI_AUTH"]["valueFrom"]["secretKeyRef"] == ref, "redis-cli reads REDISCLI_AUTH"
    for probe in ("readinessProbe", "livenessProbe"):
        command = " ".join(c[probe]["exec"]["command"])
        assert "redis-cli" in command and "ping" in command and "PONG" in command, probe
    app = _env(_container(out, "Deployment", "vibeyard"))
    assert app["REDIS_URL"]["value"] == "redis://:$(REDIS_PASSWORD)@redis:6379/0"


def test_database_url_points_at_pgbouncer_when_enabled(out: Output) -> None:
    app_workloads = [w for w in out.of_kind("Deployment") if w["metadata"]["name"].startswith("vibeyard")]
    for wl in app_workloads:
        env_vars = _env(pod_spec(wl)["containers"][0])
        url = env_vars["DATABASE_URL"]
        if out.cfg.pgbouncer.enabled:
            assert "@pgbouncer:5432/" in url["value"], wl["metadata"]["name"]
            assert env_vars["DATABASE_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == "postgres-password"
        else:
            assert url["valueFrom"]["secretKeyRef"]["key"] == "database-url", wl["metadata"]["name"]
    job = next(iter(out.of_kind("Job")))
    job_url = _env(pod_spec(job)["containers"][0])["DATABASE_URL"]
    assert job_url["valueFrom"]["secretKeyRef"]["key"] == "database-url", "migrations bypass PgBouncer"


def test_pgbouncer_pools_transactions(outputs: dict[str, Output]) -> None:
    for env in ("staging", "prod"):
        out = outputs[env]
        c = _container(out, "Deployment", "pgbouncer")
        env_vars = _env(c)
        assert env_vars["POOL_MODE"]["value"] == "transaction"
        assert env_vars["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["key"] == "database-url"
        assert c["readinessProbe"]["tcpSocket"]["port"] == "postgres" and "livenessProbe" in c
        assert c["resources"]["limits"]["memory"]
        assert out.get("PodDisruptionBudget", "pgbouncer")["spec"]["maxUnavailable"] >= 1
        assert out.get("Service", "pgbouncer")["spec"]["ports"][0]["port"] == out.cfg.pgbouncer.port


def test_read_replica_url_in_prod(outputs: dict[str, Output]) -> None:
    env_vars = _env(_container(outputs["prod"], "Deployment", "vibeyard"))
    assert env_vars["DATABASE_READ_URL"]["valueFrom"]["secretKeyRef"]["key"] == "database-read-url"
    assert "DATABASE_READ_URL" not in _env(_container(outputs["staging"], "Deployment", "vibeyard"))


def test_no_plain_secret_data_anywhere(out: Output) -> None:
    for obj in out.of_kind("Secret"):
        assert not obj.get("data") and not obj.get("stringData"), (
            f"{out.cfg.name}: Secret/{obj['metadata']['name']}"
        )


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_sealed_secret_holds_every_required_key(outputs: dict[str, Output], env: str) -> None:
    out = outputs[env]
    (sealed,) = out.of_kind("SealedSecret")
    assert sealed["apiVersion"] == "bitnami.com/v1alpha1"
    assert sealed["metadata"]["name"] == out.cfg.secrets.name
    assert sealed["metadata"]["namespace"] == out.cfg.namespace
    annotations = sealed["metadata"].get("annotations", {})
    assert not any("cluster-wide" in k or "namespace-wide" in k for k in annotations), "strict scope"
    assert set(Topology.of(out.cfg).secret_keys) <= set(sealed["spec"]["encryptedData"])


def test_dev_uses_an_existing_secret(outputs: dict[str, Output]) -> None:
    dev = outputs["dev"]
    assert dev.cfg.secrets.provider == "existing"
    assert not [o for o in dev.objects if o["kind"] in ("Secret", "SealedSecret", "ExternalSecret")]


def test_every_secret_reference_is_provided(out: Output) -> None:
    """Whatever the provider, workloads only ask the one Secret for keys it holds."""
    allowed = set(Topology.of(out.cfg).secret_keys)
    for wl in out.workloads():
        for c in pod_spec(wl)["containers"]:
            for var in c.get("env", []):
                ref = var.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    where = f"{out.cfg.name}: {wl['metadata']['name']} {var['name']}"
                    assert ref["name"] == out.cfg.secrets.name and ref["key"] in allowed, where


@pytest.fixture(scope="module")
def external_staging(configs: dict[str, EnvConfig]) -> Output:
    cfg = replace(
        configs["staging"], secrets=SecretsConfig(provider="external", external_store="vault-backend")
    )
    chart = VibeyardChart(cdk8s.App(), "external", cfg=cfg)
    return Output(cfg, render(chart.to_json()))


def test_external_secret_provider(external_staging: Output) -> None:
    out = external_staging
    assert not out.of_kind("SealedSecret")
    (es,) = out.of_kind("ExternalSecret")
    assert es["apiVersion"] == "external-secrets.io/v1"
    assert es["spec"]["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": "vault-backend"}
    assert es["spec"]["target"]["name"] == "vibeyard-secrets"
    keys = [d["secretKey"] for d in es["spec"]["data"]]
    assert keys == list(Topology.of(out.cfg).secret_keys)
    assert all(
        d["remoteRef"] == {"key": "vibeyard/staging", "property": d["secretKey"]} for d in es["spec"]["data"]
    )
