#!/usr/bin/env python3
"""Entry point for ``cdk8s synth`` and ``python main.py [ENV ...]`` (``--help`` for more).

``constructs/`` is the source root of our ``vibeyard`` package, not a package
itself: a ``constructs`` package of ours would shadow the ``constructs`` library
that cdk8s imports. So the folder goes on ``sys.path`` and we import
``vibeyard``. The signal handlers come first, and a Ctrl-C that lands before
they are in place is caught here: an interrupt at any moment is one line. The
pinned Node 22 from ``node_modules`` goes first on PATH before jsii starts, so
the runtime never falls back to an end-of-life system Node.

Run by an interpreter without the project's packages (the system ``python3``
instead of ``.venv/bin/python``), it says how to run it instead of failing on an
import deep inside.
"""

import gc
import os
import sys


def _missing_packages() -> str:
    from importlib.util import find_spec  # noqa: PLC0415 (everything after the signal handlers)

    if sys.version_info < (3, 11):  # noqa: UP036 (this is the check for the wrong interpreter)
        return f"Python 3.11 (this is {sys.version_info[0]}.{sys.version_info[1]})"
    missing = [name for name in ("cdk8s", "cdk8s_plus_28", "yaml", "cattrs") if find_spec(name) is None]
    return ", ".join(missing)


def _start() -> None:
    from pathlib import Path  # noqa: PLC0415

    root = Path(__file__).resolve().parent
    sys.path.insert(0, str(root / "constructs"))
    from vibeyard.synth import signals  # noqa: PLC0415

    signals.install()
    missing = _missing_packages()
    if missing:
        venv = root / ".venv" / "bin" / "python"
        here = os.path.relpath(root / "main.py")
        how = f"{os.path.relpath(venv)} {here}" if venv.exists() else "`make synth` (it installs them)"
        sys.stderr.write(f"main.py: {sys.executable} lacks {missing}: run {how}\n")
        sys.exit(2)
    node_bin = root / "node_modules" / ".bin"
    if (node_bin / "node").exists():
        os.environ["PATH"] = str(node_bin) + os.pathsep + os.environ.get("PATH", "")
    from vibeyard.synth.cli import run  # noqa: PLC0415 (after the checks above)

    run()


if __name__ == "__main__":
    gc.disable()  # a one-second run that ends in os._exit: cycle passes cost more than they free
    try:
        _start()
    except KeyboardInterrupt:  # before ``cli.run`` took over, even before the handlers were in place
        signals = sys.modules.get("vibeyard.synth.signals")
        sys.stderr.write("interrupted; dist/ unchanged\n")
        os._exit(signals.exit_code() if signals is not None else 130)
