#!/usr/bin/env python3
"""Entry point for ``cdk8s synth`` and ``python main.py [ENV ...]``.

``constructs/`` is the source root of our ``vibeyard`` package, not a package
itself: a ``constructs`` package of ours would shadow the ``constructs`` library
that cdk8s imports. So the folder goes on ``sys.path`` and we import
``vibeyard``. The pinned Node 22 from ``node_modules`` goes first on PATH before
jsii starts, so the runtime never falls back to an end-of-life system Node.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "constructs"))
_node_bin = ROOT / "node_modules" / ".bin"
if (_node_bin / "node").exists():
    os.environ["PATH"] = f"{_node_bin}{os.pathsep}{os.environ.get('PATH', '')}"

from vibeyard.synth.cli import run  # noqa: E402

if __name__ == "__main__":
    run()
