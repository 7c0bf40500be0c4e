"""BullMQ, the app's queue library, run by node against real Redis (tests/real/node).

One node process serves the session for batches, one for producers (``node``).
"""

from __future__ import annotations

import json
import os
import select
import time
from pathlib import Path
from typing import Any

from . import node
from .procs import HarnessError

SCRIPT = Path(__file__).resolve().parents[1] / "node" / "bullmq.mjs"
PRODUCERS = SCRIPT.with_name("producers.mjs")


def run(redis_url: str, steps: list[dict[str, Any]], *, log_dir: Path, prefix: str = "bull") -> list[Any]:
    """A batch of steps against one Redis; their results in order."""
    request = {"redis": redis_url, "prefix": prefix, "steps": steps}
    results: list[Any] = node.ask(SCRIPT, request, log_dir=log_dir, timeout=30)
    fatal = [x for x in results if isinstance(x, dict) and "fatal" in x]
    if fatal:
        raise HarnessError(f"bullmq: {fatal[0]['fatal']}")
    return results


class Producers:
    """Real BullMQ producers adding jobs until stopped (tests/real/node/producers.mjs);
    ``acked`` holds every job whose Queue.add() resolved: {"queue", "id", "state"}.
    One run at a time; ``close()`` ends one that did not stop (its process with it)."""

    def __init__(self, redis_url: str, queues: list[str], *, log_dir: Path, per_queue: int = 2) -> None:
        self.proc = node.process(PRODUCERS, log_dir)
        node.send(self.proc, json.dumps({"redis": redis_url, "queues": queues, "perQueue": per_queue}))
        self.acked: list[dict[str, str]] = []
        self.errors: list[str] = []
        self.done = False
        self._pending = b""

    def _read(self, timeout: float) -> None:
        out = self.proc.popen.stdout
        assert out is not None
        ready, _, _ = select.select([out], [], [], timeout)
        chunk = os.read(out.fileno(), 65536) if ready else b""
        if ready and not chunk:
            raise HarnessError(f"bullmq producers exited: {self.proc.tail()}")
        *lines, self._pending = (self._pending + chunk).split(b"\n")
        for line in lines:
            item = json.loads(line)
            if "error" in item:
                self.errors.append(item["error"])
            elif item.get("done"):
                self.done = True
            else:
                self.acked.append(item)

    def wait(self, count: int, timeout: float = 15.0) -> None:
        """Until ``count`` jobs in all have been acknowledged."""
        deadline = time.monotonic() + timeout
        while len(self.acked) < count:
            if time.monotonic() > deadline:
                raise HarnessError(
                    f"bullmq producers: {len(self.acked)} of {count} jobs acknowledged: {self.errors[-1:]}"
                )
            self._read(0.2)

    def stop(self, timeout: float = 15.0) -> list[dict[str, str]]:
        """Let every producer finish its add in flight, then stop; all acknowledged jobs."""
        node.send(self.proc, "stop")
        deadline = time.monotonic() + timeout
        while not self.done:
            if time.monotonic() > deadline:
                raise HarnessError(f"bullmq producers did not stop: {self.proc.tail()}")
            self._read(0.2)
        return self.acked

    def close(self) -> None:
        """After a run that did not stop (a failure): its process is ended, not reused."""
        if not self.done:
            self.proc.stop()
