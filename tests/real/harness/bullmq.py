"""BullMQ, the app's queue library, run by node against real Redis (tests/real/node).

One node process serves the session: starting node and loading BullMQ's scripts costs
about half a second, which every batch would otherwise pay again.
"""

from __future__ import annotations

import json
import os
import select
from pathlib import Path
from typing import Any

from . import procs, tools
from .procs import HarnessError

SCRIPT = Path(__file__).resolve().parents[1] / "node" / "bullmq.mjs"
_driver: dict[str, procs.Proc] = {}  # the one node process, once started


def _start(log_dir: Path) -> procs.Proc:
    proc = _driver.get("node")
    if proc is None or not proc.alive():
        argv = [tools.find("node"), str(SCRIPT)]
        log = log_dir / "bullmq.log"
        proc = procs.Proc("bullmq", argv, env=os.environ, log=log, cwd=tools.ROOT, pipe=True)
        _driver["node"] = proc
    return proc


def run(redis_url: str, steps: list[dict[str, Any]], *, log_dir: Path, prefix: str = "bull") -> list[Any]:
    """A batch of steps against one Redis; their results in order."""
    proc = _start(log_dir)
    assert proc.popen.stdin is not None and proc.popen.stdout is not None
    line = json.dumps({"redis": redis_url, "prefix": prefix, "steps": steps}) + "\n"
    proc.popen.stdin.write(line.encode())
    proc.popen.stdin.flush()
    ready, _, _ = select.select([proc.popen.stdout], [], [], 30)
    answer = proc.popen.stdout.readline() if ready else b""
    if not answer:
        proc.stop()
        raise HarnessError(f"bullmq driver gave no answer: {proc.tail()}")
    results: list[Any] = json.loads(answer)
    fatal = [x for x in results if isinstance(x, dict) and "fatal" in x]
    if fatal:
        raise HarnessError(f"bullmq: {fatal[0]['fatal']}")
    return results
