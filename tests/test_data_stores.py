"""PostgreSQL, the queue and cache Redis, PgBouncer and the Secret, as each environment configures them.

The real servers load these files in tests/real/; here the rendered objects are
checked for what a reviewer would look for on a real cluster.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests import variants as variant_configs
from tests.support import Output, pod_spec
from vibeyard import checksums
from vibeyard.config import Topology
from vibeyard.config.quantity import memory_bytes


def _env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env", [])}


def _container(out: Output, kind: str, name: str, which: str | None = None) -> dict[str, Any]:
    containers = pod_spec(out.get(kind, name))["containers"]
    found: dict[str, Any] = next(c for c in containers if c["name"] == (which or name))
    return found


def _conf(out: Output, config_map: str, key: str) -> list[str]:
    text: str = out.get("ConfigMap", config_map)["data"][key]
    return text.splitlines()


def test_modes_per_environment(outputs: dict[str, Output]) -> None:
    assert outputs["dev"].has("StatefulSet", "postgres") and outputs["staging"].has("StatefulSet", "postgres")
    assert not outputs["prod"].has("StatefulSet", "postgres"), "prod uses a managed database"
    assert not outputs["prod"].has("Service", "postgres")
    for env in ("dev", "staging", "prod"):
        assert outputs[env].has("StatefulSet", "redis") and outputs[env].has("Deployment", "redis-cache")
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
    c = _container(out, "StatefulSet", "postgres")
    assert c["image"] == pg.image.ref and "@sha256:" in c["image"]
    env_vars = _env(c)
    data_mount = next(m["mountPath"] for m in c["volumeMounts"] if m["name"] == "data")
    assert env_vars["PGDATA"]["value"].startswith(data_mount + "/"), "PGDATA must be a subdirectory"
    assert env_vars["POSTGRES_USER"]["value"] == pg.user and env_vars["POSTGRES_DB"]["value"] == pg.database
    assert env_vars["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": out.cfg.secrets.name,
        "key": "postgres-password",
    }
    for probe in ("readinessProbe", "livenessProbe"):
        assert "pg_isready" in " ".join(c[probe]["exec"]["command"]), probe
    assert spec["securityContext"]["runAsUser"] == pg.uid and spec["securityContext"]["fsGroup"] == pg.uid
    (claim,) = sts["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["resources"]["requests"]["storage"] == pg.storage_size
    assert claim["spec"].get("storageClassName") == pg.storage_class
    assert out.get("Service", "postgres")["spec"]["ports"][0]["port"] == pg.port
    headless = out.get("Service", "postgres-headless")
    assert headless["spec"]["clusterIP"] == "None" and sts["spec"]["serviceName"] == "postgres-headless"


@pytest.mark.parametrize("env", ["dev", "staging"])
def test_postgres_has_real_shared_memory_and_stops_within_its_grace(
    outputs: dict[str, Output], env: str
) -> None:
    """/dev/shm is 64Mi by default; pg_ctl's fast shutdown must end before the kubelet's SIGKILL."""
    out = outputs[env]
    spec = pod_spec(out.get("StatefulSet", "postgres"))
    c = _container(out, "StatefulSet", "postgres")
    shm = next(v for v in spec["volumes"] if v["name"] == "shm")
    assert shm["emptyDir"] == {"medium": "Memory", "sizeLimit": out.cfg.postgres.shm_size}
    assert {"mountPath": "/dev/shm", "name": "shm"} in c["volumeMounts"]
    stop = " ".join(c["lifecycle"]["preStop"]["exec"]["command"])
    assert "pg_ctl stop" in stop and "-m fast" in stop
    timeout = int(stop.split("-t ")[1].split()[0].strip("'\""))
    assert timeout + 10 <= spec["terminationGracePeriodSeconds"]


def test_queue_redis_persists_on_its_volume_and_keeps_fork_headroom(out: Output) -> None:
    """Its policy and append-only settings are pinned in tests/design_values.py."""
    redis = out.cfg.redis
    conf = _conf(out, "redis-config", "redis.conf")
    for line in ('save ""', "dir /data"):
        assert line in conf, f"{out.cfg.name}: redis.conf lacks {line!r}"
    (maxmemory,) = [ln for ln in conf if ln.startswith("maxmemory ")]
    mb = int(maxmemory.split()[1].removesuffix("mb"))
    limit = memory_bytes(redis.resources.memory_limit) or 0
    # An AOF rewrite forks: the copy-on-write pages need room beside the dataset.
    assert 0 < mb * 1024 * 1024 <= limit * 0.6
    sts = out.get("StatefulSet", "redis")
    spec = pod_spec(sts)
    c = _container(out, "StatefulSet", "redis")
    assert c["args"][:2] == ["redis-server", "/etc/redis/redis.conf"]
    assert next(v for v in spec["volumes"] if v["name"] == "config")["configMap"]["name"] == "redis-config"
    (claim,) = sts["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["resources"]["requests"]["storage"] == redis.storage_size


def test_cache_redis_is_separate_evicts_and_persists_nothing(out: Output) -> None:
    conf = _conf(out, "redis-cache-config", "redis.conf")
    for line in (f"maxmemory-policy {out.cfg.cache.maxmemory_policy}", "appendonly no", 'save ""'):
        assert line in conf, f"{out.cfg.name}: the cache's redis.conf lacks {line!r}"
    spec = pod_spec(out.get("Deployment", "redis-cache"))
    assert all("persistentVolumeClaim" not in v for v in spec["volumes"])
    web = _env(_container(out, "Deployment", "vibeyard"))
    # No password inside a URL: each has its own variable beside it (docs/app-contract.yaml).
    assert web["REDIS_URL"]["value"] == "redis://redis:6379/0"
    assert web["REDIS_CACHE_URL"]["value"] == "redis://redis-cache:6379/0"
    assert web["REDIS_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == "redis-password"
    assert web["REDIS_CACHE_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == "redis-cache-password"


def test_redis_auth_is_on_from_a_file_and_probes_authenticate(out: Output) -> None:
    """Each Redis has its own password, read from an include the init container writes from
    the Secret: never on a command line, where ``ps`` and the pod spec would show it."""
    for kind, name, key in (
        ("StatefulSet", "redis", "redis-password"),
        ("Deployment", "redis-cache", "redis-cache-password"),
    ):
        wl = out.get(kind, name)
        c = _container(out, kind, name)
        ref = {"name": out.cfg.secrets.name, "key": key}
        assert c["args"] == ["redis-server", "/etc/redis/redis.conf"], f"{name}: nothing but the config file"
        assert "include /etc/redis/auth/requirepass.conf" in _conf(out, f"{name}-config", "redis.conf")
        (init,) = pod_spec(wl)["initContainers"]
        assert _env(init)["REDIS_PASSWORD"]["valueFrom"]["secretKeyRef"] == ref
        assert (
            "requirepass" in init["command"][2] and "/etc/redis/auth/requirepass.conf" in init["command"][2]
        )
        auth = next(v for v in pod_spec(wl)["volumes"] if v["name"] == "auth")
        assert auth["emptyDir"]["medium"] == "Memory", f"{name}: the password file must not touch a disk"
        assert _env(c)["REDISCLI_AUTH"]["valueFrom"]["secretKeyRef"] == ref, "redis-cli reads REDISCLI_AUTH"
        assert "REDIS_PASSWORD" not in _env(c)
        for probe in ("readinessProbe", "livenessProbe"):
            command = " ".join(c[probe]["exec"]["command"])
            assert "redis-cli" in command and "PONG" in command and "-p 6379" in command, probe


def test_database_url_goes_through_pgbouncer_and_the_migration_does_not(out: Output) -> None:
    pg = out.cfg.postgres
    for wl in out.of_kind("Deployment"):
        if not wl["metadata"]["name"].startswith("vibeyard"):
            continue
        url = _env(pod_spec(wl)["containers"][0])["DATABASE_URL"]
        if out.cfg.pgbouncer.enabled:
            assert url["value"] == (
                f"postgresql://{pg.user}@pgbouncer:{out.cfg.pgbouncer.port}/{pg.database}?pgbouncer=true"
            ), wl["metadata"]["name"]
        else:
            assert url["value"].endswith(f"@postgres:{pg.port}/{pg.database}"), wl["metadata"]["name"]
    (job,) = out.of_kind("Job")
    job_env = _env(pod_spec(job)["containers"][0])
    if pg.mode == "managed":
        assert job_env["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["key"] == "database-url"
    else:
        assert "@postgres:" in job_env["DATABASE_URL"]["value"], "migrations bypass PgBouncer"


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_pgbouncer_ini_is_rendered_and_the_entrypoint_bypassed(outputs: dict[str, Output], env: str) -> None:
    out = outputs[env]
    pgb, pg = out.cfg.pgbouncer, out.cfg.postgres
    ini = _conf(out, "pgbouncer-config", "pgbouncer.ini")
    host = pg.host if pg.mode == "managed" else "postgres"
    # The database name is the config's: never parsed out of a URL (where '?sslmode=' would join it).
    assert f"{pg.database} = host={host} port={pg.port} dbname={pg.database}" in ini
    for line in (
        f"pool_mode = {pgb.pool_mode}",
        f"server_tls_sslmode = {pgb.server_tls_sslmode}",
        "auth_type = scram-sha-256",
        "auth_file = /etc/pgbouncer/auth/userlist.txt",
        f"stats_users = {pg.user}",
    ):
        assert line in ini, line
    c = _container(out, "Deployment", "pgbouncer")
    assert c["command"] == ["/usr/bin/pgbouncer", "/etc/pgbouncer/config/pgbouncer.ini"]
    assert "env" not in c, "credentials reach PgBouncer through the userlist only"
    (init,) = pod_spec(out.get("Deployment", "pgbouncer"))["initContainers"]
    init_env = _env(init)
    assert init_env["DB_USER"]["value"] == pg.user
    assert init_env["DB_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == "postgres-password"
    assert "userlist.txt" in init["command"][2]
    auth = next(v for v in pod_spec(out.get("Deployment", "pgbouncer"))["volumes"] if v["name"] == "auth")
    assert auth["emptyDir"]["medium"] == "Memory", "the password never touches a disk"


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_pgbouncer_shuts_down_safely_within_its_grace(outputs: dict[str, Output], env: str) -> None:
    """SIGTERM makes PgBouncer 1.23+ wait for every (pooled, never leaving) client: the
    preStop hook sends SIGINT instead and waits for the exit."""
    out = outputs[env]
    c = _container(out, "Deployment", "pgbouncer")
    stop = c["lifecycle"]["preStop"]["exec"]["command"][2]
    assert "kill -INT 1" in stop and "kill -0 1" in stop, "PgBouncer is the container's PID 1"
    # A pidfile on the pod's /tmp outlives a container restart and wedges the next start.
    assert "pidfile" not in _conf(out, "pgbouncer-config", "pgbouncer.ini")
    spec = pod_spec(out.get("Deployment", "pgbouncer"))
    assert spec["terminationGracePeriodSeconds"] == out.cfg.pgbouncer.termination_grace_seconds
    assert out.get("PodDisruptionBudget", "pgbouncer")["spec"]["maxUnavailable"] >= 1


def test_read_replica_url_in_prod(outputs: dict[str, Output]) -> None:
    env_vars = _env(_container(outputs["prod"], "Deployment", "vibeyard"))
    assert env_vars["DATABASE_READ_URL"]["valueFrom"]["secretKeyRef"]["key"] == "database-read-url"
    assert "DATABASE_READ_URL" not in _env(_container(outputs["staging"], "Deployment", "vibeyard"))


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_every_store_we_run_has_an_exporter_sidecar_where_monitored(
    outputs: dict[str, Output], env: str
) -> None:
    out = outputs[env]
    topo = Topology.of(out.cfg)
    stores = {
        ("StatefulSet", "redis"): "oliver006/redis_exporter",
        ("Deployment", "redis-cache"): "oliver006/redis_exporter",
        ("StatefulSet", "postgres"): "postgres-exporter",
        ("Deployment", "pgbouncer"): "pgbouncer-exporter",
    }
    present = [k for k in stores if out.has(*k)]
    assert len(present) == 4 if topo.postgres else 3
    for kind, name in present:
        exporter = _container(out, kind, name, "exporter")
        assert stores[(kind, name)] in exporter["image"] and "@sha256:" in exporter["image"], name
        assert exporter["securityContext"]["runAsUser"] >= 10000, name
        (port,) = exporter["ports"]
        assert port["name"] == "metrics"
        ports = {p["name"]: p["port"] for p in out.get("Service", name)["spec"]["ports"]}
        assert ports["metrics"] == port["containerPort"], name
        if out.has("Service", f"{name}-headless"):
            assert "metrics" not in {
                p["name"] for p in out.get("Service", f"{name}-headless")["spec"]["ports"]
            }


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


# Which workloads read each Secret key: the app's contract and each store's own credential,
# written down here rather than derived from the pods, so a wrong wiring fails.
READERS: dict[str, set[str]] = {
    "nextauth-secret": {"web"},
    "github-client-secret": {"web"},
    "openai-api-key": {"web", "workers"},
    "sentry-dsn": {"web", "workers"},
    "database-read-url": {"web", "workers"},
    "database-url": set(),  # only the migration Job: a direct URL to a managed database
    "postgres-password": {"web", "workers", "postgres", "pgbouncer"},
    "redis-password": {"web", "workers", "redis"},
    "redis-cache-password": {"web", "workers", "redis-cache"},
}


def _role(name: str) -> str:
    return "web" if name == "vibeyard" else "workers" if name.startswith("vibeyard-worker-") else name


def _secret_sums(out: Output, sealed: dict[str, str]) -> dict[str, str | None]:
    objects = copy.deepcopy(out.objects)
    for obj in objects:
        if obj["kind"] in ("Deployment", "StatefulSet"):
            obj["spec"]["template"]["metadata"].get("annotations", {}).pop("checksum/secret", None)
    checksums.stamp(objects, out.cfg.secrets.name, sealed)
    return {
        o["metadata"]["name"]: o["spec"]["template"]["metadata"].get("annotations", {}).get("checksum/secret")
        for o in objects
        if o["kind"] in ("Deployment", "StatefulSet")
    }


def test_rotating_one_key_rolls_exactly_the_workloads_that_read_it(every: Output) -> None:
    """Rotating openai-api-key must not restart the queue Redis (enqueues fail while it
    reloads its AOF), staging's PostgreSQL, or empty the cache."""
    if every.cfg.secrets.provider != "sealed":
        return
    sealed = variant_configs.sealed_data(every.cfg)
    before = _secret_sums(every, sealed)
    assert before == {
        o["metadata"]["name"]: o["spec"]["template"]["metadata"].get("annotations", {}).get("checksum/secret")
        for o in every.objects
        if o["kind"] in ("Deployment", "StatefulSet")
    }, f"{every.cfg.name}: the rendered checksums are not the ones the sealed data gives"
    assert set(sealed) <= set(READERS), f"a Secret key with no expected readers: {set(sealed) - set(READERS)}"
    for key in sealed:
        after = _secret_sums(every, {**sealed, key: sealed[key] + "-rotated"})
        rolled = {_role(n) for n in before if before[n] != after[n]}
        present = {_role(n) for n in before}
        assert rolled == READERS[key] & present, f"{every.cfg.name}: rotating {key} rolls {sorted(rolled)}"


def test_dev_uses_an_existing_secret(outputs: dict[str, Output]) -> None:
    dev = outputs["dev"]
    assert dev.cfg.secrets.provider == "existing"
    assert not [o for o in dev.objects if o["kind"] in ("Secret", "SealedSecret", "ExternalSecret")]


def test_every_secret_reference_is_provided(out: Output) -> None:
    """Whatever the provider, workloads only ask the one Secret for keys it holds."""
    allowed = set(Topology.of(out.cfg).secret_keys)
    for wl in out.workloads():
        spec = pod_spec(wl)
        for c in [*spec["containers"], *spec.get("initContainers", [])]:
            for var in c.get("env", []):
                ref = var.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    where = f"{out.cfg.name}: {wl['metadata']['name']} {var['name']}"
                    assert ref["name"] == out.cfg.secrets.name and ref["key"] in allowed, where
