"""Ctrl-C and SIGTERM as one clean exit, from the first moment of ``main.py``.

``main.py`` installs this before anything else is imported. The first signal
raises ``KeyboardInterrupt`` in the main thread, which the CLI turns into one
line and exit 128 + signal (130 for Ctrl-C, 143 for SIGTERM). Every later one is
ignored: CI cancellation and systemd signal the whole process group, and a
second ``KeyboardInterrupt`` raised while the first is being reported would
print a traceback. No step of a synth needs shielding: a swap cut short is
finished (or was never begun) by ``publish.recover`` on the way out (``cli.py``).
"""

from __future__ import annotations

import signal
from types import FrameType

HANDLED = (signal.SIGINT, signal.SIGTERM)
received: int | None = None


def _handle(signum: int, frame: FrameType | None) -> None:
    global received  # noqa: PLW0603 (one process, one first signal)
    if received is None:
        received = signum
        for other in HANDLED:
            signal.signal(other, signal.SIG_IGN)
        raise KeyboardInterrupt


def install() -> None:
    for signum in HANDLED:
        signal.signal(signum, _handle)


def exit_code() -> int:
    """128 + the signal, as a shell reports it."""
    return 128 + (received or signal.SIGINT)
