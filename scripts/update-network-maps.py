#!/usr/bin/env python3
"""Regenerate the golden connectivity maps in tests/network/ from the config.

Run it after a deliberate network change, then review the diff of
``tests/network/<env>-connectivity.txt`` (also copied into README.md's Security
section): it is the change in who may talk to whom, as network-config-analyzer
computes it from the synthesized policies and the committed cluster context.
``tests/test_security_network.py`` fails until the committed maps match.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "constructs"), str(ROOT)]
_node_bin = ROOT / "node_modules" / ".bin"
if (_node_bin / "node").exists():
    os.environ["PATH"] = f"{_node_bin}{os.pathsep}{os.environ.get('PATH', '')}"

from tests.validators import nca  # noqa: E402
from tests.validators.nca_queries import queries_for  # noqa: E402
from vibeyard.synth.cli import synthesize  # noqa: E402
from vibeyard.synth.inputs import resolve  # noqa: E402


def main() -> int:
    configs = resolve(None, overrides={}, root=ROOT)
    trees = synthesize(configs, ROOT)
    maps: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for cfg in configs:
            work = Path(tmp) / cfg.name
            inputs = nca.write_inputs(trees[cfg.name], work / "inputs")
            queries = queries_for(cfg)
            result = nca.run(cfg.name, inputs, queries, work / "nca")
            path = nca.map_path(cfg.name)
            changed = not path.exists() or path.read_text() != result.connectivity
            path.write_text(result.connectivity)
            maps[cfg.name] = result.connectivity
            print(f"{path.relative_to(ROOT)}: {'updated' if changed else 'unchanged'}")
            for failure in result.failures(queries):
                print(f"  warning: {failure.splitlines()[0]}", file=sys.stderr)
    nca.README.write_text(nca.with_readme_blocks(nca.README.read_text(), maps))
    print("README.md: Security section maps refreshed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
