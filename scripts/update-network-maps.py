#!/usr/bin/env python3
"""Regenerate the golden connectivity maps and the reviewers' network diagrams from the config.

Run it after a deliberate network change, then review the diff of
``tests/network/<env>-connectivity.txt`` (also copied into docs/security.md's
section) and ``docs/network/<env>.dot``: both are the change in who may talk to
whom, as network-config-analyzer computes it from the synthesized policies and
the committed cluster context. ``docs/network/<env>.svg`` is graphviz's drawing
of the .dot (``apt-get install graphviz``). ``tests/test_security_network.py``
and ``tests/test_network_diagrams.py`` fail until the committed files match.

Like the tests, it renders the code's own image, never the release pins: a
release must not change a map (the migration Job's name carries the tag).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "constructs"), str(ROOT)]
_node_bin = ROOT / "node_modules" / ".bin"
if (_node_bin / "node").exists():
    os.environ["PATH"] = f"{_node_bin}{os.pathsep}{os.environ.get('PATH', '')}"

from tests.test_network_diagrams import DOCS, dot_path, dot_sources, svg_path  # noqa: E402
from tests.validators import nca  # noqa: E402
from tests.validators.nca_queries import queries_for  # noqa: E402
from vibeyard.config import environments  # noqa: E402
from vibeyard.synth.charts import synthesize  # noqa: E402


def write(path: Path, text: str) -> None:
    changed = not path.exists() or path.read_text(encoding="utf-8") != text
    path.write_text(text, encoding="utf-8")
    print(f"{path.relative_to(ROOT)}: {'updated' if changed else 'unchanged'}")


def main() -> int:
    graphviz = shutil.which("dot")
    if graphviz is None:
        print(
            "update-network-maps.py: graphviz's `dot` is not on PATH (apt-get install graphviz)",
            file=sys.stderr,
        )
        return 2
    configs = list(environments().values())
    trees = synthesize(configs, ROOT)
    maps: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for cfg in configs:
            work = Path(tmp) / cfg.name
            inputs = nca.write_inputs(trees[cfg.name], work / "inputs")
            queries = queries_for(cfg)
            result = nca.run(cfg.name, inputs, queries, work / "nca")
            write(nca.map_path(cfg.name), result.connectivity)
            maps[cfg.name] = result.connectivity
            for failure in result.failures(queries):
                print(f"  warning: {failure.splitlines()[0]}", file=sys.stderr)
        sources = dot_sources(trees, configs, Path(tmp) / "diagrams")
    nca.README.write_text(nca.with_readme_blocks(nca.README.read_text(), maps))
    print(f"{nca.README.relative_to(ROOT)}: connectivity maps refreshed")

    DOCS.mkdir(parents=True, exist_ok=True)
    for stale in [*DOCS.glob("*.dot"), *DOCS.glob("*.svg")]:
        if stale.stem not in sources:
            stale.unlink()
            print(f"{stale.relative_to(ROOT)}: removed (no such environment)")
    for env, source in sources.items():
        write(dot_path(env), source)
        svg = subprocess.run(
            [graphviz, "-Grankdir=LR", "-Tsvg"], input=source, capture_output=True, text=True, check=True
        )
        write(svg_path(env), svg.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
