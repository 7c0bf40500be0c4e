"""Rendering the charts of one synth in several processes, one jsii runtime each.

jsii's fixed start-up (Node, the cdk8s and cdk8s-plus assemblies) and its
per-construct round trips are single-threaded, so the charts of a full synth
are split over the cores: this process renders one share and each other share
goes to a worker started with ``subprocess`` (a fresh interpreter; never
``fork``, which would share one Node process between two Pythons).

Workers are started first thing (``Workers``), before the config is even read:
while this process takes the lock and validates, a worker boots Python and
imports everything that does not start jsii, then waits for its charts on stdin.
Only then does it import cdk8s, so a config mistake still never starts jsii:
the worker just sees its stdin close and exits.

Workers run in their own session, so Ctrl-C in the terminal reaches only this
process, which then kills each worker's process group (the worker and its Node)
by id. A worker that loses this process finds its pipes closed and exits
quietly. Work moves as pickles of config values; a worker's ``ConfigError``
comes back as itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from ..config import ConfigError
from .charts import Unit, render_units, warm_up
from .render import Tree

_BOOT = (
    "import sys, json; sys.path[:] = json.loads(sys.argv[1]); "
    "from vibeyard.synth.parallel import serve; serve()"
)
# A worker runs as optimized as this process (`make synth` runs python -O: no jsii type checks).
_FLAGS = ["-" + "O" * sys.flags.optimize] if sys.flags.optimize else []
_DEFAULT_WEIGHT = 40
# A worker costs a whole jsii start-up; below this share of the work it cannot pay for it.
_WORTH_A_WORKER = 0.25


class WorkerError(RuntimeError):
    """A worker died or failed with something other than a config error."""


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def split(units: Sequence[Unit], shares: int, weight: Callable[[Unit], int]) -> list[list[int]]:
    """Unit indexes per share: heaviest unit first into the lightest share (LPT).

    The heaviest share comes first, for this process: a worker starts jsii later,
    once its charts arrive. A share too small to pay for a worker's start-up is
    folded into another.
    """
    shares = max(1, min(shares, len(units)))
    loads = [0] * shares
    plan: list[list[int]] = [[] for _ in range(shares)]
    for i in sorted(range(len(units)), key=lambda i: -weight(units[i])):
        lightest = min(range(shares), key=lambda s: loads[s])
        loads[lightest] += weight(units[i])
        plan[lightest].append(i)
    total = sum(loads) or 1
    order = sorted((s for s in range(shares) if plan[s]), key=lambda s: loads[s])
    while len(order) > 1 and loads[order[0]] / total < _WORTH_A_WORKER:
        smallest, order = order[0], order[1:]
        plan[order[0]] += plan[smallest]
        loads[order[0]] += loads[smallest]
        order.sort(key=lambda s: loads[s])
    return [sorted(plan[s]) for s in reversed(order)]


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
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, *_FLAGS, "-c", _BOOT, json.dumps(sys.path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,
        )

    def send(self, units: list[Unit] | None) -> None:
        """Hand over the charts; None sends nothing, and the worker exits without jsii."""
        assert self.proc.stdin is not None
        try:
            if units is not None:
                self.proc.stdin.write(pickle.dumps(units))
        finally:
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
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()


class Workers:
    """``count`` render workers, started now, idle until ``render``; a context manager
    that kills whatever is still running when it closes (an error, Ctrl-C)."""

    def __init__(self, count: int) -> None:
        self._workers: list[_Worker] = []
        try:
            for _ in range(count):
                self._workers.append(_Worker())
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for worker in self._workers:
            worker.kill()

    def render(
        self,
        units: Sequence[Unit],
        weight: Callable[[Unit], int],
        here: Callable[[Sequence[Unit]], list[tuple[str, Tree]]] | None = None,
    ) -> Mapping[str, Tree]:
        """Every unit's tree, keyed by folder in unit order: one share ``here``, one per worker."""
        plan = split(units, len(self._workers) + 1, weight)
        busy = list(zip(plan[1:], self._workers, strict=False))
        for share, worker in busy:
            worker.send([units[i] for i in share])
        for worker in self._workers[len(busy) :]:
            worker.send(None)
        done: dict[int, tuple[str, Tree]] = dict(
            zip(plan[0], (here or render_units)([units[i] for i in plan[0]]), strict=True)
        )
        for share, worker in busy:
            done.update(zip(share, worker.result(), strict=True))
        return dict(done[i] for i in range(len(units)))


def render_parallel(
    units: Sequence[Unit], jobs: int, weight: Callable[[Unit], int] | None = None
) -> Mapping[str, Tree]:
    """``Workers`` started and used at once: ``jobs`` processes in all."""
    with Workers(max(0, jobs - 1)) as workers:
        return workers.render(units, weight or (lambda unit: _DEFAULT_WEIGHT))


def serve() -> None:
    """A worker's life: import what needs no jsii, wait for charts, start jsii, render, exit."""
    try:
        import jsii  # noqa: F401, PLC0415 (the Python half only: Node starts with the first assembly)

        try:
            units = pickle.load(sys.stdin.buffer)
        except EOFError:
            os._exit(0)  # nothing to render: a config error, or no share for this worker
        try:
            warm_up()
            reply: tuple[str, object, str] = ("ok", render_units(units), "")
        except Exception as err:
            import traceback  # noqa: PLC0415 (only a failing worker needs it)

            reply = ("error", err, traceback.format_exc())
        try:
            data = pickle.dumps(reply)
        except Exception:
            data = pickle.dumps(("error", None, reply[2]))
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    except (OSError, pickle.UnpicklingError):
        os._exit(1)  # the parent is gone: nobody to tell
    os._exit(0)  # skip jsii's atexit hook; Node exits when its stdin closes
