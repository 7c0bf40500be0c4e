"""Crashes and Ctrl-C at every write and rename of a release: dist/ and releases/ stay one.

A release (``VIBEYARD_IMAGE_TAG=7.7.7 python main.py prod``) is run again and
again in a child process that is stopped at exactly the N-th filesystem change
it makes inside the repository (every mkdir, link, write, rename and swap, and
the first and last of the deletions that follow; a write is stopped halfway
through its bytes), for every such N:

- SIGKILL: right after the crash ``dist/`` and ``releases/`` are both old,
  unless a commit record exists; after the next plain synth they are both old
  (crash before the commit point) or both new (after it), with nothing left over;
- SIGINT (Ctrl-C): one line, exit 130, nothing left over, and both old before
  the commit begins or both new once it has.

The children are forked from a small "zygote" process (a fresh interpreter,
without jsii) so each run costs milliseconds; rendering is the stub of
test_synth_failures.py. The sweep includes the probe that found the original
bug: SIGKILL while ``releases/prod.json`` is being written. Two more tests use
the real entry point: Ctrl-C while jsii renders in two processes, and SIGTERM.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.test_cli import clean_environ
from tests.test_cli import copy_repo as copy_sources
from tests.test_synth_failures import copy_repo, leftovers, make_repo, snapshot, stub_render_units
from vibeyard.synth import cli, publish
from vibeyard.synth.interrupt import INTERRUPTS
from vibeyard.synth.publish import _write

ROOT = Path(__file__).resolve().parents[1]
RELEASE = (["prod"], {"VIBEYARD_IMAGE_TAG": "7.7.7"})
COMMIT_RENAME = "rename .synth-txn/commit.json.tmp .synth-txn/commit.json"
SHIELD_START = "write .synth-txn/commit.json.tmp"

# ------------------------------------------------------------------ the child side (in the zygote)


def _install_hooks(root: str, at: int, mode: str, ops: list[str]) -> None:
    """Count every change under ``root``; at the ``at``-th, send ``mode``'s signal to ourselves."""
    sig = {"kill": signal.SIGKILL, "int": signal.SIGINT}.get(mode)

    def point(what: str) -> None:
        ops.append(what)
        if len(ops) == at and sig is not None:
            os.kill(os.getpid(), sig)

    def rel(p: Any) -> str:
        return os.path.relpath(os.path.abspath(os.fspath(p)), root)

    def inside(p: Any) -> bool:
        return isinstance(p, str | bytes | os.PathLike) and not rel(p).startswith("..")

    def wrap(module: Any, name: str, nargs: int) -> None:
        real = getattr(module, name)

        def hooked(*args: Any, **kwargs: Any) -> Any:
            paths = args[:nargs]
            if kwargs.get("dir_fd") is not None:  # shutil.rmtree's deletions, relative to a folder
                point(f"{name} (in a folder being deleted) {os.fspath(paths[0])}")
            elif any(inside(p) for p in paths):
                point(f"{name} {' '.join(rel(p) for p in paths)}")
            return real(*args, **kwargs)

        setattr(module, name, hooked)

    for name, nargs in [("rename", 2), ("replace", 2), ("link", 2), ("symlink", 2), ("mkdir", 1)]:
        wrap(os, name, nargs)
    for name in ("unlink", "rmdir"):
        wrap(os, name, 1)
    wrap(publish, "_rename_exchange", 2)
    real_open = builtins.open

    class HalfwayWriter:
        def __init__(self, fh: Any, what: str) -> None:
            self.fh, self.what = fh, what

        def __enter__(self) -> HalfwayWriter:
            return self

        def __exit__(self, *exc: object) -> None:
            self.fh.close()

        def write(self, text: str) -> int:
            half = len(text) // 2
            self.fh.write(text[:half])
            self.fh.flush()
            point(self.what)
            return int(self.fh.write(text[half:])) + half

    def hooked_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        fh = real_open(file, mode, *args, **kwargs)
        if any(c in mode for c in "wax") and inside(file):
            return HalfwayWriter(fh, f"write {rel(file)}")
        return fh

    builtins.open = hooked_open


def _child(run: dict[str, Any]) -> None:
    """One synth in a forked child: hooks, signal handling as in ``cli.run``, then exit."""
    log = os.open(run["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log, 2)
    sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
    setattr(cli, "render_units", stub_render_units)  # noqa: B010 (not re-exported, for mypy)
    INTERRUPTS.install()
    ops: list[str] = []
    _install_hooks(run["repo"], run["at"], run["mode"], ops)
    code = cli.main(run["argv"], run["environ"], Path(run["repo"]))
    Path(run["log"] + ".ops").write_text(json.dumps(ops))
    sys.stderr.flush()
    os._exit(code)


def zygote(runs: list[dict[str, Any]]) -> None:
    """Fork one child per run, in order; print each one's exit (a negative number: the signal)."""
    statuses = []
    for run in runs:
        pid = os.fork()
        if pid == 0:
            try:
                _child(run)
            finally:
                os._exit(99)
        _, status = os.waitpid(pid, 0)
        statuses.append(os.waitstatus_to_exitcode(status))
    print(json.dumps(statuses))


_BOOT = (
    "import sys, json; sys.path[:] = json.loads(sys.argv[1]); "
    "from tests.test_synth_crash import zygote; zygote(json.loads(sys.argv[2]))"
)


def run_zygote(runs: list[dict[str, Any]], processes: int = 2) -> list[int]:
    """Each run's exit status, in order. Runs on the same repository stay in one zygote,
    in order; the rest are spread over ``processes`` zygotes running side by side."""
    chunks: list[list[int]] = [[] for _ in range(processes)]
    repos: dict[str, int] = {}
    for i, run in enumerate(runs):
        slot = repos.setdefault(run["repo"], len(repos) % processes)
        chunks[slot].append(i)
    zygotes = [
        (
            chunk,
            subprocess.Popen(
                [sys.executable, "-c", _BOOT, json.dumps(sys.path), json.dumps([runs[i] for i in chunk])],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=ROOT,
            ),
        )
        for chunk in chunks
        if chunk
    ]
    statuses = [0] * len(runs)
    for chunk, proc in zygotes:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        results: list[int] = json.loads(out.splitlines()[-1])
        for i, status in zip(chunk, results, strict=True):
            statuses[i] = status
    return statuses


# ------------------------------------------------------------------ the test side


@dataclass
class Run:
    repo: Path
    at: int
    mode: str
    argv: list[str]
    environ: dict[str, str]

    @property
    def log(self) -> Path:
        return self.repo.with_name(self.repo.name + ".log")

    def spec(self) -> dict[str, Any]:
        return {
            "repo": str(self.repo),
            "at": self.at,
            "mode": self.mode,
            "argv": self.argv,
            "environ": self.environ,
            "log": str(self.log),
        }

    def ops(self) -> list[str]:
        ops: list[str] = json.loads(Path(f"{self.log}.ops").read_text())
        return ops


@dataclass
class World:
    base: Path
    pristine: Path
    old: dict[str, bytes | None]
    new: dict[str, bytes | None]
    ops: list[str]  # every change of one release, in order

    def copy(self, name: str) -> Path:
        return copy_repo(self.pristine, self.base / name)

    def plain_synth(self, repo: Path) -> int:
        """What a person runs next: the same command without the override (in-process, stubbed)."""
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(cli, "render_units", stub_render_units)
            return cli.main(RELEASE[0], {}, repo)


def _quietly(fn: Callable[[], int]) -> int:
    with contextlib.redirect_stderr(io.StringIO()):
        return fn()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("crash")
    pristine = make_repo(base / "pristine")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cli, "render_units", stub_render_units)
        assert _quietly(lambda: cli.main([], {}, pristine)) == 0
        reference = copy_repo(pristine, base / "reference")
        assert _quietly(lambda: cli.main(*RELEASE, reference)) == 0
    counting = Run(copy_repo(pristine, base / "counting"), 0, "count", *RELEASE)
    assert run_zygote([counting.spec()]) == [0]
    world = World(base, pristine, snapshot(pristine), snapshot(reference), counting.ops())
    assert world.old != world.new
    yield world


def test_the_sweep_covers_every_step_of_the_transaction(world: World) -> None:
    """Guards the sweeps below: they stop the child at each of these, commit and swaps included."""
    ops = world.ops
    for step in (
        "mkdir .synth-txn",
        "write .synth-txn/dist/prod/09-deployment-prod.yaml",
        "link dist/dev/09-deployment-dev.yaml .synth-txn/dist/dev/09-deployment-dev.yaml",
        "write .synth-txn/releases/prod.json",
        SHIELD_START,
        COMMIT_RENAME,
        "_rename_exchange .synth-txn/dist dist",
        "_rename_exchange .synth-txn/releases releases",
    ):
        assert step in ops, f"{step!r} not among the {len(ops)} steps: {ops}"
    assert (
        ops.index(SHIELD_START)
        < ops.index(COMMIT_RENAME)
        < ops.index("_rename_exchange .synth-txn/dist dist")
    )
    assert any(op.startswith("unlink (in a folder being deleted)") for op in ops)


def swept(ops: list[str]) -> list[int]:
    """The step numbers to stop at: every creation, write and rename, and of the deletions
    that clean up afterwards (all alike: the old trees going away) the first and the last."""
    deletions = [k for k, op in enumerate(ops, 1) if op.startswith(("unlink", "rmdir"))]
    return [k for k in range(1, len(ops) + 1) if k not in deletions[1:-1]]


def _consistent_or_committed(world: World, repo: Path) -> bool:
    state = snapshot(repo)
    return state in (world.old, world.new) or (repo / ".synth-txn" / "commit.json").is_file()


def test_sigkill_at_every_step_leaves_both_old_or_both_new_and_a_rerun_recovers(world: World) -> None:
    runs = [Run(world.base / f"kill-{k}", k, "kill", *RELEASE) for k in swept(world.ops)]
    for run in runs:
        copy_repo(world.pristine, run.repo)
    statuses = run_zygote([run.spec() for run in runs])
    commit = world.ops.index(COMMIT_RENAME) + 1  # the step number of the commit rename
    problems = []
    for run, status in zip(runs, statuses, strict=True):
        step = f"killed before step {run.at} ({world.ops[run.at - 1]})"
        if status != -signal.SIGKILL:
            problems.append(f"{step}: exited {status}, not killed")
            continue
        if run.at <= commit and snapshot(run.repo) != world.old:
            problems.append(f"{step}: dist/ or releases/ changed before the commit point")
        if not _consistent_or_committed(world, run.repo):
            problems.append(f"{step}: dist/ and releases/ disagree and nothing records how to finish")
        code = _quietly(lambda run=run: world.plain_synth(run.repo))  # type: ignore[misc]
        expected = world.old if run.at <= commit else world.new
        if code != 0 or snapshot(run.repo) != expected or leftovers(run.repo):
            which = "old" if expected is world.old else "new"
            problems.append(f"{step}: the rerun exited {code}, left {leftovers(run.repo)}, not both {which}")
    assert not problems, "\n".join(problems)


def test_ctrl_c_at_every_step_is_one_line_and_all_or_nothing(world: World) -> None:
    runs = [Run(world.base / f"int-{k}", k, "int", *RELEASE) for k in swept(world.ops)]
    for run in runs:
        copy_repo(world.pristine, run.repo)
    statuses = run_zygote([run.spec() for run in runs])
    shield = world.ops.index(SHIELD_START) + 1
    problems = []
    for run, status in zip(runs, statuses, strict=True):
        step = f"Ctrl-C before step {run.at} ({world.ops[run.at - 1]})"
        done = run.at >= shield  # from the commit on, the synth finishes first
        line = "interrupted; dist/ already published\n" if done else "interrupted; dist/ unchanged\n"
        expected = world.new if done else world.old
        got = (status, run.log.read_text(), snapshot(run.repo) == expected, leftovers(run.repo))
        if got != (130, line, True, []):
            problems.append(f"{step}: exit {got[0]}, stderr {got[1]!r}, as expected: {got[2]}, left {got[3]}")
    assert not problems, "\n".join(problems)


def test_a_crash_while_finishing_a_crashed_synth_is_recovered_too(world: World) -> None:
    """Killed right after the commit point, then killed again at every step of the next run."""
    after_commit = world.ops.index(COMMIT_RENAME) + 2
    first = Run(world.base / "again-count", after_commit, "kill", *RELEASE)
    copy_repo(world.pristine, first.repo)
    plain = Run(first.repo, 0, "count", RELEASE[0], {})
    assert run_zygote([first.spec(), plain.spec()]) == [-signal.SIGKILL, 0]
    steps = plain.ops()
    assert steps[0] == "_rename_exchange .synth-txn/dist dist", steps  # the rerun finishes first
    steps = steps[: steps.index("mkdir .synth-txn")]  # then it is an ordinary synth, swept above
    runs = []
    for k in swept(steps):
        crash = Run(world.base / f"again-{k}", after_commit, "kill", *RELEASE)
        copy_repo(world.pristine, crash.repo)
        runs += [crash, Run(crash.repo, k, "kill", RELEASE[0], {})]
    statuses = run_zygote([run.spec() for run in runs])
    assert statuses == [-signal.SIGKILL] * len(runs)
    problems = []
    for run in runs[1::2]:
        step = f"killed again before step {run.at} ({steps[run.at - 1]})"
        if not _consistent_or_committed(world, run.repo):
            problems.append(f"{step}: dist/ and releases/ disagree and nothing records how to finish")
        code = _quietly(lambda run=run: world.plain_synth(run.repo))  # type: ignore[misc]
        if code != 0 or snapshot(run.repo) != world.new or leftovers(run.repo):
            problems.append(f"{step}: the next rerun exited {code}, left {leftovers(run.repo)}, not both new")
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------ concurrent releases

_PAUSED = """
import json, os, sys, time
sys.path[:] = json.loads(sys.argv[1])
from pathlib import Path
from tests.test_synth_failures import stub_render_units
from vibeyard.synth import cli, transaction
spec = json.loads(sys.argv[2])
cli.render_units = stub_render_units
real_commit = transaction.Transaction.commit
def commit(self):
    if spec["pause"]:  # staged, with the other folders carried over: hold here until told
        Path(spec["pause"] + ".staged").touch()
        while not Path(spec["pause"] + ".go").exists():
            time.sleep(0.01)
    real_commit(self)
transaction.Transaction.commit = commit
sys.exit(cli.main(spec["argv"], spec["environ"], Path(spec["repo"])))
"""


def _start(repo: Path, argv: list[str], tag: str, pause: str) -> subprocess.Popen[str]:
    spec = {"repo": str(repo), "argv": argv, "environ": {"VIBEYARD_IMAGE_TAG": tag}, "pause": pause}
    return subprocess.Popen(
        [sys.executable, "-c", _PAUSED, json.dumps(sys.path), json.dumps(spec)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def test_two_concurrent_releases_both_land(world: World) -> None:
    """The probe lost staging's release in 3 of 8 runs: prod had staged (carrying over the
    old staging) when staging published, then prod's swap put the old staging back."""
    repo = world.copy("concurrent")
    pause = str(world.base / "concurrent-pause")
    prod = _start(repo, ["prod"], "7.7.7", pause)
    _wait_for(lambda: Path(pause + ".staged").exists() or prod.poll() is not None, "prod to stage")
    staging = _start(repo, ["staging"], "8.8.8", "")
    waiting = world.base / "concurrent-waiting"

    def staging_waits_or_ends() -> bool:
        if staging.poll() is not None:
            return True
        # The lock message is the first thing staging prints while it waits.
        line = staging.stderr.readline() if staging.stderr else ""
        waiting.write_text(line)
        return bool(line)

    _wait_for(staging_waits_or_ends, "staging to wait for the lock or finish")
    Path(pause + ".go").touch()
    _, prod_err = prod.communicate(timeout=60)
    _, staging_err = staging.communicate(timeout=60)
    assert (prod.returncode, staging.returncode) == (0, 0), prod_err + staging_err
    assert waiting.read_text() == "waiting for another synth of this repository to finish\n"
    releases = {env: json.loads((repo / f"releases/{env}.json").read_text()) for env in ("prod", "staging")}
    assert releases == {"prod": {"tag": "7.7.7"}, "staging": {"tag": "8.8.8"}}
    for env, tag in (("prod", "7.7.7"), ("staging", "8.8.8")):
        assert f"vibeyard:{tag}\n" in (repo / f"dist/{env}/09-deployment-{env}.yaml").read_text()
    assert leftovers(repo) == []


# ------------------------------------------------------------------ the real thing, with jsii


_REAL = """
import json, os, signal, sys
sys.path[:] = json.loads(sys.argv[1])
spec = json.loads(sys.argv[2])
from vibeyard.synth import charts, parallel
import runpy
assert charts.__file__.startswith(os.getcwd() + "/"), charts.__file__  # the copy's code, the copy's dist/
pids = []
real_init = parallel._Worker.__init__
def init(self):
    real_init(self)
    pids.append(self.proc.pid)
    open(spec["pids"], "w").write(json.dumps(pids))
parallel._Worker.__init__ = init
real_render = charts.render
def render(manifests):
    os.killpg(0, signal.SIGINT)  # what the terminal does: the whole foreground group
    return real_render(manifests)
charts.render = render
sys.argv = ["main.py", *spec["argv"]]
runpy.run_path("main.py", run_name="__main__")
"""


def _run_real(repo: Path, spec: dict[str, Any], environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``main.py`` of the copy ``repo``, never of this checkout: only the copy's sources on the path."""
    ours = {"", str(ROOT), str(ROOT / "constructs"), str(ROOT / "tests")}
    path = [str(repo / "constructs"), str(repo), *(p for p in sys.path if p not in ours)]
    return subprocess.run(
        [sys.executable, "-c", _REAL, json.dumps(path), json.dumps(spec)],
        cwd=repo,
        env={**clean_environ(), **environ},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        start_new_session=True,
    )


def _real_repo(base: Path, committed_output: dict[str, dict[str, str]]) -> Path:
    """A copy of the sources with the committed releases/ and the dist/ they render."""
    repo = copy_sources(base)
    shutil.copytree(ROOT / "releases", repo / "releases")
    _write(repo / "dist", committed_output)
    return repo


def test_real_ctrl_c_while_rendering_in_parallel_is_one_line_and_leaves_no_process(
    tmp_path: Path, committed_output: dict[str, dict[str, str]]
) -> None:
    """Ctrl-C reaches this process and its jsii Node; the workers are stopped by it."""
    repo = _real_repo(tmp_path / "repo", committed_output)
    before = snapshot(repo)
    pids = tmp_path / "pids.json"
    spec = {"argv": ["--jobs", "2"], "pids": str(pids)}
    done = _run_real(repo, spec, {})
    assert (done.returncode, done.stderr, done.stdout) == (130, "interrupted; dist/ unchanged\n", "")
    assert snapshot(repo) == before and leftovers(repo) == []
    workers = json.loads(pids.read_text())
    assert len(workers) == 1

    def alive(pgid: int) -> list[int]:
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                found.append(int(stat.parent.name))
        return found

    _wait_for(lambda: not any(alive(pid) for pid in workers), "the worker and its Node to exit")


_TERM = """
import json, os, signal, sys
from pathlib import Path
sys.path[:] = json.loads(sys.argv[1])
from vibeyard.synth import cli
real_synth = cli._synth
def synth(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGTERM)  # arrives while the synth runs, before anything is staged
    return real_synth(*args, **kwargs)
cli._synth = synth
real_main = cli.main
scratch = Path(sys.argv[2])  # never this checkout
cli.main = lambda argv, environ, root, **kw: real_main(argv, environ, scratch, **kw)
sys.argv = ["main.py", "prod"]
cli.run()
"""


def test_sigterm_through_the_entry_point_is_one_line_and_exit_143(tmp_path: Path) -> None:
    """``cli.run`` installs the handlers (without them SIGTERM kills silently) and exits
    with ``os._exit`` after the line, never through a traceback."""
    done = subprocess.run(
        [sys.executable, "-c", _TERM, json.dumps(sys.path), str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr, done.stdout) == (143, "interrupted; dist/ unchanged\n", "")
    assert list(tmp_path.iterdir()) == []
