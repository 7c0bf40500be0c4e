"""Crashes and restarts of the data tier, with the real software and the rendered config.

A container killed inside its pod (SIGKILL: a liveness kill, the OOM killer) is
``Server.kill()``: every process in it dies at once. ``start()`` again on the same pod
is its restart: the pod's volumes, emptyDirs included, are still there, and no init
container runs again. Where a server's own PID matters (PgBouncer's pidfile), it runs as
PID 1 of a PID namespace of its own, as in the pod.

Each check runs once per distinct rendered config of the servers it restarts
(``distinct``): environments that render the same config share one run.

Planted defects, each of which must go red: the same run on one rendered object changed
on purpose (a pidfile on /tmp, the queue Redis without AOF, a cache that saves), in the
first environment that renders the object, and the migration's command run without its
launcher.
"""

from __future__ import annotations

import os
import re
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote, urlsplit

import pytest

from tests.real.conftest import ClusterFactory, OutputClusterFactory
from tests.real.harness import bullmq, discover, distinct, migration, planted
from tests.real.harness.pgbouncer import PgBouncer
from tests.real.harness.pods import Cluster
from tests.real.harness.procs import HarnessError
from tests.real.harness.resp import Resp
from tests.real.harness.servers import Postgres, Redis, localize_url
from tests.real.test_postgres_pgbouncer import connect, query_through
from tests.real.test_redis import app_redis_url, queue_redis, queues_of, redises
from tests.support import ROOT, Output
from vibeyard.config import Topology

CONTRACT_MD = ROOT / "docs" / "app-contract.md"
# What each check runs, for grouping the environments (see harness/distinct.py).
PGBOUNCER = distinct.servers("pgbouncer", "postgres", app_env=("DATABASE_URL", "DATABASE_PASSWORD"))
QUEUE_REDIS = distinct.servers("redis-server", app_env=("REDIS_URL", "REDIS_PASSWORD"))
CACHE_REDIS = distinct.servers("redis-server", app_env=("REDIS_CACHE_URL", "REDIS_CACHE_PASSWORD"))
DATABASE = distinct.servers("postgres", jobs=True)


def pgbouncer(c: Cluster) -> PgBouncer | None:
    """The environment's PgBouncer, not started, as PID 1 of its own PID namespace."""
    found = discover.workloads(c, "pgbouncer")
    if not found:
        return None
    bouncer = PgBouncer(c.pod(found[0]))
    bouncer.pid_namespace = True
    return bouncer


def app_url_through(c: Cluster, bouncer: PgBouncer) -> str:
    url = localize_url(c, discover.app_url(c, "DATABASE_URL", component="web"))
    assert urlsplit(url).port == bouncer.port, f"{c.env}: the app's DATABASE_URL bypasses pgbouncer"
    return url


def restart_after_sigkill(bouncer: PgBouncer, url: str) -> None:
    """SIGKILL, the container's restart in the same pod (same /tmp), and an app query."""
    bouncer.kill()
    bouncer.start()
    with connect(url) as conn:
        query_through(conn)


# --- PgBouncer ------------------------------------------------------------------------------------


@pytest.mark.parametrize("envs", distinct.groups(PGBOUNCER))
def test_pgbouncer_serves_again_after_a_sigkill_and_a_restart_with_the_same_tmp(
    envs: tuple[str, ...], outputs: dict[str, Output], cluster: ClusterFactory
) -> None:
    for env in distinct.runs_of(envs, outputs, PGBOUNCER):
        c = cluster(env)
        bouncer = pgbouncer(c)
        if bouncer is None:
            continue
        discover.database(c)
        bouncer.start()
        url = app_url_through(c, bouncer)
        with connect(url) as conn:
            query_through(conn)
        restart_after_sigkill(bouncer, url)
        restart_after_sigkill(bouncer, url)  # and again: nothing piles up on /tmp


def test_planted_a_pidfile_on_tmp_keeps_a_restarted_pgbouncer_down(
    outputs: dict[str, Output], cluster_of: OutputClusterFactory
) -> None:
    """The issue's defect put back: PgBouncer is PID 1 in every run of its container, so
    after a SIGKILL its pidfile on the surviving emptyDir names a live process: itself."""
    found = [
        (out, w)
        for out in outputs.values()
        for kind in discover.WORKLOAD_KINDS
        for w in out.of_kind(kind)
        if discover.runs(w, "pgbouncer")
    ]
    if not found:
        return
    out, workload = found[0]
    env = out.cfg.name
    tmp = [m for c in workload["spec"]["template"]["spec"]["containers"] for m in c.get("volumeMounts", [])]
    assert any(m["mountPath"] == "/tmp" for m in tmp), f"{env}: pgbouncer mounts no /tmp volume"
    c = cluster_of(planted.with_setting(out, workload, "pgbouncer.ini", "pidfile = /tmp/pgbouncer.pid"))
    discover.database(c, start=False)  # laid out only: the restart fails before any login
    bouncer = pgbouncer(c)
    assert bouncer is not None
    bouncer.start()
    with pytest.raises(HarnessError, match="pidfile exists, another instance running"):
        restart_after_sigkill(bouncer, app_url_through(c, bouncer))


@pytest.mark.parametrize("envs", distinct.groups(PGBOUNCER))
def test_pgbouncer_prestop_drains_an_open_transaction_and_waits_for_the_exit(
    envs: tuple[str, ...], outputs: dict[str, Output], cluster: ClusterFactory
) -> None:
    for env in distinct.runs_of(envs, outputs, PGBOUNCER):
        c = cluster(env)
        bouncer = pgbouncer(c)
        if bouncer is not None:
            drains_and_waits(c, bouncer)


def drains_and_waits(c: Cluster, bouncer: PgBouncer) -> None:
    """The preStop hook run as the kubelet runs it, with a transaction in flight."""
    env = c.env
    discover.database(c)
    proc = bouncer.start().proc
    assert proc is not None
    hook = bouncer.c.spec["lifecycle"]["preStop"]["exec"]["command"]
    bouncer.c.shim_dir()  # the pod's view, laid out before the hook runs (its signal log)
    # The client closes first on a failure: the hook would wait for its transaction.
    with ThreadPoolExecutor(1) as pool, connect(app_url_through(c, bouncer)) as client:
        client.execute("BEGIN")
        client.execute("SELECT 1")  # a request's transaction, in flight when the pod stops
        hook_run = pool.submit(bouncer.c.exec_in_pod, hook, float(bouncer.pod.grace))
        deadline = time.monotonic() + 10
        while not bouncer.c.signal_log.read_text().strip() and not hook_run.done():
            assert time.monotonic() < deadline, f"{env}: the preStop sent no signal"
            time.sleep(0.02)
        signals = bouncer.c.signal_log.read_text().split()
        assert signals == ["INT->INT"], f"{env}: the preStop sent {signals}, not SIGINT (drain)"
        time.sleep(0.3)
        assert proc.alive(), f"{env}: pgbouncer exited with a transaction in flight: {proc.tail()}"
        assert not hook_run.done(), f"{env}: the preStop returned while pgbouncer still ran"
        client.execute("SELECT 2")
        client.execute("COMMIT")
        # It ends (a hook past the grace period raises here). Its exit status does not
        # count: in the pod, PID 1's exit ends the hook's own process too.
        hook_run.result(timeout=15)
    with pytest.raises(ProcessLookupError):
        os.kill(proc.main_pid, 0)  # gone before the hook returned: the hook waited for it
    assert proc.wait(5) == 0, f"{env}: pgbouncer's exit: {proc.tail()}"
    assert bouncer.c.signal_log.read_text().split() == ["INT->INT"], f"{env}: other signals followed"


# --- the queue Redis ------------------------------------------------------------------------------


def jobs_lost_to_a_sigkill(c: Cluster) -> list[str] | None:
    """Real BullMQ producers enqueue on the app's REDIS_URL; the queue Redis is SIGKILLed
    under them and restarted; they go on. Every job whose add() resolved, before or after,
    must be there in the state it was added in. None: the environment runs no queue Redis."""
    redis = queue_redis(c)
    if redis is None:
        return None
    url, queues = app_redis_url(c), queues_of(c)
    producers = bullmq.Producers(url, queues, log_dir=c.root)
    try:
        producers.wait(60)
        before = len(producers.acked)
        redis.kill()
        redis.start()
        producers.wait(before + 30)
        acked = producers.stop()
    finally:
        producers.close()
    ids = {q: [a["id"] for a in acked if a["queue"] == q] for q in queues}
    found = bullmq.run(url, [{"op": "states", "queue": q, "ids": ids[q]} for q in queues], log_dir=c.root)
    states = dict(zip(queues, found, strict=True))
    assert {a["state"] for a in acked} >= {"active", "waiting", "prioritized", "delayed"}, acked[:5]
    return [
        f"{a['queue']}/{a['id']} {a['state']} -> {states[a['queue']][a['id']]}"
        for a in acked
        if states[a["queue"]][a["id"]] != a["state"]
    ]


@pytest.mark.parametrize("envs", distinct.groups(QUEUE_REDIS))
def test_every_acknowledged_bullmq_job_survives_a_sigkill_of_the_queue_redis(
    envs: tuple[str, ...], outputs: dict[str, Output], cluster: ClusterFactory
) -> None:
    for env in distinct.runs_of(envs, outputs, QUEUE_REDIS):
        lost = jobs_lost_to_a_sigkill(cluster(env))
        assert not lost, f"{env}: {len(lost or [])} acknowledged job(s) lost or changed: {(lost or [])[:5]}"


def test_planted_without_aof_a_sigkill_loses_acknowledged_jobs(
    outputs: dict[str, Output], cluster_of: OutputClusterFactory
) -> None:
    with_queue = [out for out in outputs.values() if Topology.of(out.cfg).redis is not None]
    if not with_queue:
        return
    out = with_queue[0]  # the first environment with an in-cluster queue Redis
    queue = Topology.of(out.cfg).redis
    assert queue is not None
    planted_out = planted.with_setting(out, out.get("StatefulSet", queue.name), "redis.conf", "appendonly no")
    lost = jobs_lost_to_a_sigkill(cluster_of(planted_out))
    assert lost, (
        f"{out.cfg.name}: with appendonly no, no acknowledged job was lost: the check cannot see a loss"
    )


# --- PostgreSQL and the migration's launcher ------------------------------------------------------

COUNT = "SELECT count(*)::int AS n FROM restart_probe"


def committed_rows(db: Postgres) -> int:
    """Commit rows in a table of the app's database; how many."""
    db.sql("CREATE TABLE restart_probe (n int)")
    for _ in range(3):
        db.sql("INSERT INTO restart_probe SELECT generate_series(1, 100)")
    return 300


@pytest.mark.parametrize("envs", distinct.groups(DATABASE))
def test_postgres_recovers_from_a_sigkill_and_the_migration_waits_for_it(
    envs: tuple[str, ...], outputs: dict[str, Output], cluster: ClusterFactory
) -> None:
    """The launcher is started while the database is down (a one-pass apply) and while
    it recovers (57P03); the migration's stand-in, which really connects with the URL it
    is handed, runs only once the database accepts, and sees every committed row. The
    same stand-in without the launcher fails in both situations (planted)."""
    for env in distinct.runs_of(envs, outputs, DATABASE):
        c = cluster(env)
        db = discover.database(c)
        if db is not None:
            recovers_and_the_migration_waits(c, db)


def recovers_and_the_migration_waits(c: Cluster, db: Postgres) -> None:
    env = c.env
    committed = committed_rows(db)
    open_tx = connect(
        f"postgresql://{db.user}:{quote(db.password, safe='')}@127.0.0.1:{db.port}/{db.database}"
    )
    open_tx.execute("BEGIN")
    open_tx.execute("INSERT INTO restart_probe VALUES (-1)")  # never committed
    db.kill()
    open_tx.close()
    pod = migration.job_pod(c)
    launchers: list[migration.Launcher] = []
    # In each state the launcher starts, and the stand-in alone runs meanwhile (planted).
    if pod is not None:
        # Not started yet: nothing listens.
        launchers.append(migration.Launcher(pod, migration.standin(COUNT)).start())
        alone = migration.run_standin(launchers[0].c, handed_url_env(c, launchers[0]), COUNT)
        assert alone.returncode != 0 and "ECONNREFUSED" in alone.stderr, f"{env}: planted: {alone}"
        launchers[0].wait_for("(ECONNREFUSED)")
    db.start_in_recovery()
    if pod is not None:
        # Up, but recovering: PostgreSQL answers 57P03.
        launchers.append(migration.Launcher(pod, migration.standin(COUNT)).start())
        alone = migration.run_standin(launchers[1].c, handed_url_env(c, launchers[1]), COUNT)
        assert alone.returncode != 0 and "57P03" in alone.stderr, f"{env}: planted: {alone}"
        launchers[1].wait_for("(starting up)")
        assert all(launcher.proc and launcher.proc.alive() for launcher in launchers), f"{env}: gave up"
    db.promote()
    for launcher in launchers:
        code, output = launcher.finish()
        assert code == 0, f"{env}: the migration failed: {output[-400:]}"
        assert f'{{"row":{{"n":{committed}}}}}' in output, f"{env}: the migration saw: {output[-300:]}"
    assert db.sql("SELECT count(*) FROM restart_probe") == str(committed), (
        f"{env}: rows lost or an uncommitted one kept"
    )


def handed_url_env(c: Cluster, launcher: migration.Launcher) -> dict[str, str]:
    """The env the launcher gives its command: DATABASE_URL with the password set as the
    app contract says (the Python twin of its composition), the rest as the pod has it."""
    url = localize_url(c, discover.app_url(c, "DATABASE_URL", component="migration"))
    return {**launcher.env, "DATABASE_URL": url}


# --- the cache Redis ------------------------------------------------------------------------------


def cache_redis(c: Cluster) -> Redis | None:
    """The in-cluster Redis the app's REDIS_CACHE_URL reaches (None: none, or a managed one)."""
    servers = redises(c)
    try:
        parts = urlsplit(discover.app_env(c, "REDIS_CACHE_URL"))
        port = c.resolve(parts.hostname or "", parts.port or 6379)
    except HarnessError:
        return None
    found = [r for r in servers.values() if r.port == port]
    return found[0] if found else None


def keys_after_a_restart(c: Cluster) -> int | None:
    """Fill the cache, stop it as the kubelet does (SIGTERM; Redis then saves if it would
    ever save), start it again in the same pod; how many keys it came back with."""
    cache = cache_redis(c)
    if cache is None:
        return None
    assert "lifecycle" not in cache.c.spec, (
        f"{c.env}: the cache has a hook now: run it here (Server.terminate)"
    )
    proc = cache.start().proc
    assert proc is not None
    with Resp(cache.port, cache.password) as r:
        for i in range(100):
            r.call("SET", f"cache:{i}", "v")
    proc.signal(signal.SIGTERM)
    assert proc.wait(cache.pod.grace) is not None, f"{c.env}: the cache did not stop within its grace period"
    cache.start().wait_ready()
    with Resp(cache.port, cache.password) as r:
        return int(r.call("DBSIZE"))


@pytest.mark.parametrize("envs", distinct.groups(CACHE_REDIS))
def test_the_cache_redis_restarts_empty_as_the_app_contract_allows(
    envs: tuple[str, ...], outputs: dict[str, Output], cluster: ClusterFactory
) -> None:
    contract = re.sub(r"\s+", " ", CONTRACT_MD.read_text(encoding="utf-8"))
    assert re.search(r"`REDIS_CACHE_URL`\) may be empty at any time", contract), (
        f"{CONTRACT_MD.name} no longer tells the app that the cache may be empty at any time"
    )
    for env in distinct.runs_of(envs, outputs, CACHE_REDIS):
        keys = keys_after_a_restart(cluster(env))
        assert keys in (0, None), f"{env}: the cache came back with {keys} keys: it persists something"


@pytest.mark.parametrize("setting", ["appendonly yes", "save 3600 1"])
def test_planted_a_cache_that_persists_comes_back_full(
    setting: str, outputs: dict[str, Output], cluster_of: OutputClusterFactory
) -> None:
    for out in outputs.values():  # the first environment with an in-cluster cache
        cache = cache_redis(cluster_of(out))
        if cache is not None:
            break
    else:
        return
    planted_out = planted.with_setting(out, cache.pod.workload, "redis.conf", setting)
    keys = keys_after_a_restart(cluster_of(planted_out))
    assert keys == 100, f"{out.cfg.name}: with {setting!r} the cache came back with {keys} keys"
