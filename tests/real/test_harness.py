"""The harness on what dist does not render yet, and on its own translation rules.

Rendered objects are changed on purpose (a PgBouncer setting 1.18 does not know, an
exporter image with no local build, an exporter on the wrong port) to show the harness
refuses them with a readable line, and the translation rules are checked on their own.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.real.harness import exporters, podshim, promtool
from tests.real.harness.pgbouncer import PgBouncer
from tests.real.harness.planted import synthetic, with_ini_line
from tests.real.harness.pods import Cluster, expand, stop_clusters
from tests.real.harness.procs import HarnessError
from tests.real.harness.secrets import TestSecret
from tests.real.harness.servers import signal_table
from tests.support import Output

_ids = itertools.count()


@pytest.fixture
def make(real_root: Path) -> Iterator[Any]:
    made: list[Cluster] = []

    def build(out: Output) -> Cluster:
        c = Cluster(out, real_root / f"synthetic-{next(_ids)}", TestSecret(out.cfg))
        made.append(c)
        return c

    yield build
    stop_clusters(made)


def test_an_ini_key_pgbouncer_118_does_not_know_fails_to_load(make: Any, outputs: dict[str, Output]) -> None:
    """The image is 1.25, the tests' binary 1.18: a key added after 1.18 must not slip in."""
    out = outputs["staging"]
    c = make(synthetic(out, with_ini_line(out, "max_prepared_statements = 100\n")))
    c.pod(c.out.get("StatefulSet", "postgres"))  # laid out, not started: the ini fails before any login
    with pytest.raises(HarnessError, match="unknown parameter"):
        PgBouncer(c.pod(c.out.get("Deployment", "pgbouncer"))).start()


def test_an_exporter_image_without_a_local_build_is_named(make: Any, outputs: dict[str, Output]) -> None:
    cache = copy.deepcopy(outputs["staging"].get("Deployment", "redis-cache"))
    exporter = next(x for x in cache["spec"]["template"]["spec"]["containers"] if x["name"] == "exporter")
    exporter["image"] = "example.org/some/exporter:1"
    c = make(synthetic(outputs["staging"], cache))
    with pytest.raises(HarnessError, match=r"no local build of example\.org/some/exporter:1"):
        exporters.start_sidecar(c.pod(cache))


def test_an_exporter_must_listen_on_its_declared_port(make: Any, outputs: dict[str, Output]) -> None:
    cache = copy.deepcopy(outputs["staging"].get("Deployment", "redis-cache"))
    exporter = next(x for x in cache["spec"]["template"]["spec"]["containers"] if x["name"] == "exporter")
    exporter["args"] = ["--web.listen-address=:9999"]
    c = make(synthetic(outputs["staging"], cache))
    with pytest.raises(HarnessError, match="does not listen on the declared containerPort 9121"):
        exporters.start_sidecar(c.pod(cache))


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
