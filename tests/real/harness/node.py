"""Node scripts (tests/real/node) that serve the whole session, one process each.

Starting node and loading a client library (BullMQ, pg, ioredis) costs about half a
second, which every call would otherwise pay again. Each stdin line is a request; a
script that answers writes one stdout line per request.
"""

from __future__ import annotations

import json
import os
import select
from pathlib import Path
from typing import Any

from . import procs, tools
from .procs import HarnessError

_running: dict[Path, procs.Proc] = {}  # by script, once started


def process(script: Path, log_dir: Path) -> procs.Proc:
    """The session's process running ``script``, started if it is not running."""
    proc = _running.get(script)
    if proc is None or not proc.alive():
        argv = [tools.find("node"), str(script)]
        log = log_dir / f"{script.stem}.log"
        proc = procs.Proc(script.stem, argv, env=os.environ, log=log, cwd=tools.ROOT, pipe=True)
        _running[script] = proc
    return proc


def send(proc: procs.Proc, line: str) -> None:
    assert proc.popen.stdin is not None
    proc.popen.stdin.write(line.encode() + b"\n")
    proc.popen.stdin.flush()


def ask(script: Path, request: Any, *, log_dir: Path, timeout: float = 60.0) -> Any:
    """``request`` as a JSON line to ``script``'s process; its JSON answer line."""
    proc = process(script, log_dir)
    assert proc.popen.stdout is not None
    send(proc, json.dumps(request))
    ready, _, _ = select.select([proc.popen.stdout], [], [], timeout)
    answer = proc.popen.stdout.readline() if ready else b""
    if not answer:
        proc.stop()
        raise HarnessError(f"{script.name} gave no answer: {proc.tail()}")
    return json.loads(answer)
