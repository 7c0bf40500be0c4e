"""Rendering the charts of one synth in several processes, one jsii runtime each.

jsii's fixed start-up (Node, the cdk8s and cdk8s-plus assemblies) and its
per-construct round trips are single-threaded, so the charts of a full synth
are split over the cores: this process renders one share and each other share
goes to a worker started with ``subprocess`` (a fresh interpreter; never
``fork``, which would share one Node process between two Pythons).

Workers run in their own session, so Ctrl-C in the terminal reaches only this
process, which then kills each worker's process group (the worker and its Node)
by id. A worker that loses this process (killed, or exited) finds its pipes
closed and exits quietly. Work moves as pickles of config values over the
worker's stdin and stdout; a worker's ``ConfigError`` comes back as itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import signal
import subprocess
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from ..config import ConfigError
from .charts import Unit, render_units, warm_up
from .render import Tree

_BOOT = (
    "import sys, json; sys.path[:] = json.loads(sys.argv[1]); "
    "from vibeyard.synth.parallel import serve; serve()"
)
_DEFAULT_WEIGHT = 40


class WorkerError(RuntimeError):
    """A worker died or failed with something other than a config error."""


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def split(units: Sequence[Unit], shares: int, weight: Callable[[Unit], int]) -> list[list[int]]:
    """Unit indexes per share, heaviest unit first into the lightest share (LPT).

    The heaviest share comes first, for this process: a worker also pays for an
    interpreter start-up that this process has already paid.
    """
    shares = max(1, min(shares, len(units)))
    loads = [0] * shares
    plan: list[list[int]] = [[] for _ in range(shares)]
    for i in sorted(range(len(units)), key=lambda i: -weight(units[i])):
        lightest = min(range(shares), key=lambda s: loads[s])
        loads[lightest] += weight(units[i])
        plan[lightest].append(i)
    order = sorted(range(shares), key=lambda s: -loads[s])
    return [sorted(plan[s]) for s in order if plan[s]]


def dist_weight(dist: Path) -> Callable[[Unit], int]:
    """A unit's cost estimate: how many files its folder had after the last synth."""

    def weight(unit: Unit) -> int:
        folder = dist / (unit.env.name if unit.env is not None else "argocd")
        try:
            return len(os.listdir(folder)) or _DEFAULT_WEIGHT
        except OSError:
            return _DEFAULT_WEIGHT

    return weight


class _Worker:
    def __init__(self, units: list[Unit]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _BOOT, json.dumps(sys.path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,
        )
        assert self.proc.stdin is not None
        self.proc.stdin.write(pickle.dumps(units))
        self.proc.stdin.close()

    def result(self) -> list[tuple[str, Tree]]:
        assert self.proc.stdout is not None
        try:
            status, payload, text = pickle.load(self.proc.stdout)
        except (EOFError, pickle.UnpicklingError):
            code = self.proc.wait()
            raise WorkerError(f"a render worker exited with code {code} before returning") from None
        self.proc.wait()
        if status == "ok":
            rendered: list[tuple[str, Tree]] = payload
            return rendered
        if isinstance(payload, ConfigError):
            raise payload
        raise WorkerError(f"a render worker failed:\n{text}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def render_parallel(
    units: Sequence[Unit], jobs: int, weight: Callable[[Unit], int] | None = None
) -> Mapping[str, Tree]:
    """Every unit's tree, keyed by folder in unit order, over ``jobs`` processes."""
    plan = split(units, jobs, weight or (lambda unit: _DEFAULT_WEIGHT))
    workers: list[_Worker] = []
    try:
        workers = [_Worker([units[i] for i in share]) for share in plan[1:]]
        done: dict[int, tuple[str, Tree]] = dict(
            zip(plan[0], render_units([units[i] for i in plan[0]]), strict=True)
        )
        for share, worker in zip(plan[1:], workers, strict=True):
            done.update(zip(share, worker.result(), strict=True))
    finally:
        for worker in workers:
            worker.kill()
    return dict(done[i] for i in range(len(units)))


def serve() -> None:
    """A worker's life: read units, start jsii, render, write the result, exit."""
    try:
        units = pickle.load(sys.stdin.buffer)
        try:
            warm_up()
            reply: tuple[str, object, str] = ("ok", render_units(units), "")
        except Exception as err:
            reply = ("error", err, traceback.format_exc())
        try:
            data = pickle.dumps(reply)
        except Exception:
            data = pickle.dumps(("error", None, reply[2]))
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    except (EOFError, OSError, pickle.UnpicklingError):
        os._exit(1)  # the parent is gone: nobody to tell
    os._exit(0)  # skip jsii's atexit hook; Node exits when its stdin closes
