"""How many cores are idle right now, measured from the start of the process.

A second render process only pays off on a core that would otherwise sit idle:
on a machine already busy (a CI runner, a test suite next door) it competes
for the same cores and makes the synth slower (measured: 3.1 s instead of
2.7 s). So ``main.py`` imports this module first, which reads the kernel's CPU
counters, and the decision compares them again a tenth of a second later,
after the imports: the cores that were idle meanwhile are the ones a worker
can use. Only Linux has ``/proc/stat``; elsewhere the answer is "unknown".
"""

from __future__ import annotations

import os

# Fewer clock ticks than this (over all cores) is too short a window to judge.
_MIN_TICKS = 8


def _cpu_ticks() -> tuple[int, int] | None:
    """(idle, total) clock ticks of all cores since boot."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            ticks = [int(x) for x in fh.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    if len(ticks) < 5:
        return None
    return ticks[3] + ticks[4], sum(ticks)


_AT_START = _cpu_ticks()


def idle_cores() -> float | None:
    """Cores idle since this module was imported, on average; None when unknown."""
    now = _cpu_ticks()
    if now is None or _AT_START is None:
        return None
    idle, total = now[0] - _AT_START[0], now[1] - _AT_START[1]
    if total < _MIN_TICKS:
        return None
    return idle / total * (os.cpu_count() or 1)
