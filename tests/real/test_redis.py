"""Redis as rendered, run for real: config, probes, auth, noeviction, AOF, KEDA keys.

The queue Redis (the topology's ``redis``) holds BullMQ's jobs, so it must refuse
writes rather than evict (that it keeps what it acknowledged across a SIGKILL is
test_restarts.py's, with producers enqueueing as it dies). Any other
Redis (a cache) must evict instead. KEDA scales workers on keys of the queue Redis,
so every key a trigger reads must be one BullMQ writes, of a type KEDA counts, and
its count must be BullMQ's own.

Each check runs once per distinct rendered config of what it runs (``distinct``). The
checks that only read a Redis or add jobs to it share the environment's Redis servers,
started once for this module; the ones that lower a memory limit start their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.real.conftest import ClusterFactory
from tests.real.harness import bullmq, discover, distinct
from tests.real.harness.pods import Cluster, stop_clusters
from tests.real.harness.resp import Resp, RespError
from tests.real.harness.servers import Redis, localize_url
from tests.support import Output
from vibeyard.config import Topology

# BullMQ key suffix -> the getJobCounts() state it holds
STATE_OF_KEY = {
    "wait": "waiting",
    "prioritized": "prioritized",
    "active": "active",
    "paused": "paused",
    "delayed": "delayed",
    "completed": "completed",
    "failed": "failed",
    "waiting-children": "waiting-children",
}
KEDA_COUNTS = {"list": "LLEN", "zset": "ZCARD"}
# What each check runs, for grouping the environments (see harness/distinct.py).
REDIS = distinct.servers("redis-server")
QUEUE = distinct.servers("redis-server", app_env=("REDIS_URL", "REDIS_PASSWORD"))
KEDA = distinct.servers("redis-server", app_env=("REDIS_URL", "REDIS_PASSWORD"), objects=("ScaledObject",))
Running = Callable[[str], tuple[Cluster, dict[str, Redis]]]


def redises(cluster: Cluster) -> dict[str, Redis]:
    return {w["metadata"]["name"]: Redis(cluster.pod(w)) for w in discover.workloads(cluster, "redis-server")}


@pytest.fixture(scope="module")
def running(new_cluster: ClusterFactory) -> Iterator[Running]:
    """An environment's cluster with every Redis it renders started, once for this module."""
    made: dict[str, tuple[Cluster, dict[str, Redis]]] = {}

    def get(env: str) -> tuple[Cluster, dict[str, Redis]]:
        if env not in made:
            c = new_cluster(env)
            made[env] = c, {name: redis.start() for name, redis in redises(c).items()}
        return made[env]

    yield get
    stop_clusters(c for c, _ in made.values())


def queue_redis(cluster: Cluster, found: dict[str, Redis] | None = None) -> Redis | None:
    """The started queue Redis, or None when the topology runs none in-cluster (``found``:
    the cluster's Redis servers, already started)."""
    topology = Topology.of(cluster.out.cfg)
    started = found is not None
    found = redises(cluster) if found is None else found
    if topology.redis is None:
        assert not found, f"{cluster.env}: no in-cluster Redis in the topology, but dist runs {sorted(found)}"
        return None
    assert topology.redis.name in found, (
        f"{cluster.env}: no workload runs redis-server as {topology.redis.name}"
    )
    if started:
        return found[topology.redis.name]
    for name, r in found.items():
        if name != topology.redis.name:
            r.pod.cluster.pods.remove(r.pod)
    return found[topology.redis.name].start()


def app_redis_url(cluster: Cluster) -> str:
    return localize_url(cluster, discover.app_url(cluster, "REDIS_URL"))


def queues_of(cluster: Cluster) -> list[str]:
    return sorted({q for plan in Topology.of(cluster.out.cfg).pools for q in plan.pool.queues})


def overfill(r: Resp) -> None:
    """Put Redis over its memory limit for sure: 2 MiB of data, then the limit 512 KiB under
    what it uses. Only the size changes (filling 384 MB is slow); the policy is the rendered one."""
    for i in range(32):
        r.call("SET", f"filler:{i}", b"v" * 65536)
    used = int(r.info("memory")["used_memory"])
    r.call("CONFIG", "SET", "maxmemory", str(used - 512 * 1024))


def write(r: Resp, count: int) -> str | None:
    """Write ``count`` more 64 KiB values; the first refusal, or None if all were taken."""
    for i in range(count):
        try:
            r.call("SET", f"more:{i}", b"v" * 65536)
        except RespError as err:
            return str(err)
    return None


@pytest.mark.parametrize("envs", distinct.groups(REDIS))
def test_every_redis_loads_its_rendered_config_and_passes_its_probes(
    envs: tuple[str, ...], outputs: dict[str, Output], running: Running
) -> None:
    for env in distinct.runs_of(envs, outputs, REDIS):
        loads_its_config_and_passes_its_probes(*running(env))


def loads_its_config_and_passes_its_probes(c: Cluster, found: dict[str, Redis]) -> None:
    env = c.env
    assert found or Topology.of(c.out.cfg).redis is None, f"{env}: the topology runs Redis, dist renders none"
    for name, redis in found.items():
        port = int(redis.directive("port") or 6379)
        assert port == redis.container_port, (
            f"{env}/{name}: listens on {port}, declares {redis.container_port}"
        )
        with Resp(redis.port, redis.password) as r:
            for line in redis.config_text().splitlines():
                words = line.split(None, 1)
                if len(words) == 2 and words[0] in ("maxmemory-policy", "appendonly", "appendfsync", "save"):
                    got = r.call("CONFIG", "GET", words[0])[1]
                    assert got == words[1].strip().strip('"'), f"{env}/{name}: {words[0]} is {got!r}"
        failed = {k: v for k, v in redis.probes().items() if not v[0]}
        assert not failed, f"{env}/{name}: probes fail: {failed}"


@pytest.mark.parametrize("envs", distinct.groups(QUEUE))
def test_redis_refuses_a_client_without_the_password(
    envs: tuple[str, ...], outputs: dict[str, Output], running: Running
) -> None:
    for env in distinct.runs_of(envs, outputs, QUEUE):
        c, found = running(env)
        for name, redis in found.items():
            with Resp(redis.port) as anonymous, pytest.raises(RespError, match="NOAUTH"):
                anonymous.call("SET", "k", "v")
            with pytest.raises(RespError, match="WRONGPASS"):
                Resp(redis.port, "not-the-password")
            assert redis.password, f"{env}/{name}: no requirepass"
        if Topology.of(c.out.cfg).redis is not None:
            counts = bullmq.run(app_redis_url(c), [{"op": "counts", "queues": queues_of(c)}], log_dir=c.root)
            assert counts, f"{env}: the app's REDIS_URL does not reach the queue Redis"


@pytest.mark.parametrize("envs", distinct.groups(QUEUE))
def test_a_full_queue_redis_refuses_new_jobs_and_evicts_nothing(
    envs: tuple[str, ...], outputs: dict[str, Output], cluster: ClusterFactory
) -> None:
    for env in distinct.runs_of(envs, outputs, QUEUE):
        refuses_new_jobs_when_full(cluster(env))


def refuses_new_jobs_when_full(c: Cluster) -> None:
    env = c.env
    redis = queue_redis(c)
    if redis is None:
        return
    url, queues = app_redis_url(c), queues_of(c)
    bullmq.run(
        url, [{"op": "enqueue", "queue": q, "waiting": 5, "prioritized": 2} for q in queues], log_dir=c.root
    )
    with Resp(redis.port, redis.password) as r:
        overfill(r)
        refusal = write(r, 16)
        assert refusal is not None and refusal.startswith("OOM"), f"{env}: a full Redis accepted every write"
        keys_before = r.call("DBSIZE")
        results = bullmq.run(url, [{"op": "add", "queue": q, "count": 3} for q in queues], log_dir=c.root)
        for q, res in zip(queues, results, strict=True):
            assert res["added"] == 0, f"{env}: BullMQ added {res['added']} jobs to {q} in a full Redis"
            assert "OOM" in str(res["error"]), f"{env}: {q}: {res['error']}"
        assert r.call("DBSIZE") == keys_before
        assert r.info("stats")["evicted_keys"] == "0", f"{env}: Redis evicted keys"
    counts = bullmq.run(url, [{"op": "counts", "queues": queues}], log_dir=c.root)[0]
    for q in queues:
        assert (counts[q]["waiting"], counts[q]["prioritized"]) == (5, 2), f"{env}/{q}: {counts[q]}"


@pytest.mark.parametrize("envs", distinct.groups(KEDA))
def test_every_keda_key_is_a_bullmq_key_counted_as_bullmq_counts_it(
    envs: tuple[str, ...], outputs: dict[str, Output], running: Running
) -> None:
    for env in distinct.runs_of(envs, outputs, KEDA):
        check_keda_keys(*running(env))


def check_keda_keys(c: Cluster, found: dict[str, Redis] | None = None) -> int:
    """Enqueue waiting, prioritized, active and delayed jobs in every consumed queue, then
    read each redis trigger's key as KEDA does; returns how many triggers were checked
    (``found``: the cluster's Redis servers, already started)."""
    env = c.env
    triggers = [
        (so["metadata"]["name"], t)
        for so in c.out.of_kind("ScaledObject")
        for t in so["spec"]["triggers"]
        if t["type"] == "redis"
    ]
    redis = queue_redis(c, found)
    if not triggers or redis is None:
        assert not triggers or Topology.of(c.out.cfg).redis is None, f"{env}: triggers but no queue Redis"
        return 0
    url, queues = app_redis_url(c), queues_of(c)
    steps = [
        {"op": "enqueue", "queue": q, "waiting": 3, "prioritized": 2, "active": 1, "delayed": 1}
        for q in queues
    ]
    counts = bullmq.run(url, [*steps, {"op": "counts", "queues": queues}], log_dir=c.root)[-1]
    with Resp(redis.port, redis.password) as r:
        for scaled, t in triggers:
            meta, where = t["metadata"], f"{env}/{scaled}/{t.get('name')}"
            host, _, port = meta["address"].rpartition(":")
            assert c.resolve(host, int(port)) == redis.port, (
                f"{where}: {meta['address']} is not the queue Redis"
            )
            r.call("SELECT", meta.get("databaseIndex", "0"))
            key = meta["listName"]
            kind = r.call("TYPE", key)
            assert kind in KEDA_COUNTS, (
                f"{where}: {key} is {kind!r}; BullMQ never writes it as a list or zset"
            )
            prefix, _, rest = key.partition(":")
            queue, _, suffix = rest.rpartition(":")
            assert prefix == "bull" and queue in counts, f"{where}: {key} is not a key of a consumed queue"
            state = STATE_OF_KEY[suffix]
            got = r.call(KEDA_COUNTS[kind], key)
            assert got == counts[queue][state] > 0, (
                f"{where}: KEDA counts {got}, BullMQ {state}={counts[queue][state]}"
            )
    return len(triggers)


@pytest.mark.parametrize("envs", distinct.groups(REDIS))
def test_a_cache_redis_evicts_under_pressure(
    envs: tuple[str, ...], outputs: dict[str, Output], cluster: ClusterFactory
) -> None:
    for env in distinct.runs_of(envs, outputs, REDIS):
        c = cluster(env)
        topology = Topology.of(c.out.cfg)
        queue_name = topology.redis.name if topology.redis else None
        for name, redis in redises(c).items():
            if name == queue_name:
                continue
            redis.start()
            with Resp(redis.port, redis.password) as r:
                overfill(r)
                assert write(r, 16) is None, f"{env}/{name}: the cache refused a write instead of evicting"
                assert int(r.info("stats")["evicted_keys"]) > 0, f"{env}/{name}: nothing was evicted"
