#!/usr/bin/env python3
"""Benchmark of synth and test time: ``make bench`` (or ``python scripts/bench.py``).

Every measurement is a fresh subprocess timed with ``time.perf_counter``; each is
run once untimed (warm caches, compiled ``.pyc``) and then ``--runs`` times, and
the median is reported. Synths run in a temporary copy of the repository, so the
real ``dist/`` is never touched.

(a)  floor: Python + jsii start-up + synth of an empty cdk8s chart
(a') the same with every jsii library the app loads (cdk8s-plus, imported CRDs)
(b)  ``python main.py``: validate, synthesize and publish every environment
(c)  ``cdk8s synth --app "<python> main.py"`` (and through ``pipenv run`` when available)
(d)  in-memory synth of all environments with prod at 1, 10 and 50 worker pools
(e)  ``make test`` (or ``--test-cmd``), without installs

The output is a Markdown section to paste into the README's "Speed".
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NODE_BIN = ROOT / "node_modules" / ".bin"

FLOOR = "import cdk8s; app = cdk8s.App(); cdk8s.Chart(app, 'empty'); app.synth_yaml()"
FLOOR_WITH_LIBRARIES = (
    "import sys; sys.path[:0] = ['constructs', '.']; import cdk8s; import vibeyard.chart; "
    "import vibeyard.gitops_chart; app = cdk8s.App(); cdk8s.Chart(app, 'empty'); app.synth_yaml()"
)
# Runs inside the temporary copy; prints the in-process synth seconds on its last line.
SCALING = """
import sys, time
sys.path[:0] = ['constructs', '.']
from dataclasses import replace
from pathlib import Path
from vibeyard.synth.cli import synthesize
from vibeyard.config import ENVIRONMENTS
from vibeyard.synth.inputs import resolve
from vibeyard.config.environments import DEFAULT_POOL
n = int(sys.argv[1])
prod = ENVIRONMENTS['prod']
pools = tuple(replace(DEFAULT_POOL, name=f'pool-{i:02d}', queues=(f'queue-{i:02d}',)) for i in range(n))
quota = replace(prod.quota, cpu_requests='1000', memory_requests='4000Gi', memory_limits='8000Gi', pods=10000)
envs = {**ENVIRONMENTS, 'prod': replace(prod, workers=pools, quota=quota)}
configs = resolve(None, overrides={}, environments=envs)
import cdk8s, vibeyard.chart, vibeyard.gitops_chart  # start-up is (a'), not part of the scaling
start = time.perf_counter()
trees = synthesize(configs, Path('.'))
print(sum(len(files) for files in trees.values()))
print(time.perf_counter() - start)
"""


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
        if not k.startswith(("VIBEYARD_", "CDK8S_")) and k != "PYTHONDONTWRITEBYTECODE"
    }
    env["PATH"] = f"{NODE_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["CDK8S_CHECK_UPGRADE"] = "false"
    return env


FAILURES: list[str] = []


def run(cmd: Sequence[str], cwd: Path, env: dict[str, str], *, must_pass: bool = True) -> tuple[float, str]:
    """Wall time and stdout of ``cmd``. A synth must succeed; a failing test run is
    still timed (the time is what we measure) and noted under the table."""
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        if must_pass:
            sys.exit(f"bench: {shlex.join(cmd)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        note = f"`{shlex.join(cmd)}` exited {done.returncode}"
        if note not in FAILURES:
            FAILURES.append(note)
    return elapsed, done.stdout


def measure(label: str, runs: int, once: Callable[[], float]) -> Stat:
    print(f"bench: {label} ...", file=sys.stderr, flush=True)
    once()  # warm-up, not counted
    return Stat.of([once() for _ in range(runs)])


def copy_repo(dest: Path) -> Path:
    """What ``main.py`` and ``cdk8s synth`` need, with node_modules (and .venv) linked."""
    dest.mkdir()
    for name in ("main.py", "cdk8s.yaml", "Pipfile", "Pipfile.lock"):
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, dest / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("constructs", "imports", "secrets"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, dest / name, ignore=ignore)
    for name in ("node_modules", ".venv"):
        if (ROOT / name).is_dir():
            (dest / name).symlink_to(ROOT / name)
    return dest


def first_line(cmd: Sequence[str]) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False, env=bench_environ())
    except OSError:
        return "n/a"
    return (done.stdout or done.stderr).strip().splitlines()[0] if (done.stdout or done.stderr) else "n/a"


def machine(python: str) -> list[str]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        cpu = found.group(1).strip() if found else cpu
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    node = str(NODE_BIN / "node") if (NODE_BIN / "node").exists() else "node"
    return [
        f"- CPU: {cpu}, {cores} cores available (nproc)",
        f"- OS: {platform.system()} {platform.release()} ({platform.machine()})",
        f"- Python: {first_line([python, '--version'])} ({python})",
        f"- Node: {first_line([node, '--version'])}",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5, help="timed runs per measurement (default 5)")
    parser.add_argument("--test-runs", type=int, default=3, help="timed runs of the test command (default 3)")
    parser.add_argument("--pools", default="1,10,50", help="worker pool counts for (d) (default 1,10,50)")
    parser.add_argument("--skip-test", action="store_true", help="skip (e), the test command")
    parser.add_argument(
        "--test-cmd", default="make test", help="the command timed in (e) (default 'make test')"
    )
    parser.add_argument(
        "--python", default=sys.executable, help="interpreter for the synths (default: this one)"
    )
    args = parser.parse_args(argv)
    if args.runs < 1 or args.test_runs < 1:
        parser.error("--runs and --test-runs must be at least 1")
    pools = [int(n) for n in args.pools.split(",")]
    if len(pools) < 2 or sorted(pools) != pools or pools[0] < 1:
        parser.error("--pools needs at least two increasing counts, like 1,10,50")

    env = bench_environ()
    py = args.python
    results: dict[str, Stat] = {}
    scaling: dict[int, tuple[Stat, Stat, int]] = {}
    with tempfile.TemporaryDirectory(prefix="vibeyard-bench-") as tmp:
        repo = copy_repo(Path(tmp) / "repo")

        def timed(cmd: Sequence[str]) -> Callable[[], float]:
            return lambda: run(cmd, repo, env)[0]

        results["a"] = measure("(a) floor", args.runs, timed([py, "-c", FLOOR]))
        results["a2"] = measure("(a') floor + libraries", args.runs, timed([py, "-c", FLOOR_WITH_LIBRARIES]))
        results["b"] = measure("(b) python main.py", args.runs, timed([py, "main.py"]))
        cdk8s = str(NODE_BIN / "cdk8s")
        if not Path(cdk8s).exists():
            sys.exit(f"bench: {cdk8s} is missing; run `make install` first")
        results["c"] = measure(
            "(c) cdk8s synth", args.runs, timed([cdk8s, "synth", "--app", f"{shlex.quote(py)} main.py"])
        )
        pipenv = shutil.which("pipenv", path=env["PATH"])
        if pipenv and (repo / ".venv").exists():
            results["c2"] = measure("(c') cdk8s synth via pipenv", args.runs, timed([cdk8s, "synth"]))

        for n in pools:
            samples: list[tuple[float, float, int]] = []

            def once(n: int = n, samples: list[tuple[float, float, int]] = samples) -> float:
                wall, out = run([py, "-c", SCALING, str(n)], repo, env)
                count, seconds = out.split()[-2:]
                samples.append((wall, float(seconds), int(count)))
                return wall

            measure(f"(d) {n} worker pools", args.runs, once)
            timed_samples = samples[1:]  # the first one is the warm-up
            scaling[n] = (
                Stat.of([s[0] for s in timed_samples]),
                Stat.of([s[1] for s in timed_samples]),
                timed_samples[-1][2],
            )

    if not args.skip_test:
        cmd = shlex.split(args.test_cmd)
        results["e"] = measure(
            f"(e) {args.test_cmd}", args.test_runs, lambda: run(cmd, ROOT, env, must_pass=False)[0]
        )

    print(report(results, scaling, args, py))
    return 0


def report(
    results: dict[str, Stat], scaling: dict[int, tuple[Stat, Stat, int]], args: argparse.Namespace, py: str
) -> str:
    a, a2, b, c = results["a"], results["a2"], results["b"], results["c"]
    ratio = b.median / a.median
    lines = [
        f"Measured with `{shlex.join(['python', 'scripts/bench.py', *sys.argv[1:]])}`: "
        f"median of {args.runs} runs after one warm-up (min-max in brackets).",
        "",
        *machine(py),
        "",
        "| | Measurement | Median (min-max) | Target | Result |",
        "|---|---|---|---|---|",
        f"| a | floor: Python + jsii start-up + empty chart | {a} | | |",
        f"| a' | floor + the app's jsii libraries (cdk8s-plus, CRD imports) | {a2} | | "
        f"{a2.median / a.median:.2f}x a |",
        f"| b | `python main.py`, all environments | {b} | <= 1.5x a | "
        f"{ratio:.2f}x a, {b.median / a2.median:.2f}x a' - {'met' if ratio <= 1.5 else 'MISSED'} |",
        f'| c | `cdk8s synth --app "python main.py"` | {c} | c - b small | '
        f"c - b = {c.median - b.median:+.2f} s |",
    ]
    if "c2" in results:
        c2 = results["c2"]
        lines.append(
            f"| c' | `cdk8s synth` (app: `pipenv run python main.py`) | {c2} | | "
            f"pipenv adds {c2.median - c.median:+.2f} s |"
        )
    counts = sorted(scaling)
    for n in counts:
        wall, synth, files = scaling[n]
        lines.append(
            f"| d | {n} worker pool(s) in prod ({files} files) | {wall} | linear | "
            f"synthesize() alone {synth} |"
        )
    if "e" in results:
        e = results["e"]
        lines.append(
            f"| e | `{args.test_cmd}` | {e} | <= 60 s on 2 cores | {'met' if e.median <= 60 else 'MISSED'} |"
        )
    lo, mid, hi = counts[0], counts[len(counts) // 2], counts[-1]
    syn = {n: scaling[n][1].median for n in counts}
    per_pool = (syn[hi] - syn[lo]) / (hi - lo)
    lines += [
        "",
        f"Scaling (d), `synthesize()` time without start-up: {per_pool * 1000:.1f} ms per extra worker pool",
    ]
    if lo < mid < hi:
        first = (syn[mid] - syn[lo]) / (mid - lo)
        second = (syn[hi] - syn[mid]) / (hi - mid)
        linear = 0.67 <= second / first <= 1.5 if first > 0 else False
        lines.append(
            f"({first * 1000:.1f} ms/pool from {lo} to {mid}, "
            f"{second * 1000:.1f} ms/pool from {mid} to {hi}: "
            f"ratio {second / first if first > 0 else float('nan'):.2f}, "
            f"{'linear' if linear else 'NOT linear'})."
        )
    lines += [f"Note: {failure} during (e); its time is still the full run." for failure in FAILURES]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
