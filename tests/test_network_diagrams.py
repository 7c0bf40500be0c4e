"""The reviewer's picture of who may talk to whom: docs/network/<env>.dot and .svg stay current.

network-config-analyzer draws each environment's connectivity map as a graphviz
graph (one node per workload, one edge per allowed connection, labelled with the
ports) from the synthesized NetworkPolicies and the committed cluster context.
``scripts/update-network-maps.py`` commits that source as ``docs/network/<env>.dot``
and graphviz's rendering of it as ``docs/network/<env>.svg``; CI links both from the
pull request's job summary next to the rendered diff.

Freshness is checked without graphviz: the .dot must equal what nca draws now (one
nca process for every environment), and the .svg must hold exactly the .dot's nodes
and labelled edges, so an SVG left behind after a network change fails too. Its
pixels are graphviz's business and may differ between graphviz builds.
"""

from __future__ import annotations

import os
import re
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
import yaml

from tests.validators import nca
from vibeyard.config import EnvConfig, names

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "network"
UPDATE_HINT = "run `python scripts/update-network-maps.py` and review the diff"
_SVG = "{http://www.w3.org/2000/svg}"
_NODE = re.compile(r'^\s*("(?:[^"\\]|\\.)*"|\w+) \[', re.M)
_EDGE = re.compile(r'^\s*"((?:[^"\\]|\\.)*)" -> "((?:[^"\\]|\\.)*)" \[label="((?:[^"\\]|\\.)*)"', re.M)

Edge = tuple[str, str, str]


def dot_path(env: str) -> Path:
    return DOCS / f"{env}.dot"


def svg_path(env: str) -> Path:
    return DOCS / f"{env}.svg"


def dot_sources(
    trees: Mapping[str, Mapping[str, str]], configs: Sequence[EnvConfig], workdir: Path
) -> dict[str, str]:
    """nca's graphviz source of every environment's connectivity map, from one nca process.

    The same inputs as the golden text maps (``nca.write_inputs`` plus the cluster
    context), and the same fixed hash seed, so the drawing is as stable as they are.
    """
    network_configs, queries = [], []
    for cfg in configs:
        inputs = nca.write_inputs(trees[cfg.name], workdir / cfg.name)
        network_configs.append({"name": cfg.name, "resourceList": [str(inputs), str(nca.CONTEXT)]})
        queries.append(
            {
                "name": f"connectivity-{cfg.name}",
                "connectivityMap": [cfg.name],
                "outputConfiguration": {
                    "outputFormat": "dot",
                    "outputPath": str(workdir / f"{cfg.name}.dot"),
                    "subset": {"namespace_subset": cfg.namespace},
                },
            }
        )
    scheme = workdir / "diagrams.yaml"
    scheme.write_text(yaml.safe_dump({"networkConfigList": network_configs, "queries": queries}))
    proc = subprocess.run(
        [str(nca.NCA), "--scheme", str(scheme)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    sources = {}
    for cfg in configs:
        out = workdir / f"{cfg.name}.dot"
        if not out.is_file():
            raise RuntimeError(
                f"{cfg.name}: nca drew no graph (exit {proc.returncode}):\n{proc.stdout[-2000:]}"
            )
        sources[cfg.name] = out.read_text(encoding="utf-8").rstrip("\n") + "\n"
    return sources


def dot_graph(source: str) -> tuple[set[str], set[Edge]]:
    """Node ids and (from, to, label) edges of nca's dot output (one statement a line)."""
    edges = {(a, b, label) for a, b, label in _EDGE.findall(source)}
    nodes = {n.strip('"') for n in _NODE.findall(source)}
    return nodes, edges


def svg_graph(svg: str) -> tuple[set[str], set[Edge]]:
    """The same, read back from graphviz's SVG: each node and edge is a titled group."""
    root = ET.fromstring(svg)
    nodes, edges = set(), set()
    for group in root.iter(f"{_SVG}g"):
        title = group.findtext(f"{_SVG}title") or ""
        if group.get("class") == "node":
            nodes.add(title)
        elif group.get("class") == "edge":
            src, _, dst = title.partition("->")
            label = " ".join(t.text or "" for t in group.iter(f"{_SVG}text"))
            edges.add((src, dst, label))
    return nodes, edges


@pytest.fixture(scope="session")
def drawn(
    synthesized: dict[str, dict[str, str]],
    configs: dict[str, EnvConfig],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, str]:
    return dot_sources(synthesized, list(configs.values()), tmp_path_factory.mktemp("diagrams"))


@pytest.mark.parametrize("env", tuple(names()))
def test_committed_diagram_source_is_current(env: str, drawn: dict[str, str]) -> None:
    path = dot_path(env)
    assert path.is_file(), f"{env}: no diagram at {path.relative_to(ROOT)}; {UPDATE_HINT}"
    committed, now = dot_graph(path.read_text(encoding="utf-8")), dot_graph(drawn[env])
    missing, extra = now[1] - committed[1], committed[1] - now[1]
    assert path.read_text(encoding="utf-8") == drawn[env], (
        f"{env}: {path.relative_to(ROOT)} is stale; {UPDATE_HINT}. "
        f"Connections now allowed but not drawn: {sorted(missing)}; drawn but gone: {sorted(extra)}"
    )


@pytest.mark.parametrize("env", tuple(names()))
def test_committed_svg_is_rendered_from_the_committed_source(env: str) -> None:
    dot, svg = dot_path(env), svg_path(env)
    assert svg.is_file(), f"{env}: no picture at {svg.relative_to(ROOT)}; {UPDATE_HINT}"
    nodes, edges = dot_graph(dot.read_text(encoding="utf-8"))
    assert len(edges) > 1 and len(nodes) > 2, f"{env}: {dot.name} parsed to no graph: the parser is broken"
    drawn_nodes, drawn_edges = svg_graph(svg.read_text(encoding="utf-8"))
    assert (drawn_nodes, drawn_edges) == (nodes, edges), (
        f"{env}: {svg.relative_to(ROOT)} is not the rendering of {dot.name}; {UPDATE_HINT}. "
        f"Edges only in the SVG: {sorted(drawn_edges - edges)}; "
        f"only in the source: {sorted(edges - drawn_edges)}"
    )


def test_every_environment_has_a_diagram(configs: dict[str, EnvConfig]) -> None:
    """A new environment gets its picture; a deleted one loses it."""
    on_disk = {p.stem for p in DOCS.glob("*.dot")} | {p.stem for p in DOCS.glob("*.svg")}
    assert on_disk == set(configs), f"docs/network/ holds {sorted(on_disk)}; {UPDATE_HINT}"
