"""Who may talk to whom, for reviewers: docs/network/<env>.txt, .dot and .svg stay current and honest.

For every environment in dist/ (none is named here), network-config-analyzer's
connectivity map of the rendered output must equal the committed list, the committed
.dot must be the drawing of that list, and the .svg graphviz's rendering of the .dot.
Beyond freshness: the list holds what the rendered policies plainly allow (derived
here from the policies, independently of the code that writes the list), has no
duplicates, and a planted wider policy shows up in it as new lines; the picture has
one internet node, a box per namespace and a legend. ``scripts/update-network-maps.py``
regenerates everything (``make update``); it is run here on a brand-new environment and
on a broken checkout, where it must write nothing.
"""

from __future__ import annotations

import copy
import difflib
import functools
import importlib.util
import itertools
import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from tests.network import connectivity, diagram
from tests.network.connectivity import INTERNET, parse_line, parse_list
from tests.validators import nca
from tests.validators.manifests import Manifest, load_yaml, matches, pod_template
from tests.validators.nca_queries import NS_LABEL

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"
DOCS = ROOT / "docs" / "network"
SCRIPT = ROOT / "scripts" / "update-network-maps.py"
UPDATE_HINT = "run `make update` and review the diff"
ENVS = tuple(connectivity.environments(DIST))
_SVG = "{http://www.w3.org/2000/svg}"

Trees = dict[str, dict[str, str]]


def _tree(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.yaml"))}


def _objects(tree: dict[str, str]) -> list[Manifest]:
    return [load_yaml(text) for text in tree.values()]


def _context(objects: list[Manifest]) -> list[Manifest]:
    return nca.context(objects)


def _committed(env: str, ext: str) -> str:
    path = DOCS / f"{env}.{ext}"
    assert path.is_file(), f"{env}: no {path.relative_to(ROOT)}; {UPDATE_HINT}"
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def trees() -> Trees:
    return {env: _tree(DIST / env) for env in ENVS}


@pytest.fixture(scope="session")
def computed(trees: Trees, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """nca's list for every environment in dist/, from one nca process."""
    return nca.connectivity_lists(trees, tmp_path_factory.mktemp("network-lists"))


def test_every_environment_has_its_list_and_picture() -> None:
    """A new environment gets its files; a deleted one loses them."""
    assert ENVS, f"{DIST.relative_to(ROOT)} holds no environment: run `make synth`"
    for ext in ("txt", "dot", "svg"):
        on_disk = sorted(p.stem for p in DOCS.glob(f"*.{ext}"))
        assert on_disk == list(ENVS), (
            f"docs/network/*.{ext} are for {on_disk}, dist/ has {list(ENVS)}; {UPDATE_HINT}"
        )


# --- the list ------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVS)
def test_committed_list_is_current(env: str, computed: dict[str, str]) -> None:
    committed = _committed(env, "txt")
    diff = "\n".join(
        difflib.unified_diff(
            committed.splitlines(), computed[env].splitlines(), "committed", "now", lineterm="", n=0
        )
    )
    assert committed == computed[env], f"{env}: docs/network/{env}.txt is stale; {UPDATE_HINT}:\n{diff}"


@pytest.mark.parametrize("env", ENVS)
def test_list_is_sorted_with_one_line_per_connection(env: str) -> None:
    text = _committed(env, "txt")
    assert text.startswith("#"), f"{env}.txt: the first line says what the file is"
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert len(lines) > 3, f"{env}.txt: {len(lines)} connections: the list is broken"
    assert lines == sorted(set(lines)), f"{env}.txt: not sorted or has duplicate lines"
    conns = parse_list(text)
    for c in conns:
        assert c.src != c.dst, f"{env}.txt: {c.line()}: a workload to itself"


def _endpoint_name(peer: dict[str, Any]) -> str | None:
    """The list's name of an ipBlock peer: what the file's header and docs/security.md promise."""
    block = peer["ipBlock"]
    if block["cidr"] == "0.0.0.0/0" and block.get("except"):
        return INTERNET
    return None if block.get("except") else str(block["cidr"])


def _our_pods(objects: list[Manifest]) -> list[tuple[str, str, dict[str, str]]]:
    """(namespace, list name, labels) of our workloads: named by app.kubernetes.io/name, as promised."""
    out = []
    for obj in objects:
        tpl = pod_template(obj)
        if tpl is not None and obj["kind"] != "Pod":
            labels, ns = tpl["metadata"].get("labels") or {}, obj["metadata"]["namespace"]
            out.append((ns, f"{ns}/{labels.get('app.kubernetes.io/name', obj['metadata']['name'])}", labels))
    return out


def _outside(peer: dict[str, Any], ns: str, context: list[Manifest]) -> list[str]:
    """The list's names of what a policy peer selects outside namespace ``ns``."""
    if "ipBlock" in peer:
        return [n for n in [_endpoint_name(peer)] if n]
    if "namespaceSelector" not in peer:
        return []
    return [
        f"{p_ns}/{p['metadata']['name']}"
        for p in context
        if p["kind"] == "Pod"
        and (p_ns := p["metadata"]["namespace"]) != ns
        and matches(peer["namespaceSelector"], {NS_LABEL: p_ns})
        and matches(peer.get("podSelector", {}), p["metadata"]["labels"])
    ]


def _must_have(objects: list[Manifest]) -> Iterator[tuple[str, str, str, int]]:
    """(from, to, protocol, port) that a policy allows outright: the other end is outside our namespace.

    The cluster context's pods and the internet have no policies, so an egress rule to
    them, or an ingress rule from them, is the whole story.
    """
    ours, context = _our_pods(objects), _context(objects)
    for policy in (o for o in objects if o["kind"] == "NetworkPolicy"):
        ns, spec = policy["metadata"]["namespace"], policy["spec"]
        pods = [n for p_ns, n, labels in ours if p_ns == ns and matches(spec["podSelector"], labels)]
        for direction, peers_key in (("egress", "to"), ("ingress", "from")):
            for rule in spec.get(direction) or []:
                others = [o for peer in rule.get(peers_key) or [] for o in _outside(peer, ns, context)]
                ports = [p for p in rule.get("ports") or [] if isinstance(p.get("port"), int)]
                for pod, other, port in itertools.product(pods, others, ports):
                    src, dst = (pod, other) if direction == "egress" else (other, pod)
                    yield src, dst, port.get("protocol", "TCP"), port["port"]


@pytest.mark.parametrize("env", ENVS)
def test_list_has_what_the_policies_plainly_allow(env: str, trees: Trees) -> None:
    """E.g. the web workload reaches the internet on 443 because its egress policy says so."""
    expected = set(_must_have(_objects(trees[env])))
    assert len(expected) > 3, (
        f"{env}: derived {len(expected)} connections from the policies: the derivation is broken"
    )
    have: dict[tuple[str, str, str], list[tuple[int, int]]] = {}
    for c in parse_list(_committed(env, "txt")):
        proto, lo, hi = c.ports() or ("", 0, -1)
        have.setdefault((c.src, c.dst, proto), []).append((lo, hi))
    missing = sorted(
        f"{src} → {dst} {proto} {port}"
        for src, dst, proto, port in expected
        if not any(lo <= port <= hi for lo, hi in have.get((src, dst, proto), []))
    )
    assert not missing, f"{env}: docs/network/{env}.txt lacks connections its policies allow: {missing}"


Planted = tuple[dict[str, str], str, dict[str, str]]


def _plant_egress_to_internet(env: str, tree: dict[str, str]) -> Planted | None:
    """A copy of ``tree`` with one more policy: a workload that cannot reach the internet now can.

    Also the line that must appear, and the workload's labels.
    """
    objects = _objects(tree)
    lines = {c.line() for c in parse_list(_committed(env, "txt"))}
    internet = [
        peer
        for o in objects
        if o["kind"] == "NetworkPolicy"
        for rule in o["spec"].get("egress") or []
        for peer in rule.get("to") or []
        if "ipBlock" in peer and _endpoint_name(peer) == INTERNET
    ]
    for obj in objects:
        tpl = pod_template(obj)
        if tpl is None or obj["kind"] == "Pod" or not internet:
            continue
        labels, ns = tpl["metadata"]["labels"], obj["metadata"]["namespace"]
        want = f"{ns}/{labels.get('app.kubernetes.io/name', obj['metadata']['name'])} → {INTERNET} TCP 443"
        if want in lines:
            continue
        egress = [{"to": [copy.deepcopy(internet[0])], "ports": [{"protocol": "TCP", "port": 443}]}]
        spec = {"podSelector": {"matchLabels": labels}, "policyTypes": ["Egress"], "egress": egress}
        return _with_policy(tree, ns, "planted-to-internet", spec), want, labels
    return None


def _with_policy(tree: dict[str, str], ns: str, name: str, spec: dict[str, Any]) -> dict[str, str]:
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    }
    return {**tree, f"02-networkpolicy-{name}.yaml": yaml.safe_dump(policy, sort_keys=False)}


def test_planted_wider_policies_show_up_as_new_lines(trees: Trees, tmp_path: Path) -> None:
    """What `make diff` shows a reviewer: a workload newly allowed out to the internet, or in from anyone."""
    planted = next(((env, p) for env in ENVS if (p := _plant_egress_to_internet(env, trees[env]))), None)
    assert planted, "no environment has a workload without internet access to plant a defect on"
    env, (to_internet, want, labels) = planted
    workload = want.split(" → ")[0]
    spec = {"podSelector": {"matchLabels": labels}, "policyTypes": ["Ingress"], "ingress": [{}]}
    allow_all = _with_policy(trees[env], workload.split("/")[0], "planted-allow-all", spec)
    after = nca.connectivity_lists({env: to_internet, f"{env}-all": allow_all}, tmp_path)
    before = set(_committed(env, "txt").splitlines()[1:])

    new = set(after[env].splitlines()[1:])
    assert (new - before, before - new) == ({want}, set()), (
        f"{env}: egress to the internet, planted on {workload}"
    )

    wide = set(after[f"{env}-all"].splitlines()[1:])
    assert not before - wide, f"{env}: allowing more must not remove a line: {sorted(before - wide)}"
    added = wide - before
    assert f"other-team/other-app → {workload} all" in added, (
        f"{env}: allow-all ingress to {workload}: {sorted(added)}"
    )
    assert {parse_line(line).dst for line in added} == {workload}, sorted(added)


# --- the picture ---------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVS)
def test_committed_diagram_source_is_drawn_from_the_list(env: str, trees: Trees) -> None:
    roles = diagram.roles(_objects(trees[env]), _context(_objects(trees[env])))
    drawn = diagram.render(env, parse_list(_committed(env, "txt")), roles)
    assert _committed(env, "dot") == drawn, f"{env}: docs/network/{env}.dot is stale; {UPDATE_HINT}"


def _svg_groups(svg: str) -> dict[str, tuple[str, str, ET.Element]]:
    """Every node, edge and cluster of graphviz's SVG: id → (class, title, element)."""
    root = ET.fromstring(svg)
    return {
        g.get("id", ""): (g.get("class", ""), g.findtext(f"{_SVG}title") or "", g)
        for g in root.iter(f"{_SVG}g")
        if g.get("class") in ("graph", "node", "edge", "cluster")
    }


def _bbox(element: ET.Element) -> tuple[float, float, float, float]:
    """The extent of an SVG group's polygons and paths (graphviz writes absolute x,y pairs)."""
    pairs = [
        (float(x), float(y))
        for shape in element
        if shape.tag in (f"{_SVG}polygon", f"{_SVG}path")
        for x, y in re.findall(r"(-?[\d.]+),(-?[\d.]+)", shape.get("points", "") + shape.get("d", ""))
    ]
    xs, ys = [x for x, _ in pairs], [y for _, y in pairs]
    return min(xs), min(ys), max(xs), max(ys)


def _texts(element: ET.Element) -> str:
    return " ".join(t.text or "" for t in element.iter(f"{_SVG}text"))


@pytest.mark.parametrize("env", ENVS)
def test_committed_svg_is_the_rendering_of_the_source(env: str) -> None:
    """Same nodes, edges and boxes as the .dot (pixels are graphviz's business), nothing volatile."""
    svg, dot = _committed(env, "svg"), _committed(env, "dot")
    groups = _svg_groups(svg)
    ids = set(re.findall(r'\bid="([^"]+)"', dot))
    assert len(ids) > 5, f"{env}.dot: {len(ids)} ids: the parser is broken"
    assert set(groups) == ids, (
        f"{env}: docs/network/{env}.svg is not the rendering of {env}.dot; {UPDATE_HINT}. "
        f"Only in the SVG: {sorted(set(groups) - ids)}; only in the source: {sorted(ids - set(groups))}"
    )
    assert "<!--" not in svg, f"{env}.svg: graphviz's comments (its version, element names) are diff noise"


@pytest.mark.parametrize("env", ENVS)
def test_picture_reads_at_a_glance(env: str) -> None:
    """One internet node, a box per namespace holding its workloads, a legend, egress in its own colour."""
    groups = _svg_groups(_committed(env, "svg"))
    conns = parse_list(_committed(env, "txt"))
    nodes = {title: g for kind, title, g in groups.values() if kind == "node"}
    ranges = [t for t in nodes if re.fullmatch(r"[\d.]+-[\d.]+", t)]
    assert not ranges, f"{env}.svg: the internet is drawn as address ranges: {ranges}"
    if any(INTERNET in (c.src, c.dst) for c in conns):
        assert "the internet" in _texts(nodes[INTERNET]), f"{env}.svg: no node for the internet"

    clusters = {_texts(g): g for kind, _, g in groups.values() if kind == "cluster"}
    for name in {e for c in conns for e in (c.src, c.dst) if not connectivity.is_external(e)}:
        box = clusters.get(f"namespace {name.split('/')[0]}")
        assert box is not None, f"{env}.svg: no box for the namespace of {name}"
        (x0, y0, x1, y1), (a0, b0, a1, b1) = _bbox(box), _bbox(nodes[name])
        assert x0 <= a0 and a1 <= x1 and y0 <= b0 and b1 <= y1, f"{env}.svg: {name} is outside its namespace"

    legend = " ".join(text for g in nodes.values() if "Legend" in (text := _texts(g)))
    for word in ("client", "data store", "DNS", "monitoring", "egress"):
        assert word in legend, f"{env}.svg: the legend does not explain {word!r}: {legend!r}"

    def colours(leaving: bool) -> set[str]:
        """Edge colours by whether the edge leaves the cluster."""
        return {
            path.get("stroke", "")
            for kind, title, g in groups.values()
            if kind == "edge" and connectivity.is_external(title.split("->")[1].split(":")[0]) == leaving
            for path in g.iter(f"{_SVG}path")
        }

    if any(connectivity.is_external(c.dst) for c in conns):
        assert len(colours(True)) == 1, f"{env}.svg: edges leaving the cluster in {colours(True)}"
        assert not colours(True) & colours(False), f"{env}.svg: egress looks like in-cluster traffic"


def test_security_doc_links_every_environment() -> None:
    readme = nca.README.read_text(encoding="utf-8")
    lists = {env: _committed(env, "txt") for env in ENVS}
    assert nca.with_readme_blocks(readme, lists) == readme, (
        f"docs/security.md's connectivity table is stale; {UPDATE_HINT}"
    )


# --- the regenerate command ----------------------------------------------------------


def _scratch_repo(tmp_path: Path, envs: dict[str, str]) -> Path:
    """A repository root holding dist/<new name> copies of real environments and docs/security.md."""
    root = tmp_path / "repo"
    for new, old in envs.items():
        shutil.copytree(DIST / old, root / "dist" / new)
    listing = json.loads((DIST / "environments.json").read_text(encoding="utf-8"))
    listing = {new: listing[old] for new, old in envs.items()}
    (root / "dist" / "environments.json").write_text(json.dumps(listing), encoding="utf-8")
    for other in ("argocd", "releases"):  # folders that are not environments
        (root / "dist" / other).mkdir()
        (root / "dist" / other / "x.json").write_text("{}", encoding="utf-8")
    (root / "docs").mkdir(exist_ok=True)
    shutil.copy(nca.README, root / "docs" / "security.md")
    return root


def _update(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@functools.cache
def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("update_network_maps", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _update_here(root: Path, capsys: pytest.CaptureFixture[str]) -> subprocess.CompletedProcess[str]:
    """The script's main() in this process, for the cases after the first: a command run
    (``_update``) has proven the wiring, and this one starts no Python."""
    code = _script().main(["--root", str(root)])
    said = capsys.readouterr()
    return subprocess.CompletedProcess([str(SCRIPT)], code, said.out, said.err)


def test_update_creates_a_new_environment_and_removes_a_gone_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _scratch_repo(tmp_path, {"qa": ENVS[0]})
    docs = root / "docs" / "network"
    docs.mkdir()
    for ext in ("txt", "dot", "svg"):
        (docs / f"gone.{ext}").write_text("old\n", encoding="utf-8")
    proc = _update(root)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in docs.iterdir()) == ["qa.dot", "qa.svg", "qa.txt"]
    qa = (docs / "qa.txt").read_text(encoding="utf-8").splitlines()
    assert qa[0].startswith("# qa: ")
    assert qa[1:] == _committed(ENVS[0], "txt").splitlines()[1:], "the same objects give the same list"
    assert "| qa | [" in (root / "docs" / "security.md").read_text(encoding="utf-8")
    again = _update_here(root, capsys)
    assert again.returncode == 0 and "updated" not in again.stdout, "a second run changes nothing"
    assert again.stdout.count("unchanged") == 4, again.stdout


def test_update_fails_in_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _scratch_repo(tmp_path, {"qa": ENVS[0]})
    security = root / "docs" / "security.md"
    security.write_text("# Security\n\nno generated table here\n", encoding="utf-8")
    proc = _update(root)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert len(proc.stderr.splitlines()) == 1 and "docs/security.md" in proc.stderr, proc.stderr
    assert not (root / "docs" / "network").exists(), "nothing is written when anything fails"
    assert security.read_text(encoding="utf-8") == "# Security\n\nno generated table here\n"

    shutil.rmtree(root / "dist")
    proc = _update_here(root, capsys)
    assert (proc.returncode, proc.stderr.count("\n")) == (2, 1), proc.stderr
    assert "make synth" in proc.stderr, proc.stderr
