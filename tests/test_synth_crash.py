"""Crashes and interrupts at every filesystem write of a synth: dist/ is all old or all new.

A release (``VIBEYARD_IMAGE_TAG=7.7.7``, one environment) runs again and again in
a child process that stops itself at exactly the N-th write it makes in the
repository: every folder it creates (``mkdtemp``, the staged folders), chmod,
hard link, file write (halfway through its bytes), the exchange or the
fallback's renames, and every deletion of the old tree. For every N:

- SIGKILL just before write N: ``dist/``, records included, is all old before the
  commit point and all new after it (on the fallback path, possibly a committed
  ``.synth-ready-*`` for the next synth to finish); the next plain synth leaves it
  all old or all new accordingly, with nothing left over;
- Ctrl-C (SIGINT) just after write N (N = 0: before the first): one line, exit
  130, the line saying which of the two ``dist/`` is, and the next plain synth agrees.

Both on the exchange path and on the fallback (no ``renameat2``), and again at
every write of the synth that finishes a fallback swap killed between its
renames (of its deletions of the leftover, the first and the last). The children
are forked from two zygotes, fresh interpreters without jsii started once for the
module, so each costs milliseconds; the rendering is test_synth.py's stub. Also
here: two concurrent releases of different environments both land.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import functools
import io
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.test_synth import (
    NEW_TAG,
    OTHER,
    PLACEHOLDER,
    RECORD,
    RELEASED,
    Snapshot,
    copy_repo,
    leftovers,
    make_repo,
    quiet_main,
    snapshot,
    stub_render,
)
from vibeyard.config import load_all
from vibeyard.synth import cli, inputs, publish, signals

ROOT = Path(__file__).resolve().parents[1]
SYNTH = ROOT / "constructs" / "vibeyard" / "synth"
RELEASE = ([RELEASED], {"VIBEYARD_IMAGE_TAG": NEW_TAG})
UNCHANGED, PUBLISHED = "interrupted; dist/ unchanged", "interrupted; dist/ is published"
# Every run reads the same config: loaded once per process, not once per run (a third of a run).
LOAD_ALL = functools.cache(load_all)

# The os functions that change the filesystem, and how many of their arguments are paths:
# the child hooks them all, so a write the pipeline makes through any of them is swept.
OS_WRITES = {
    "mkdir": 1,
    "chmod": 1,
    "chown": 1,
    "link": 2,
    "symlink": 2,
    "rename": 2,
    "replace": 2,
    "unlink": 1,
    "remove": 1,
    "rmdir": 1,
    "utime": 1,
    "truncate": 1,
    "mkfifo": 1,
    "setxattr": 1,
    "removexattr": 1,
}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

# ------------------------------------------------------------------ the child side (in the zygote)


def _hook(root: str, at: int, mode: str, ops: list[str]) -> None:
    """Record every write under ``root``; stop at the ``at``-th as ``mode`` says."""

    def point(what: str, phase: str) -> None:
        if phase == "before":
            ops.append(what)
        k = len(ops)
        if mode == "kill" and phase == "before" and k == at:
            os.kill(os.getpid(), signal.SIGKILL)
        if mode == "int" and ((phase == "after" and k == at) or (at == 0 and k == 1 and phase == "before")):
            os.kill(os.getpid(), signal.SIGINT)  # raises KeyboardInterrupt right here, as a Ctrl-C would

    def where(p: Any, dir_fd: int | None) -> str | None:
        if not isinstance(p, str | bytes | os.PathLike):
            return None
        path = os.fsdecode(os.fspath(p))
        if dir_fd is not None:
            path = os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), path)
        rel = os.path.relpath(os.path.abspath(path), root)
        return None if rel.startswith("..") else rel

    def wrap(owner: Any, name: str, kind: str, nargs: int, writes: Callable[..., bool]) -> None:
        real = getattr(owner, name)

        def hooked(*args: Any, **kwargs: Any) -> Any:
            rels = [where(p, kwargs.get("dir_fd")) for p in args[:nargs]]
            if not writes(*args, **kwargs) or all(r is None for r in rels):
                return real(*args, **kwargs)
            what = f"{kind} {' '.join(r or '?' for r in rels)}"
            point(what, "before")
            result = real(*args, **kwargs)
            point(what, "after")
            return result

        setattr(owner, name, hooked)

    for name, nargs in OS_WRITES.items():
        wrap(os, name, name, nargs, lambda *a, **k: True)
    wrap(os, "open", "write", 1, lambda path, flags, *a, **k: bool(flags & WRITE_FLAGS))
    wrap(publish, "_exchange", "exchange", 2, lambda *a, **k: True)
    real_open = builtins.open

    def hooked_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        fh = real_open(file, mode, *args, **kwargs)
        rel = where(file, None) if any(c in mode for c in "wax+") else None
        return fh if rel is None else _Halfway(fh, lambda phase: point(f"write {rel}", phase))

    builtins.open = io.open = hooked_open  # io.open: what pathlib's write_text calls


class _Halfway:
    """A file being written: the write stops halfway for the "before" point."""

    def __init__(self, fh: Any, point: Callable[[str], None]) -> None:
        self.fh, self.point = fh, point

    def __enter__(self) -> _Halfway:
        return self

    def __exit__(self, *exc: object) -> None:
        self.fh.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.fh, name)

    def write(self, text: Any) -> int:
        half = len(text) // 2
        self.fh.write(text[:half])
        self.fh.flush()
        self.point("before")
        written = int(self.fh.write(text[half:])) + half
        self.fh.flush()
        self.point("after")
        return written


def _child(run: dict[str, Any]) -> None:
    """One synth, as ``main.py`` runs it: the signal handlers, then ``cli.main``."""
    log = os.open(run["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log, 2)
    sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
    setattr(cli, "render_charts", stub_render)  # noqa: B010 (not re-exported, for mypy)
    if run["pause"]:
        setattr(cli, "swap", _paused(run["pause"], getattr(cli, "swap")))  # noqa: B009, B010
    signals.install()
    ops: list[str] = []
    _hook(run["repo"], run["at"], run["mode"], ops)
    if run["fallback"]:  # a platform without renameat2: no exchange, and so no write
        publish._exchange = lambda a, b: False
    code = cli.main(run["argv"], run["environ"], Path(run["repo"]))
    with open(run["log"] + ".ops", "w") as fh:  # outside the repository: not recorded
        json.dump(ops, fh)
    sys.stderr.flush()
    os._exit(code)


Swap = Callable[[Path, Path], Path | None]


def _paused(pause: str, real_swap: Swap) -> Swap:
    """``swap`` that first holds, staged (the other environments linked from the current
    dist/), until the test says go."""

    def swap(staged: Path, dist: Path) -> Path | None:
        Path(pause + ".staged").touch()
        while not os.path.exists(pause + ".go"):
            time.sleep(0.01)
        return real_swap(staged, dist)

    return swap


def zygote() -> None:
    """Serve batches of runs, one JSON list a line on stdin: fork one child per run, in
    order, and answer each batch with a line of exits (a negative number: the signal)."""
    setattr(inputs, "load_all", LOAD_ALL)  # noqa: B010 (not re-exported, for mypy)
    LOAD_ALL()
    for line in sys.stdin:
        statuses = []
        for run in json.loads(line):
            if run["source"]:  # a fresh repository: a copy of the pristine one
                shutil.copytree(run["source"], run["repo"], symlinks=True)
            pid = os.fork()
            if pid == 0:
                try:
                    _child(run)
                finally:
                    os._exit(99)
            _, status = os.waitpid(pid, 0)
            statuses.append(os.waitstatus_to_exitcode(status))
        print(json.dumps(statuses), flush=True)


_BOOT = (
    "import sys, json; sys.path[:] = json.loads(sys.argv[1]); "
    "from tests.test_synth_crash import zygote; zygote()"
)


class Zygotes:
    """Fresh interpreters without jsii, started once for the module, each running batches
    of runs from the test side."""

    def __init__(self, logs: Path, processes: int = 2) -> None:
        self.procs = []
        for i in range(processes):
            with open(logs / f"zygote-{i}.log", "w") as err:
                self.procs.append(
                    subprocess.Popen(
                        [sys.executable, "-c", _BOOT, json.dumps(sys.path)],
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        stderr=err,
                        text=True,
                        cwd=ROOT,
                        env={**os.environ, "TMPDIR": str(logs)},  # see plain_synth
                        start_new_session=True,  # its children, paused or hung, go with it
                    )
                )
        self.logs = logs

    def submit(self, i: int, runs: list[Run]) -> None:
        stdin = self.procs[i].stdin
        assert stdin is not None
        stdin.write(json.dumps([run.spec() for run in runs]) + "\n")
        stdin.flush()

    def done(self, i: int, timeout: float = 0) -> bool:
        """Whether zygote ``i`` has answered its batch (or died)."""
        stdout = self.procs[i].stdout
        assert stdout is not None
        return bool(select.select([stdout], [], [], timeout)[0])

    def collect(self, i: int) -> list[int]:
        stdout = self.procs[i].stdout
        assert stdout is not None and self.done(i, 300), f"zygote {i} took over 300 s"
        line = stdout.readline()
        assert line, (self.logs / f"zygote-{i}.log").read_text()
        statuses: list[int] = json.loads(line)
        return statuses

    def run(self, runs: list[Run]) -> list[int]:
        """Each run's exit status. Runs on one repository stay in order in one zygote; the
        repositories are spread over the zygotes, which run side by side."""
        chunks: list[list[int]] = [[] for _ in self.procs]
        slots: dict[Path, int] = {}
        for k, run in enumerate(runs):
            chunks[slots.setdefault(run.repo, len(slots) % len(self.procs))].append(k)
        busy = [i for i, chunk in enumerate(chunks) if chunk]
        for i in busy:
            self.submit(i, [runs[k] for k in chunks[i]])
        statuses = [0] * len(runs)
        for i in busy:
            for k, status in zip(chunks[i], self.collect(i), strict=True):
                statuses[k] = status
        return statuses

    def close(self) -> None:
        for proc in self.procs:
            assert proc.stdin is not None
            proc.stdin.close()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


# ------------------------------------------------------------------ the test side


@dataclass
class Run:
    repo: Path
    at: int
    mode: str  # "count" (no signal), "kill" (before write ``at``), "int" (after write ``at``)
    fallback: bool
    argv: list[str]
    environ: dict[str, str]
    source: Path | None = None  # the repository to start from (none: it exists)
    pause: str = ""  # hold before the swap until the file ``pause``.go exists
    name: str = ""  # tells apart the logs of runs on one repository at once

    @property
    def log(self) -> Path:
        return self.repo.with_name(f"{self.repo.name}{self.name}.log")

    def spec(self) -> dict[str, Any]:
        return {
            "repo": str(self.repo),
            "at": self.at,
            "mode": self.mode,
            "fallback": self.fallback,
            "argv": self.argv,
            "environ": self.environ,
            "log": str(self.log),
            "source": str(self.source) if self.source else None,
            "pause": self.pause,
        }

    def ops(self) -> list[str]:
        ops: list[str] = json.loads(Path(f"{self.log}.ops").read_text())
        return ops

    def stderr(self) -> list[str]:
        return [line for line in self.log.read_text().splitlines() if not PLACEHOLDER.fullmatch(line)]


def kind(op: str) -> str:
    return op.split(maxsplit=1)[0]


@dataclass
class World:
    base: Path
    pristine: Path
    old: Snapshot
    new: Snapshot
    ops: dict[bool, list[str]]  # every write of one release, in order, by fallback or not
    zygotes: Zygotes

    def commit(self, fallback: bool) -> int:
        """The number of the write that publishes: the exchange, or the rename to .synth-ready-*."""
        ops = self.ops[fallback]
        return next(k for k, op in enumerate(ops, 1) if kind(op) == "exchange" or " .synth-ready-" in op)


def plain_synth(repo: Path, fallback: bool) -> tuple[int, list[str]]:
    """What a person runs next: the same command without the override (in-process, stubbed).
    TMPDIR (where a synth checks that jsii could write) beside the repositories: on scratch's
    filesystem, not the disk's."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TMPDIR", str(repo.parent))
        mp.setattr(cli, "render_charts", stub_render)
        mp.setattr(inputs, "load_all", LOAD_ALL)
        if fallback:
            mp.setattr(publish, "_exchange", lambda a, b: False)
        return quiet_main(RELEASE[0], {}, repo)


RAM = Path("/dev/shm")


@contextlib.contextmanager
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where the module's 150-odd repositories go: a RAM filesystem where there is one (as
    /tmp is on many systems), else the test's temporary folder. Every run creates and deletes
    a dozen folders and files, and on a disk mounted with ``discard`` (as /tmp is on the
    project's VM) each deletion waits for the disk. What is swept, the process dying at each
    write, is the same on any Linux filesystem with renameat2 (the first test below checks
    that the exchange is what publishes)."""
    if RAM.is_dir() and os.access(RAM, os.W_OK) and shutil.disk_usage(RAM).free > 256 << 20:
        base = Path(tempfile.mkdtemp(prefix="synth-crash-", dir=RAM))
        try:
            yield base
        finally:
            shutil.rmtree(base)  # RAM: nothing keeps it for the next session to delete
    else:
        yield tmp_path_factory.mktemp("crash")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with scratch(tmp_path_factory) as base:
        yield from _world(base)


def _world(base: Path) -> Iterator[World]:
    zygotes = Zygotes(base)  # they start up while the repositories are made
    try:
        pristine = make_repo(base / "pristine")
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(cli, "render_charts", stub_render)
            assert quiet_main([], {}, pristine) == (0, [])
            reference = copy_repo(pristine, base / "reference")
            assert quiet_main(*RELEASE, reference) == (0, [])
        counting = [Run(base / f"count-{f}", 0, "count", f, *RELEASE, source=pristine) for f in (False, True)]
        assert zygotes.run(counting) == [0, 0], [run.stderr() for run in counting]
        old, new = snapshot(pristine), snapshot(reference)
        assert old != new and old[RECORD] != new[RECORD]
        yield World(base, pristine, old, new, {run.fallback: run.ops() for run in counting}, zygotes)
    finally:
        zygotes.close()


PATHS = pytest.mark.parametrize("fallback", [False, True], ids=["exchange", "fallback"])


@PATHS
def test_the_sweeps_stop_at_every_kind_of_write(world: World, fallback: bool) -> None:
    """Guards the sweeps below: a release makes each of these writes, in this order, and
    a new kind of write (a new hooked os function) turns this red until it is listed here."""
    ops = world.ops[fallback]
    commit = world.commit(fallback)
    staging = {kind(op) for op in ops[: commit - 1]}
    assert staging == {"mkdir", "chmod", "link", "write"}, ops  # link: the environments not released
    staged = ops[0].removeprefix("mkdir ")
    assert staged.startswith(".synth-") and f"write {staged}/releases/{RELEASED}.json" in ops, ops
    swap = [kind(op) for op in ops[commit - 1 :] if kind(op) not in ("unlink", "rmdir")]
    assert swap == (["rename", "rename", "rename"] if fallback else ["exchange"]), ops
    assert {kind(op) for op in ops[commit:]} - {"rename"} == {"unlink", "rmdir"}, ops  # the old tree


def _calls(tree: ast.AST) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            parts: list[str] = []
            func = node.func
            while isinstance(func, ast.Attribute):
                parts.insert(0, func.attr)
                func = func.value
            if isinstance(func, ast.Name):
                yield ".".join([func.id, *parts])


# Every call synth/ makes into a module that can touch the filesystem, and how the sweeps see it.
SWEPT = {  # each goes through a function the child hooks
    "open": "builtins.open",
    "os.mkdir": "os.mkdir",
    "os.chmod": "os.chmod",
    "os.link": "os.link",
    "os.rename": "os.rename",
    "os.unlink": "os.unlink",
    "shutil.rmtree": "os.unlink, os.rmdir",
    "shutil.copy2": "builtins.open, os.chmod, os.utime, os.setxattr (a link that failed)",
    "tempfile.mkdtemp": "os.mkdir",
    "ctypes.CDLL": "publish._exchange, hooked whole (renameat2)",
}
NOT_WRITES = {  # reads, process state, or writes outside the repository
    "os.open": "the lock's read-only descriptor on the repository folder; /dev/null, outside it",
    "os.close": "",
    "os.umask": "process state",
    "os.fspath": "",
    "os.fsencode": "",
    "os.fsdecode": "",
    "os.stat": "",
    "os.lstat": "",
    "os.geteuid": "",
    "os.dup2": "process state: stderr to /dev/null once the outcome is reported",
    "os.access": "",
    "os.strerror": "",
    "os.environ.get": "",
    "os.environ.setdefault": "process state",
    "os._exit": "",
    "shutil.which": "",
    "tempfile.TemporaryDirectory": "in TMPDIR, outside the repository",
    "fcntl.flock": "the lock",
    "ctypes.get_errno": "",
}


def test_every_filesystem_call_of_synth_is_swept_or_known_not_to_write() -> None:
    """A write added to synth/ through a function the sweeps do not hook turns this red."""
    found = set()
    for path in sorted(SYNTH.glob("*.py")):
        found |= {
            call
            for call in _calls(ast.parse(path.read_text()))
            if call == "open" or call.split(".")[0] in ("os", "shutil", "tempfile", "ctypes", "fcntl")
        }
    unknown = sorted(c for c in found - set(SWEPT) - set(NOT_WRITES) if not c.startswith("os.path."))
    assert not unknown, f"synth/ calls {unknown}: hook them in _hook and list them in SWEPT, or in NOT_WRITES"
    assert {"os.rename", "os.link", "open", "tempfile.mkdtemp", "shutil.rmtree"} <= found  # the walk works


def swept(ops: list[str], *, every_deletion: bool = True) -> list[int]:
    """The writes to stop at: all of them, or, of the deletions (all alike: a tree that is no
    longer dist/ going away), only the first and the last."""
    deletions = [k for k, op in enumerate(ops, 1) if kind(op) in ("unlink", "rmdir")]
    skip = [] if every_deletion else deletions[1:-1]
    return [k for k in range(1, len(ops) + 1) if k not in skip]


def _runs(world: World, name: str, mode: str, fallback: bool, points: list[int]) -> list[Run]:
    return [Run(world.base / f"{name}-{k}", k, mode, fallback, *RELEASE, world.pristine) for k in points]


def _pending(world: World, repo: Path) -> bool:
    """A fallback swap past its commit point: dist/ old or gone, the new tree ready beside it."""
    ready = sorted(repo.glob(".synth-ready-*"))
    return len(ready) == 1 and snapshot(repo, ready[0]) == world.new and snapshot(repo) in (world.old, {})


@PATHS
def test_sigkill_at_every_write_leaves_dist_all_old_or_all_new(world: World, fallback: bool) -> None:
    ops, commit = world.ops[fallback], world.commit(fallback)
    runs = _runs(world, f"kill-{fallback}", "kill", fallback, swept(ops))
    statuses = world.zygotes.run(runs)
    problems = []
    for run, status in zip(runs, statuses, strict=True):
        step = f"killed before write {run.at} ({ops[run.at - 1]})"
        if status != -signal.SIGKILL:
            problems.append(f"{step}: exited {status}, not killed: {run.stderr()}")
            continue
        state = snapshot(run.repo)
        if run.at <= commit and state != world.old:
            problems.append(f"{step}: dist/ changed before the commit point")
        elif run.at > commit and state != world.new and not (fallback and _pending(world, run.repo)):
            problems.append(f"{step}: dist/ is neither the new tree nor a committed swap to finish")
        result = plain_synth(run.repo, fallback)
        expected = world.old if run.at <= commit else world.new
        if result != (0, []) or snapshot(run.repo) != expected or leftovers(run.repo):
            which = "old" if expected is world.old else "new"
            problems.append(
                f"{step}: the next synth gave {result}, left {leftovers(run.repo)}, not all {which}"
            )
    assert not problems, "\n".join(problems)


@PATHS
def test_ctrl_c_after_every_write_is_one_line_and_all_or_nothing(world: World, fallback: bool) -> None:
    ops, commit = world.ops[fallback], world.commit(fallback)
    runs = _runs(world, f"int-{fallback}", "int", fallback, [0, *swept(ops)])
    statuses = world.zygotes.run(runs)
    problems = []
    for run, status in zip(runs, statuses, strict=True):
        step = f"Ctrl-C after write {run.at} ({ops[run.at - 1] if run.at else 'none yet'})"
        done = run.at >= commit
        want = (130, [PUBLISHED if done else UNCHANGED], world.new if done else world.old)
        got = (status, run.stderr(), snapshot(run.repo))
        if got != want:
            problems.append(f"{step}: exit {got[0]}, {got[1]}, dist/ as expected: {got[2] == want[2]}")
        if not done and leftovers(run.repo):
            problems.append(f"{step}: nothing was published, yet {leftovers(run.repo)} is left")
        result = plain_synth(run.repo, fallback)
        if result != (0, []) or snapshot(run.repo) != want[2] or leftovers(run.repo):
            problems.append(f"{step}: the next synth gave {result}, left {leftovers(run.repo)}")
    assert not problems, "\n".join(problems)


def test_a_fallback_swap_killed_between_its_renames_is_finished_at_every_write_of_the_next_synth(
    world: World,
) -> None:
    """Killed with the new tree committed (``.synth-ready-*``) and dist/ still there, or
    already moved aside; the next synth is killed in turn at each of its own writes (of its
    deletions of the leftover, the first and the last) up to the point where it starts
    staging: from there on it is the synth swept above."""
    ops, commit = world.ops[True], world.commit(True)
    problems = []
    for first in (commit + 1, commit + 2):  # before dist/ moves aside; before the ready tree moves in
        counting = _runs(world, f"again-count-{first}", "kill", True, [first])[0]
        plain = Run(counting.repo, 0, "count", True, RELEASE[0], {})
        assert world.zygotes.run([counting, plain]) == [-signal.SIGKILL, 0]
        steps = plain.ops()
        steps = steps[: next(k for k, op in enumerate(steps) if op.startswith("mkdir .synth-"))]
        assert kind(steps[0]) == "rename", steps  # the next synth finishes the swap first
        runs = []
        for k in swept(steps, every_deletion=False):  # swept one by one above
            crash = _runs(world, f"again-{first}-{k}", "kill", True, [first])[0]
            runs += [crash, Run(crash.repo, k, "kill", True, RELEASE[0], {})]
        assert world.zygotes.run(runs) == [-signal.SIGKILL] * len(runs)
        for run in runs[1::2]:
            step = f"killed at {ops[first - 1]}, then before write {run.at} of the next ({steps[run.at - 1]})"
            if snapshot(run.repo) != world.new and not _pending(world, run.repo):
                problems.append(f"{step}: dist/ is neither new nor a committed swap to finish")
            result = plain_synth(run.repo, True)
            if result != (0, []) or snapshot(run.repo) != world.new or leftovers(run.repo):
                problems.append(f"{step}: the next synth gave {result}, left {leftovers(run.repo)}")
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------ concurrent releases

WAITING = "waiting for another synth of this repository to finish"


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def test_two_concurrent_releases_of_different_environments_both_land(world: World) -> None:
    """The first has staged (linking the second's current folder) when the second starts:
    without the lock, the first's swap would put the second's old folder back."""
    repo, pause, zygotes = world.base / "concurrent", str(world.base / "pause"), world.zygotes
    first = Run(repo, 0, "count", False, [RELEASED], {"VIBEYARD_IMAGE_TAG": NEW_TAG}, world.pristine, pause)
    second = Run(repo, 0, "count", False, [OTHER], {"VIBEYARD_IMAGE_TAG": "8.8.8"}, name="-second")
    log = second.log
    try:
        zygotes.submit(0, [first])
        _wait_for(lambda: Path(f"{pause}.staged").exists() or zygotes.done(0), "the first to stage")
        zygotes.submit(1, [second])
        _wait_for(lambda: zygotes.done(1) or (log.exists() and WAITING in log.read_text()), "the 2nd to wait")
    finally:  # never leave the first holding
        Path(f"{pause}.go").touch()
    assert [zygotes.collect(0), zygotes.collect(1)] == [[0], [0]], (first.stderr(), second.stderr())
    assert (first.stderr(), second.stderr()) == ([], [WAITING])
    for env, tag in ((RELEASED, NEW_TAG), (OTHER, "8.8.8")):
        assert json.loads((repo / f"dist/releases/{env}.json").read_text()) == {"tag": tag}
        assert (repo / f"dist/{env}/09-deployment-vibeyard.yaml").read_text().endswith(f":{tag}\n")
    assert leftovers(repo) == []
