"""The harness on what dist does not render yet, and on its own translation rules.

Synthetic objects are added to a rendered environment (a cache Redis, exporter sidecars,
a PgBouncer configured by a ConfigMap ini and a Secret userlist, a KEDA trigger on the
active list), so those code paths are proven before the constructs produce them.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.real.harness import exporters, podshim, promtool
from tests.real.harness.pgbouncer import PgBouncer
from tests.real.harness.pods import Cluster, expand
from tests.real.harness.procs import HarnessError
from tests.real.harness.resp import Resp
from tests.real.harness.secrets import TestSecret
from tests.real.harness.servers import Postgres, signal_table
from tests.real.test_postgres_pgbouncer import connect, query_through
from tests.real.test_redis import check_keda_keys, overfill, redises, write
from tests.support import Manifest, Output
from vibeyard.config import Topology

_ids = itertools.count()


def synthetic(out: Output, *objects: Manifest, drop: tuple[str, ...] = ()) -> Output:
    """``out`` plus ``objects`` (replacing same kind/name), minus the named files."""
    keys = {(o["kind"], o["metadata"]["name"]) for o in objects}
    files = {}
    for name, text in out.files.items():
        obj = yaml.safe_load(text)
        if name not in drop and (obj["kind"], obj["metadata"]["name"]) not in keys:
            files[name] = text
    for i, obj in enumerate(objects):
        files[f"99-synthetic-{i}.yaml"] = yaml.safe_dump(obj)
    return Output(out.cfg, files)


@pytest.fixture
def make(real_root: Path) -> Iterator[Any]:
    made: list[Cluster] = []

    def build(out: Output) -> Cluster:
        c = Cluster(
            out, real_root / f"synthetic-{next(_ids)}", TestSecret(Topology.of(out.cfg), out.cfg.secrets.name)
        )
        made.append(c)
        return c

    yield build
    for c in made:
        c.stop()


def sidecar(image: str, port: int, env: list[Manifest]) -> Manifest:
    return {
        "name": "exporter",
        "image": image,
        "ports": [{"containerPort": port, "name": "metrics"}],
        "env": env,
    }


def secret_env(name: str, key: str) -> Manifest:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": "vibeyard-secrets", "key": key}}}


def cache_redis(out: Output) -> list[Manifest]:
    """A second Redis for caching, as the constructs will render it, with its exporter."""
    redis = copy.deepcopy(out.get("StatefulSet", "redis"))
    redis["metadata"]["name"] = "redis-cache"
    tpl = redis["spec"]["template"]
    for labels in (redis["spec"]["selector"]["matchLabels"], tpl["metadata"]["labels"]):
        labels["app.kubernetes.io/name"] = "redis-cache"
    redis["spec"].pop("volumeClaimTemplates")
    tpl["spec"]["volumes"] = [
        {"name": "config", "configMap": {"name": "redis-cache-config"}},
        {"name": "data", "emptyDir": {}},
        {"name": "tmp", "emptyDir": {}},
    ]
    env = [
        secret_env("REDIS_PASSWORD", "redis-password"),
        {"name": "REDIS_ADDR", "value": "redis://localhost:6379"},
    ]
    tpl["spec"]["containers"].append(sidecar("docker.io/oliver006/redis_exporter:v1.62.0", 9121, env))
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "redis-cache-config"},
        "data": {
            "redis.conf": 'port 6379\nmaxmemory 64mb\nmaxmemory-policy allkeys-lru\nappendonly no\nsave ""\n'
        },
    }
    return [redis, config]


def test_a_separate_cache_redis_and_its_exporter_sidecar(make: Any, outputs: dict[str, Output]) -> None:
    c = make(synthetic(outputs["staging"], *cache_redis(outputs["staging"])))
    found = redises(c)
    assert set(found) == {"redis", "redis-cache"}
    cache = found["redis-cache"].start()
    failed = {k: v for k, v in cache.probes().items() if not v[0]}
    assert not failed, failed
    with Resp(cache.port, cache.password) as r:
        overfill(r)
        assert write(r, 16) is None
        assert int(r.info("stats")["evicted_keys"]) > 0
    exporter = exporters.start_sidecar(cache.pod)
    text = exporter.scrape()
    assert "redis_up 1" in text and "redis_evicted_keys_total" in text, text[:300]


def test_a_keda_trigger_on_the_active_list_is_counted(make: Any, outputs: dict[str, Output]) -> None:
    so = copy.deepcopy(outputs["staging"].get("ScaledObject", "vibeyard-worker-default"))
    active = copy.deepcopy(so["spec"]["triggers"][0])
    active["name"], active["metadata"]["listName"] = "bull-default-active", "bull:default:active"
    so["spec"]["triggers"].append(active)
    assert check_keda_keys(make(synthetic(outputs["staging"], so))) == 2


def pgbouncer_from_configmap(out: Output, extra_ini: str = "") -> list[Manifest]:
    """PgBouncer as the constructs will render it: pgbouncer.ini in a ConfigMap, the userlist
    from the Secret, and spreaker's exporter as a sidecar."""
    ini = (
        "[databases]\nvibeyard = host=postgres port=5432 dbname=vibeyard\n[pgbouncer]\n"
        "listen_addr = 0.0.0.0\nlisten_port = 5432\nunix_socket_dir =\nauth_type = scram-sha-256\n"
        "auth_file = /etc/pgbouncer-auth/userlist.txt\npool_mode = transaction\nmax_client_conn = 500\n"
        "default_pool_size = 20\nignore_startup_parameters = extra_float_digits,options\n"
        "server_tls_sslmode = disable\nstats_users = vibeyard\n" + extra_ini
    )
    deploy = copy.deepcopy(out.get("Deployment", "pgbouncer"))
    spec = deploy["spec"]["template"]["spec"]
    main = spec["containers"][0]
    main.pop("env")
    main["args"] = ["/usr/bin/pgbouncer", "/etc/pgbouncer/pgbouncer.ini"]
    main["volumeMounts"] = [
        {"name": "config", "mountPath": "/etc/pgbouncer"},
        {"name": "auth", "mountPath": "/etc/pgbouncer-auth"},
        {"name": "tmp", "mountPath": "/tmp"},
    ]
    spec["volumes"] = [
        {"name": "config", "configMap": {"name": "pgbouncer-config"}},
        {
            "name": "auth",
            "secret": {
                "secretName": "vibeyard-secrets",
                "items": [{"key": "userlist.txt", "path": "userlist.txt"}],
            },
        },
        {"name": "tmp", "emptyDir": {}},
    ]
    env = [
        {"name": "PGBOUNCER_EXPORTER_HOST", "value": "0.0.0.0"},
        secret_env("PGBOUNCER_USER", "postgres-user"),
        secret_env("PGBOUNCER_PASS", "postgres-password"),
        {"name": "PGBOUNCER_HOST", "value": "127.0.0.1"},
        {"name": "PGBOUNCER_PORT", "value": "5432"},
    ]
    spec["containers"].append(sidecar("docker.io/spreaker/prometheus-pgbouncer-exporter:2.1.2", 9127, env))
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "pgbouncer-config"},
        "data": {"pgbouncer.ini": ini},
    }
    return [deploy, config]


def postgres_with_exporter(out: Output) -> Manifest:
    pg = copy.deepcopy(out.get("StatefulSet", "postgres"))
    env = [
        secret_env("POSTGRES_USER", "postgres-user"),
        secret_env("POSTGRES_PASSWORD", "postgres-password"),
        secret_env("POSTGRES_DB", "postgres-database"),
        {
            "name": "DATA_SOURCE_NAME",
            "value": "postgresql://$(POSTGRES_USER):$(POSTGRES_PASSWORD)@localhost:5432/$(POSTGRES_DB)?sslmode=disable",
        },
    ]
    pg["spec"]["template"]["spec"]["containers"].append(
        sidecar("quay.io/prometheuscommunity/postgres-exporter:v0.15.0", 9187, env)
    )
    return pg


def test_pgbouncer_from_a_configmap_ini_with_exporter_sidecars(make: Any, outputs: dict[str, Output]) -> None:
    out = outputs["staging"]
    c = make(synthetic(out, postgres_with_exporter(out), *pgbouncer_from_configmap(out)))
    db = Postgres(c.pod(c.out.get("StatefulSet", "postgres"))).start()
    pg_exporter = exporters.start_sidecar(db.pod)
    assert "pg_up 1" in pg_exporter.scrape()
    bouncer = PgBouncer(c.pod(c.out.get("Deployment", "pgbouncer"))).start()
    assert bouncer.rendered_ini()[1] is not None, "the ConfigMap's ini was not the one loaded"
    failed = {k: v for k, v in bouncer.probes().items() if not v[0]}
    assert not failed, failed
    secret = c.secret.values
    url = f"postgresql://{secret['postgres-user']}:{secret['postgres-password']}@127.0.0.1:{bouncer.port}/vibeyard"
    with connect(url + "?pgbouncer=true") as conn:
        query_through(conn)
    text = exporters.start_sidecar(bouncer.pod).scrape()
    assert "pgbouncer_up 1.0" in text and "pgbouncer_pools_client_waiting_connections" in text, text[-400:]


def test_an_ini_key_pgbouncer_118_does_not_know_fails_to_load(make: Any, outputs: dict[str, Output]) -> None:
    out = outputs["staging"]
    c = make(synthetic(out, *pgbouncer_from_configmap(out, "max_prepared_statements = 100\n")))
    c.pod(c.out.get("StatefulSet", "postgres"))  # laid out, not started: the ini fails before any login
    with pytest.raises(HarnessError, match="unknown parameter"):
        PgBouncer(c.pod(c.out.get("Deployment", "pgbouncer"))).start()


def test_an_exporter_image_without_a_local_build_is_named(make: Any, outputs: dict[str, Output]) -> None:
    objs = cache_redis(outputs["staging"])
    objs[0]["spec"]["template"]["spec"]["containers"][-1]["image"] = "example.org/some/exporter:1"
    c = make(synthetic(outputs["staging"], *objs))
    with pytest.raises(HarnessError, match=r"no local build of example\.org/some/exporter:1"):
        exporters.start_sidecar(c.pod(objs[0]))


# --- translation rules, no software started ------------------------------------------------------


@pytest.mark.no_binaries
def test_var_expansion_follows_the_kubelet() -> None:
    env = {"A": "1", "B": "x"}
    assert expand("$(A)-$(B)", env) == "1-x"
    assert expand("$$(A)", env) == "$(A)"  # escaped
    assert expand("$(MISSING)", env) == "$(MISSING)"  # unknown names stay


@pytest.mark.no_binaries
def test_probe_shim_maps_the_pods_ports_and_refuses_the_rest() -> None:
    cfg: dict[str, Any] = {"ports": {"6379": 41000}, "services": {"postgres:5432": "42000"}, "mounts": {}}
    assert podshim._net_tool(cfg, "redis-cli", ["ping"])[:4] == ["-h", "127.0.0.1", "-p", "41000"]
    assert podshim._net_tool(cfg, "redis-cli", ["-p", "6380", "ping"])[3] == podshim.CLOSED_PORT
    assert podshim._net_tool(cfg, "pg_isready", ["-h", "postgres", "-p", "5432"])[3] == "42000"


@pytest.mark.no_binaries
def test_pgbouncer_signals_follow_the_image_version() -> None:
    assert signal_table("pgbouncer", "1.25.2") == {"TERM": "WAIT_FOR_CLIENTS", "QUIT": "TERM"}
    assert signal_table("pgbouncer", "1.22.1") == {}
    assert signal_table("redis-server", "7.4.11") == {}


@pytest.mark.no_binaries
def test_promtool_groups_only_examples_that_cannot_disturb_each_other() -> None:
    groups: list[dict[str, Any]] = []
    promtool._pack(groups, {'a{x="1"}': "1x5"}, {"alertname": "A"})
    promtool._pack(groups, {'a{x="1"}': "9x5"}, {"alertname": "B"})  # same metric, other values
    promtool._pack(groups, {'b{x="1"}': "1x5"}, {"alertname": "C"})  # another metric: shares
    assert [[c["alertname"] for c in g["checks"]] for g in groups] == [["A", "C"], ["B"]]
