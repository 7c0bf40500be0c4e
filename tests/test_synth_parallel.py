"""Parallel rendering: how charts are split, and what comes back from a worker.

The worker protocol is exercised with stand-in workers (a few lines of Python on
the same pipes) so no test here starts jsii; the real workers are compared byte
for byte with an in-process synth in test_cli.py (``python -O main.py --jobs 2``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_synth_failures import stub_render_units
from vibeyard.config import ENVIRONMENTS, ConfigError
from vibeyard.synth import cli, cpu, parallel
from vibeyard.synth.charts import Unit, units_for
from vibeyard.synth.usage import parse

CONFIGS = list(ENVIRONMENTS.values())
UNITS = units_for(CONFIGS, {}, CONFIGS)  # dev, staging, prod (config order), then argocd
FILES = {"dev": 31, "staging": 49, "prod": 53, "argocd": 3}


def by_files(unit: Unit) -> int:
    return FILES[unit.label]


def test_the_heaviest_share_is_rendered_here_and_loads_are_balanced() -> None:
    labels = [u.label for u in UNITS]
    plan = parallel.split(UNITS, 2, by_files)
    shares = [sorted(labels[i] for i in share) for share in plan]
    # prod+argocd = 56 and staging+dev = 80 is the best split of 31/49/53/3 into two;
    # the heavier share stays in this process, which starts jsii before any worker can.
    assert shares == [["dev", "staging"], ["argocd", "prod"]]
    assert sorted(i for share in plan for i in share) == list(range(len(UNITS)))


def test_a_share_too_small_for_a_worker_is_folded_into_another() -> None:
    """One environment plus argocd (53 and 3 files): a second jsii start-up would cost more."""
    prod_and_argocd = [u for u in UNITS if u.label in ("prod", "argocd")]
    assert parallel.split(prod_and_argocd, 2, by_files) == [[0, 1]]
    # Four charts over four processes: argocd (3 of 136) joins the lightest other share.
    assert [len(share) for share in parallel.split(UNITS, 4, by_files)] == [1, 1, 2]


def test_a_split_never_has_more_shares_than_units_or_empty_ones() -> None:
    assert parallel.split(UNITS, 1, by_files) == [[0, 1, 2, 3]]
    assert parallel.split(UNITS[:1], 2, by_files) == [[0]]
    even = parallel.split(UNITS, 16, lambda unit: 10)
    assert sorted(len(share) for share in even) == [1, 1, 1, 1]


def test_a_charts_weight_is_its_file_count_from_the_last_synth(tmp_path: Path) -> None:
    (tmp_path / "prod").mkdir()
    for i in range(7):
        (tmp_path / "prod" / f"{i}.yaml").write_text("x")
    weight = parallel.dist_weight(tmp_path)
    prod = next(u for u in UNITS if u.label == "prod")
    dev = next(u for u in UNITS if u.label == "dev")
    assert (weight(prod), weight(dev)) == (7, 40)  # no folder yet: a default


def _fake_worker(monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    """Workers run ``body`` instead of ``serve()``: same interpreter, same arguments, same pipes."""
    boot = "import sys, json, pickle; sys.path[:] = json.loads(sys.argv[1]); " + body
    monkeypatch.setattr(parallel, "_BOOT", boot)
    monkeypatch.setattr(parallel, "render_units", stub_render_units)


def test_a_config_error_in_a_worker_comes_back_as_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_worker(
        monkeypatch,
        "from vibeyard.config import ConfigError; units = pickle.load(sys.stdin.buffer); "
        "err = ConfigError(f'{units[0].label}: x=1 is invalid: y'); "
        "sys.stdout.buffer.write(pickle.dumps(('error', err, '')))",
    )
    with pytest.raises(ConfigError, match=r"^prod: x=1 is invalid: y$"):  # the worker's first unit
        parallel.render_parallel(UNITS, 2, by_files)


def test_a_worker_that_dies_is_an_error_not_a_hang(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_worker(monkeypatch, "sys.exit(3)")
    with pytest.raises(parallel.WorkerError, match="a render worker exited with code 3 before returning"):
        parallel.render_parallel(UNITS, 2, by_files)


def test_a_workers_result_is_merged_in_unit_order(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_worker(
        monkeypatch,
        "units = pickle.load(sys.stdin.buffer); "
        "sys.stdout.buffer.write(pickle.dumps(('ok', [(u.label, {'from': 'worker'}) for u in units], '')))",
    )
    trees = parallel.render_parallel(UNITS, 2, by_files)
    assert list(trees) == ["dev", "staging", "prod", "argocd"]
    assert [trees[name] == {"from": "worker"} for name in trees] == [False, False, True, True]


def test_an_idle_worker_exits_without_starting_jsii(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a config error does to the workers started ahead: they see stdin close, and go.
    With no Node to start (JSII_NODE points nowhere), starting jsii would fail the worker."""
    monkeypatch.setenv("JSII_NODE", "/nonexistent/node")
    worker = parallel._Worker()
    worker.send(None)
    assert worker.proc.wait(timeout=60) == 0
    assert worker.proc.stdout is not None and worker.proc.stdout.read() == b""
    worker.kill()


_FLAG_PROBE = """
import json, sys
sys.path[:] = json.loads(sys.argv[1])
from vibeyard.synth import parallel
worker = parallel._Worker()
print(worker.proc.args[1])
worker.send(None)
sys.exit(worker.proc.wait(timeout=60))
"""


@pytest.mark.parametrize(("flags", "first_arg"), [([], "-c"), (["-O"], "-O"), (["-OO"], "-OO")])
def test_a_worker_runs_as_optimized_as_the_synth(flags: list[str], first_arg: str) -> None:
    """``make synth`` runs ``python -O``; a worker without -O would do the type checks it skips."""
    done = subprocess.run(
        [sys.executable, *flags, "-c", _FLAG_PROBE, json.dumps(sys.path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, first_arg + "\n", "")


@pytest.mark.parametrize(
    ("idle", "argv", "expected"),
    [
        (1.0, [], 2),  # the other core is free: a worker
        (0.7, [], 2),
        (0.5, [], 1),  # mostly busy: a second jsii start-up would compete for it
        (0.0, [], 1),
        (None, [], 2),  # unknown (no /proc/stat): every core
        (0.0, ["--jobs", "2"], 2),  # asked for: as asked
    ],
)
def test_workers_only_for_idle_cores(
    monkeypatch: pytest.MonkeyPatch, idle: float | None, argv: list[str], expected: int
) -> None:
    monkeypatch.setattr(cli, "idle_cores", lambda: idle)
    monkeypatch.setattr(cli, "available_cores", lambda: 2)
    opts = parse(argv, {}, list(ENVIRONMENTS))
    assert cli._processes(opts, None) == expected
    assert cli._processes(parse([], {}, list(ENVIRONMENTS)), 1) == 1  # in-process callers choose


def test_idle_cores_reads_the_kernels_counters_since_import(monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = iter([(500, 1000), (530, 1040)])  # 30 of 40 ticks idle, on 4 cores: 3 idle cores
    monkeypatch.setattr(cpu, "_cpu_ticks", lambda: next(ticks))
    monkeypatch.setattr(cpu, "_AT_START", cpu._cpu_ticks())
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    assert cpu.idle_cores() == 3.0
