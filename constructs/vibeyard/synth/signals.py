"""Ctrl-C and SIGTERM as one clean exit, from the first moment of ``main.py``.

The first signal raises ``KeyboardInterrupt`` in the main thread, which the CLI turns into
one line and exit 128 + signal. Every later one is ignored (CI and systemd signal the whole
process group, and a second one during the report would be a traceback), and so are the
failing finalizers of a jsii runtime cut off while it started. A swap cut short is finished
or undone by ``cli.py``; once the outcome is reported, ``cli.run`` ignores them.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

HANDLED = (signal.SIGINT, signal.SIGTERM)
received: int | None = None


def _handle(signum: int, frame: FrameType | None) -> None:
    global received  # noqa: PLW0603 (one process, one first signal)
    if received is None:
        received = signum
        for other in HANDLED:
            signal.signal(other, signal.SIG_IGN)
        sys.unraisablehook = lambda _: None  # "Exception ignored in: _NodeProcess.__del__"
        raise KeyboardInterrupt


def install(*, ignore: bool = False) -> None:
    """Our handler; or, once the outcome is reported (``ignore``), none: nothing can restate it."""
    for signum in HANDLED:
        signal.signal(signum, signal.SIG_IGN if ignore else _handle)


def exit_code() -> int:
    """128 + the signal, as a shell reports it."""
    return 128 + (received or signal.SIGINT)
