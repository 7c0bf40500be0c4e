#!/usr/bin/env python3
"""Benchmark of synth and test time against the targets: ``make bench`` (``BENCH_ARGS=--help``).

Targets (docs/synth.md "Speed"), from medians measured in one run:

- ``make synth`` (warm: nothing to install; every environment) <= 2.0 x the jsii floor:
  a Python process that loads cdk8s and cdk8s-plus-28 and synthesizes one object;
- ``make test`` <= 45 s on the 2-core machine after installs (``--skip-test`` leaves it out).

``python main.py``, ``python -O main.py`` (what make runs) and ``cdk8s synth`` are shown
beside them, so a regression can be placed.

Every figure is a fresh subprocess timed with ``time.perf_counter``. The commands
are run in rounds, one of each per round, so that a change in machine load hits
all of them alike and the ratios stay fair; the first round is a warm-up (``.pyc``
written, caches filled) and is not counted. Synths run in a temporary copy of the
repository, so the real ``dist/`` (release records included) is never touched.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NODE_BIN = ROOT / "node_modules" / ".bin"

FLOOR = (
    "import cdk8s, cdk8s_plus_28 as kplus; app = cdk8s.App(); chart = cdk8s.Chart(app, 'floor'); "
    "kplus.ConfigMap(chart, 'config', data={'key': 'value'}); app.synth_yaml()"
)
FLOOR_TARGET = 2.0
TEST_TARGET = 45.0


@dataclass(frozen=True)
class Stat:
    median: float
    low: float
    high: float

    @staticmethod
    def of(samples: Sequence[float]) -> Stat:
        return Stat(statistics.median(samples), min(samples), max(samples))

    def __str__(self) -> str:
        return f"{self.median:.2f} s ({self.low:.2f}-{self.high:.2f})"


def bench_environ() -> dict[str, str]:
    """The caller's environment without our knobs; ``.pyc`` writing allowed so that
    runs after the warm-up measure a warm start, as a developer's machine sees it."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("VIBEYARD_", "CDK8S_", "MAKE", "MFLAGS")) and k != "PYTHONDONTWRITEBYTECODE"
    }
    env["PATH"] = f"{NODE_BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


FAILURES: list[str] = []


def timed(cmd: Sequence[str], cwd: Path, env: dict[str, str], *, must_pass: bool = True) -> float:
    """Wall time of ``cmd``. A synth must succeed; a failing test run is still timed
    (the time is what we measure) and noted under the table."""
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        if must_pass:
            sys.exit(f"bench: {shlex.join(cmd)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        note = f"`{shlex.join(cmd)}` exited {done.returncode}"
        if note not in FAILURES:
            FAILURES.append(note)
    return elapsed


def copy_repo(dest: Path) -> Path:
    """What ``main.py``, ``make synth`` and ``cdk8s synth`` need; the installs are linked,
    and the lock files keep their times, so ``make`` sees its stamps as up to date."""
    dest.mkdir()
    for name in (
        "main.py",
        "cdk8s.yaml",
        "Makefile",
        "Pipfile",
        "Pipfile.lock",
        "package.json",
        "package-lock.json",
    ):
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, dest / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("constructs", "imports", "scripts", "secrets", "crds", "dist"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, dest / name, ignore=ignore)
    for name in ("node_modules", ".venv", ".tools"):
        if (ROOT / name).is_dir():
            (dest / name).symlink_to(ROOT / name)
    return dest


def first_line(cmd: Sequence[str]) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False, env=bench_environ())
    except OSError:
        return "n/a"
    text = (done.stdout or done.stderr).strip()
    return text.splitlines()[0] if text else "n/a"


def machine(python: str) -> list[str]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        cpu = found.group(1).strip() if found else cpu
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    node = str(NODE_BIN / "node") if (NODE_BIN / "node").exists() else "node"
    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return [
        f"- CPU: {cpu}, {cores} cores available (nproc); load average at the end {load}",
        f"- OS: {platform.system()} {platform.release()} ({platform.machine()})",
        f"- Python: {first_line([python, '--version'])} ({python})",
        f"- Node: {first_line([node, '--version'])}",
    ]


def verdict(ratio: float, target: float) -> str:
    return "met" if ratio <= target else "MISSED"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5, help="counted rounds (default 5)")
    parser.add_argument("--test-runs", type=int, default=1, help="timed runs of the test command (default 1)")
    parser.add_argument("--skip-test", action="store_true", help="leave out the test command")
    parser.add_argument("--test-cmd", default="make test", help="the test command (default 'make test')")
    parser.add_argument(
        "--python", default=sys.executable, help="interpreter for the synths (default: this one)"
    )
    args = parser.parse_args(argv)
    if args.runs < 1 or args.test_runs < 1:
        parser.error("--runs and --test-runs must be at least 1")
    env = bench_environ()
    py = args.python
    cdk8s = str(NODE_BIN / "cdk8s")
    if not Path(cdk8s).exists() or shutil.which("make") is None:
        sys.exit("bench: run `make install` first (needs make and node_modules)")
    commands = {
        "floor": [py, "-c", FLOOR],
        "main": [py, "main.py"],
        "optimized": [py, "-O", "main.py"],
        "make": ["make", "--no-print-directory", "synth"],
        "cli": [cdk8s, "synth"],
    }
    samples: dict[str, list[float]] = {name: [] for name in commands}
    with tempfile.TemporaryDirectory(prefix="vibeyard-bench-") as tmp:
        repo = copy_repo(Path(tmp) / "repo")
        for round_ in range(args.runs + 1):
            print(f"bench: round {round_}/{args.runs}{' (warm-up)' if not round_ else ''}", file=sys.stderr)
            for name, cmd in commands.items():
                elapsed = timed(cmd, repo, env)
                if round_:
                    samples[name].append(elapsed)
    results = {name: Stat.of(values) for name, values in samples.items()}
    if not args.skip_test:
        cmd = shlex.split(args.test_cmd)
        print(f"bench: {args.test_cmd} x{args.test_runs}", file=sys.stderr)
        results["test"] = Stat.of([timed(cmd, ROOT, env, must_pass=False) for _ in range(args.test_runs)])
    print(report(results, args, py))
    return 0


def report(results: dict[str, Stat], args: argparse.Namespace, py: str) -> str:
    floor, main, optimized, make, cli = (results[k] for k in ("floor", "main", "optimized", "make", "cli"))
    ratio = make.median / floor.median
    lines = [
        f"Measured with `{shlex.join(['python', 'scripts/bench.py', *sys.argv[1:]])}`: median of "
        f"{args.runs} rounds after one warm-up round (min-max in brackets).",
        "",
        *machine(py),
        "",
        "| Measurement | Median (min-max) | Ratio | Target | Result |",
        "|---|---|---|---|---|",
        f"| floor: Python, cdk8s and cdk8s-plus-28, one object synthesized | {floor} | 1.00 | | |",
        f"| `make synth` (warm), every environment | {make} | {ratio:.2f} x floor "
        f"| <= {FLOOR_TARGET} x floor | {verdict(ratio, FLOOR_TARGET)} |",
        f"| `python -O main.py` (what `make synth` runs) | {optimized} | "
        f"{optimized.median / floor.median:.2f} x floor | | |",
        f"| `python main.py` | {main} | {main.median / floor.median:.2f} x floor | | |",
        f"| `cdk8s synth` (the CLI convention) | {cli} | {cli.median / floor.median:.2f} x floor | | |",
    ]
    if "test" in results:
        test = results["test"]
        lines.append(
            f"| `{args.test_cmd}` | {test} | | <= {TEST_TARGET:.0f} s | "
            f"{'met' if test.median <= TEST_TARGET else 'MISSED'} |"
        )
    lines += [
        "",
        f"make synth / floor = {ratio:.2f} (target <= {FLOOR_TARGET}): {verdict(ratio, FLOOR_TARGET)}",
    ]
    lines += [f"Note: {failure}; its time is still the full run." for failure in FAILURES]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
