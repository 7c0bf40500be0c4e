"""Fixtures for the real-component tests: a temp root, one Cluster per environment.

Servers run in ``/dev/shm/vibeyard-real-*`` (or under /tmp), removed at the end, and
are stopped however a test ends. Missing software skips these tests with one line
naming the packages, except under CI=true, where it fails them.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

import pytest

from tests.real.harness import procs, tools
from tests.real.harness.pods import Cluster, stop_clusters
from tests.real.harness.secrets import TestSecret
from tests.support import Output

HERE = Path(__file__).parent
_HINTS = tools.missing()
_counter = itertools.count()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "no_binaries: a harness test that starts no real software")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without the software, outside CI: leave these tests out and say so in one line."""
    if not _HINTS or tools.in_ci():
        return
    needing = [i for i in items if HERE in Path(str(i.path)).parents and "no_binaries" not in i.keywords]
    if needing:
        items[:] = [i for i in items if i not in needing]
        config.hook.pytest_deselected(items=needing)  # tests/conftest.py prints the one line


@pytest.fixture(autouse=True)
def _binaries_present(request: pytest.FixtureRequest) -> None:
    if _HINTS and "no_binaries" not in request.keywords:  # only reached under CI=true
        pytest.fail(f"CI=true: real-component tests need: {'; '.join(_HINTS)}")


@pytest.fixture(scope="session")
def real_root() -> Iterator[Path]:
    # tmpfs when there is one: initdb and AOF writes are several times faster there.
    shm = Path("/dev/shm")
    base = str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None
    root = Path(tempfile.mkdtemp(prefix="vibeyard-real-", dir=base))
    root.chmod(0o755)
    try:
        yield root
    finally:
        procs.stop_all()
        shutil.rmtree(root, ignore_errors=True)


ClusterFactory = Callable[[str], Cluster]


@pytest.fixture(scope="session")
def new_cluster(outputs: dict[str, Output], real_root: Path) -> Iterator[ClusterFactory]:
    """A fresh, empty cluster of one environment (its own directory and secret values)."""
    made: list[Cluster] = []

    def make(env: str) -> Cluster:
        out = outputs[env]
        secret = TestSecret(out.cfg)
        cluster = Cluster(out, real_root / f"{next(_counter)}", secret)
        made.append(cluster)
        return cluster

    try:
        yield make
    finally:
        stop_clusters(made)


@pytest.fixture
def cluster(new_cluster: ClusterFactory) -> Iterator[ClusterFactory]:
    """Like ``new_cluster``, but what it started stops when the test ends."""
    made: list[Cluster] = []

    def make(env: str) -> Cluster:
        c = new_cluster(env)
        made.append(c)
        return c

    try:
        yield make
    finally:
        stop_clusters(made)


class OutputClusterFactory(Protocol):
    def __call__(self, out: Output, secret: TestSecret | None = None) -> Cluster: ...


@pytest.fixture
def cluster_of(real_root: Path) -> Iterator[OutputClusterFactory]:
    """A cluster of any Output (an environment's, or one changed on purpose), with the
    harness's secret values or the ones given; what it started stops when the test ends."""
    made: list[Cluster] = []

    def make(out: Output, secret: TestSecret | None = None) -> Cluster:
        c = Cluster(out, real_root / f"{next(_counter)}", secret or TestSecret(out.cfg))
        made.append(c)
        return c

    try:
        yield make
    finally:
        stop_clusters(made)
