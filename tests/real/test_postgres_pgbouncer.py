"""PostgreSQL and PgBouncer as rendered, run for real.

The database starts the way its image would (initdb from the StatefulSet's env, as the
pod's non-root user, PGDATA under the volume's root, which holds lost+found as a real
volume does). The migration Job must reach it directly; the app reaches it through
PgBouncer, with the query options its DATABASE_URL carries; PgBouncer must stop
within its grace period when the kubelet stops it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import psycopg
import pytest

from tests.conftest import ENV_NAMES
from tests.real.conftest import ClusterFactory
from tests.real.harness import discover
from tests.real.harness.pgbouncer import PgBouncer
from tests.real.harness.pods import Cluster, stop_clusters
from tests.real.harness.procs import HarnessError
from tests.real.harness.secrets import TestSecret
from tests.real.harness.servers import Postgres, localize_url
from vibeyard.config import Topology

# Prisma's connection-URL options and what they mean on the wire. Pool sizing and timeouts
# are client-side; ``pgbouncer=true`` stops Prisma from naming prepared statements, which a
# transaction-mode pooler (without max_prepared_statements) cannot route.
PRISMA_CLIENT_SIDE = {"connection_limit", "pool_timeout", "socket_timeout", "statement_cache_size"}
LIBPQ = {"sslmode", "connect_timeout", "application_name", "options"}


@dataclass
class Stack:
    cluster: Cluster
    database: Postgres | None
    pgbouncer: PgBouncer | None


@pytest.fixture(scope="module")
def stacks(new_cluster: ClusterFactory) -> Iterator[dict[str, Stack]]:
    """Per environment: its database (in-cluster, or a stand-in for a managed one that
    something in dist connects to) and its PgBouncer, started once for this module."""
    made: dict[str, Stack] = {}
    yield made
    stop_clusters(stack.cluster for stack in made.values())


def stack(stacks: dict[str, Stack], new_cluster: ClusterFactory, env: str) -> Stack:
    if env in stacks:
        return stacks[env]
    c = new_cluster(env)
    topology = Topology.of(c.out.cfg)
    found = discover.workloads(c, "postgres")
    assert bool(found) == (topology.postgres is not None), f"{env}: topology and dist disagree on postgres"
    database = Postgres(c.pod(found[0])).start() if found else None
    bouncers = discover.workloads(c, "pgbouncer")
    assert bool(bouncers) == (topology.pgbouncer is not None), (
        f"{env}: topology and dist disagree on pgbouncer"
    )
    if database is None and (bouncers or topology.migration):
        database = Postgres.standin(c, *TestSecret.managed_postgres(topology))
    pgbouncer = PgBouncer(c.pod(bouncers[0])).start() if bouncers else None
    stacks[env] = Stack(c, database, pgbouncer)
    return stacks[env]


def connect(url: str) -> psycopg.Connection[tuple[object, ...]]:
    """Connect as the app's client would, given its URL (already made local)."""
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query))
    unknown = set(params) - PRISMA_CLIENT_SIDE - LIBPQ - {"pgbouncer", "schema"}
    if unknown:
        raise HarnessError(f"DATABASE_URL option(s) {sorted(unknown)}: model them in {Path(__file__).name}")
    kwargs: dict[str, object] = {k: v for k, v in params.items() if k in LIBPQ}
    if "schema" in params:
        kwargs["options"] = f"-c search_path={params['schema']}"
    conn = psycopg.connect(
        host="127.0.0.1",
        port=parts.port,
        user=parts.username,
        password=parts.password,
        dbname=parts.path.lstrip("/"),
        autocommit=True,
        connect_timeout=5,
        **kwargs,  # type: ignore[arg-type]
    )
    # Prisma behind PgBouncer: unnamed statements only; otherwise it prepares named ones.
    conn.prepare_threshold = None if params.get("pgbouncer") == "true" else 0
    return conn


def query_through(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    """What the app does on every request: parameterized statements, and a transaction."""
    for i in range(3):
        row = conn.execute("SELECT %s::int + 1, current_user, current_database()", (i,)).fetchone()
        assert row is not None and row[0] == i + 1
    with conn.transaction():
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS t (x int)")
        conn.execute("INSERT INTO t VALUES (%s)", (1,))


@pytest.mark.parametrize("env", ENV_NAMES)
def test_postgres_initialises_from_the_statefulset_env_and_passes_its_probes(
    env: str, stacks: dict[str, Stack], new_cluster: ClusterFactory
) -> None:
    s = stack(stacks, new_cluster, env)
    db = s.database
    if db is None or not discover.workloads(s.cluster, "postgres"):
        return
    failed = {k: v for k, v in db.probes().items() if not v[0]}
    assert not failed, f"{env}: postgres probes fail: {failed}"
    env_vars = db.c.env()
    pgdata = Path(env_vars["PGDATA"])
    assert (pgdata / "PG_VERSION").exists(), f"{env}: PGDATA {pgdata} was not initialised"
    if db.c.run_as.active:
        assert pgdata.stat().st_uid == db.c.run_as.uid, f"{env}: PGDATA not owned by runAsUser"
    url = f"postgresql://{env_vars['POSTGRES_USER']}:{env_vars['POSTGRES_PASSWORD']}@127.0.0.1:{db.port}/"
    with connect(url + env_vars["POSTGRES_DB"]) as conn:
        row = conn.execute("SELECT current_user, current_database()").fetchone()
    assert row == (env_vars["POSTGRES_USER"], env_vars["POSTGRES_DB"])
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        connect(url.replace(env_vars["POSTGRES_PASSWORD"], "wrong") + env_vars["POSTGRES_DB"])


@pytest.mark.parametrize("env", ENV_NAMES)
def test_the_migration_job_reaches_the_database_directly(
    env: str, stacks: dict[str, Stack], new_cluster: ClusterFactory
) -> None:
    s = stack(stacks, new_cluster, env)
    if not any(True for _ in _migration(s.cluster)):
        assert not Topology.of(s.cluster.out.cfg).migration, f"{env}: migration enabled but no Job"
        return
    assert s.database is not None
    url = localize_url(s.cluster, discover.app_url(s.cluster, "DATABASE_URL", component="migration"))
    assert urlsplit(url).port == s.database.port, f"{env}: the migration Job does not reach postgres directly"
    with connect(url) as conn:
        query_through(conn)


def _migration(c: Cluster) -> Iterator[object]:
    for job in c.out.of_kind("Job"):
        if job["metadata"]["labels"].get("app.kubernetes.io/component") == "migration":
            yield job


@pytest.mark.parametrize("env", ENV_NAMES)
def test_pgbouncer_loads_its_config_and_passes_its_probes(
    env: str, stacks: dict[str, Stack], new_cluster: ClusterFactory
) -> None:
    s = stack(stacks, new_cluster, env)
    if s.pgbouncer is None:
        return
    failed = {k: v for k, v in s.pgbouncer.probes().items() if not v[0]}
    assert not failed, f"{env}: pgbouncer probes fail: {failed}"


@pytest.mark.parametrize("env", ENV_NAMES)
def test_the_apps_database_url_queries_through_pgbouncer(
    env: str, stacks: dict[str, Stack], new_cluster: ClusterFactory
) -> None:
    s = stack(stacks, new_cluster, env)
    if s.pgbouncer is None:
        return
    url = localize_url(s.cluster, discover.app_url(s.cluster, "DATABASE_URL", component="web"))
    assert urlsplit(url).port == s.pgbouncer.port, f"{env}: the app's DATABASE_URL bypasses pgbouncer"
    with connect(url) as conn:
        query_through(conn)


@pytest.mark.parametrize("env", ENV_NAMES)
def test_pgbouncer_stops_within_its_grace_period_with_app_clients_connected(
    env: str, stacks: dict[str, Stack], new_cluster: ClusterFactory
) -> None:
    s = stack(stacks, new_cluster, env)
    if s.pgbouncer is None:
        return
    bouncer = PgBouncer(s.cluster.pod(s.pgbouncer.pod.workload)).start()  # a second replica, to stop
    app = urlsplit(localize_url(s.cluster, discover.app_url(s.cluster, "DATABASE_URL", component="web")))
    url = app._replace(netloc=f"{app.netloc.rsplit('@', 1)[0]}@127.0.0.1:{bouncer.port}").geturl()
    with connect(url) as client:  # an app pod's pooled connection, idle between requests
        client.execute("SELECT 1")
        bouncer.c.clients_file.write_text("1")
        finished, used, what = bouncer.terminate()
    if not finished and "WAIT_FOR_CLIENTS" in what and "client(s) still connected" in what:
        # Found by this test on the edoburu 1.25 image with a `sleep` preStop: SIGTERM there
        # waits for every client, and app pools never disconnect, so every pgbouncer stop
        # ends in SIGKILL. Reported; the fix is a preStop that sends SIGINT. Any other
        # failure to stop still fails here.
        pytest.xfail(f"{env}: known defect: {what}")
    assert finished, f"{env}: pgbouncer did not stop within {bouncer.pod.grace}s ({used:.1f}s): {what}"
