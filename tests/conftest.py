"""One synthesis per test session, shared by every test.

jsii start-up and construct creation are the slow part of this suite, so the
committed configuration is synthesized once, in memory, and every test reads
the result. Tests never depend on the current release pins: they read the
code's own image (no CD overrides, no ``releases/<env>.json``), so a release
commit changes no expectation. Only the check that ``dist/`` is up to date
renders with the pins, and it reuses this synthesis when the pins are the
code's defaults.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_NODE_BIN = ROOT / "node_modules" / ".bin"
if (_NODE_BIN / "node").exists():
    os.environ["PATH"] = f"{_NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}"

# jsii (cdk8s, the charts) is imported only inside the fixtures that render: under
# pytest-xdist the controller process loads this file too, and never renders.
from tests import variants as variant_configs  # noqa: E402
from tests.support import Output  # noqa: E402
from vibeyard.config import EnvConfig, all_configs, names  # noqa: E402
from vibeyard.config.inputs import load_sealed  # noqa: E402
from vibeyard.gitops.environments import FILE, environments_json  # noqa: E402
from vibeyard.synth.charts import render_charts  # noqa: E402
from vibeyard.synth.inputs import RELEASES, releases, resolve  # noqa: E402
from vibeyard.synth.render import render  # noqa: E402

ENV_NAMES = tuple(names())

Trees = dict[str, dict[str, str]]


def synthesize(configs: list[EnvConfig], root: Path, every: list[EnvConfig] | None = None) -> Trees:
    """What a synth renders, in memory, with each sealed file read from ``root``."""
    every = every if every is not None else configs
    sealed = {c.name: load_sealed(c, root) if c.secrets.provider == "sealed" else None for c in every}
    return render_charts(configs, sealed, every)


@pytest.fixture(scope="session")
def configs() -> dict[str, EnvConfig]:
    """The committed environments with the code's own image (no release record applies)."""
    return dict(all_configs())


def _once(factory: pytest.TempPathFactory, name: str, render_trees: Callable[[], Trees]) -> Trees:
    """``render_trees()`` once per run, not once per pytest-xdist worker.

    The first worker to ask renders and leaves the result as JSON in the run's shared temp
    folder; a worker that asks meanwhile waits on the lock, then reads it. A pytest started
    by a test (``tests/real/test_as_non_root.py``) is handed its parent's folder in
    ``VIBEYARD_TEST_RENDERS``.
    """
    if handed := os.environ.get("VIBEYARD_TEST_RENDERS"):
        shared = Path(handed)
    elif os.environ.get("PYTEST_XDIST_WORKER"):
        shared = factory.getbasetemp().parent
    else:
        return render_trees()
    with (shared / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        path = shared / f"{name}.json"
        if path.exists():
            trees: Trees = json.loads(path.read_text(encoding="utf-8"))
            return trees
        trees = render_trees()
        path.write_text(json.dumps(trees), encoding="utf-8")
        return trees


@pytest.fixture(scope="session")
def synthesized(configs: dict[str, EnvConfig], tmp_path_factory: pytest.TempPathFactory) -> Trees:
    return _once(tmp_path_factory, "synthesized", lambda: synthesize(list(configs.values()), ROOT))


@pytest.fixture(scope="session")
def committed_output(
    configs: dict[str, EnvConfig], synthesized: Trees, tmp_path_factory: pytest.TempPathFactory
) -> Trees:
    """What ``dist/`` must hold: the synth with the committed release pins, the records
    themselves, and (under ".") the files at its top."""
    pinned, every = resolve([], {}, ROOT)
    changed = [cfg for cfg in pinned if cfg != configs[cfg.name]]
    # Only the released environments render differently; the Argo CD chart reads no pin.
    fresh = _once(tmp_path_factory, "pinned", lambda: synthesize(changed, ROOT, every)) if changed else {}
    records = releases(every, pinned, {}, ROOT)
    top = {FILE: environments_json(every)}
    return {**synthesized, **fresh, **({RELEASES: records} if records else {}), ".": top}


@pytest.fixture(scope="session")
def outputs(configs: dict[str, EnvConfig], synthesized: dict[str, dict[str, str]]) -> dict[str, Output]:
    return {name: Output(configs[name], synthesized[name]) for name in configs}


@pytest.fixture(params=ENV_NAMES)
def out(request: pytest.FixtureRequest, outputs: dict[str, Output]) -> Output:
    """Parametrizes a test over every environment."""
    return outputs[request.param]


@pytest.fixture(scope="session")
def variants(configs: dict[str, EnvConfig], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Output]:
    """Every variant of ``tests/variants.py``, synthesized once per session in one App."""
    built = variant_configs.build(configs)

    def render_variants() -> Trees:
        import cdk8s  # noqa: PLC0415

        from vibeyard.chart import VibeyardChart  # noqa: PLC0415

        app = cdk8s.App()
        trees = {}
        for name, cfg in built.items():
            sealed = variant_configs.sealed_data(cfg) if cfg.secrets.provider == "sealed" else None
            trees[name] = render(VibeyardChart(app, name, cfg=cfg, sealed_data=sealed).manifests())
        return trees

    trees = _once(tmp_path_factory, "variants", render_variants)
    return {name: Output(cfg, trees[name]) for name, cfg in built.items()}


VARIANT_NAMES = tuple(variant_configs.VARIANTS)


@pytest.fixture(params=ENV_NAMES + VARIANT_NAMES)
def every(request: pytest.FixtureRequest, outputs: dict[str, Output], variants: dict[str, Output]) -> Output:
    """Parametrizes a test over every environment and every variant: for the validators."""
    name: str = request.param
    return outputs[name] if name in outputs else variants[name]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The one line for real-component tests left out for want of software (tests/real/).

    Here, not in tests/real/conftest.py: under pytest-xdist only this file is loaded by the
    process that prints the summary, and the workers' collection is out of its sight.
    """
    from tests.real.harness import tools  # noqa: PLC0415

    hints = tools.missing()
    if hints and not tools.in_ci():
        terminalreporter.write_line(
            f"SKIPPED the real-component tests (tests/real/, counted as deselected): need {'; '.join(hints)}",
            yellow=True,
        )


# `make test` runs pytest-xdist with --dist loadfile --no-loadscope-reorder: a free worker
# takes the next whole file, in collection order. The slowest files (measured, docs/synth.md)
# go first, so the two workers finish together instead of one running a long file it picked
# up last. The second needs no session render, so its worker starts at once while the
# first renders (the other waits on the render's lock, see _once).
SLOW_FIRST = (
    "test_restarts.py",
    "test_deploy_run.py",
    "test_release_flow.py",
    "test_security_network.py",
    "test_cli.py",
    "test_security_checkov.py",
    "test_synth_crash.py",
    "test_review_diff.py",
    "test_config_slips.py",
    "test_passwords.py",
    "test_postgres_pgbouncer.py",
    "test_doc_commands.py",
    "test_prometheus.py",
    "test_new_env.py",
    "test_network_diagrams.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: file order otherwise
