"""Ctrl-C and SIGTERM as one clean exit, never in the middle of a commit.

Without this, Ctrl-C during a synth printed 18 to 44 lines: Python's
``KeyboardInterrupt`` traceback, then jsii's, because the terminal sends SIGINT
to jsii's Node process too and the Python side then fails to talk to it (also at
exit, when jsii's ``atexit`` hook writes to the dead process). So the entry point
installs ``INTERRUPTS``: a signal raises ``KeyboardInterrupt`` as usual, except
inside ``shield()``, the few renames after the commit point, where it is held
back until they are done. ``cli`` turns it into one line and exits with
``os._exit`` so no ``atexit`` hook runs.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

HANDLED = (signal.SIGINT, signal.SIGTERM)


class Interrupts:
    def __init__(self) -> None:
        self.received: int | None = None
        self._depth = 0
        self._pending = False

    def install(self) -> None:
        for signum in HANDLED:
            signal.signal(signum, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.received = signum
        if self._depth:
            self._pending = True
            return
        raise KeyboardInterrupt

    @property
    def exit_code(self) -> int:
        """128 + the signal, as a shell reports it (130 for Ctrl-C)."""
        return 128 + (self.received or signal.SIGINT)

    @contextmanager
    def shield(self) -> Iterator[None]:
        """Run the block to the end even if a signal arrives; raise it afterwards."""
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if not self._depth and self._pending:
                self._pending = False
                raise KeyboardInterrupt


INTERRUPTS = Interrupts()
