"""docs/network/<env>.dot: the connectivity list drawn for people, grouped by namespace.

The picture is a function of the committed list (docs/network/<env>.txt) and of
each endpoint's role, nothing else, so a test can check it without graphviz. Roles:
our workloads are ``store`` (by their ``app.kubernetes.io/component`` label) or
``app``; the cluster context's stand-ins carry a ``network-map/role`` annotation.

Readability: one box per namespace, callers on the left, our namespace in the
middle, DNS and the outside world on the right; each node is a small table whose
rows are the ports something may reach, and every edge ends at its row, so no label
can drift away from its edge; one colour per class of traffic, and a legend. An edge
that every workload of a namespace has (DNS) leaves the namespace's box once.

Small diffs: this module places every node; graphviz (``neato -n2``) only routes the
edges and writes the SVG. Every element has an explicit ``id``, so nothing is
renumbered, and a new connection between drawn workloads adds its own edge and
moves nothing else.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tests.network.connectivity import INTERNET, Connection, is_external, workload_names
from tests.validators.manifests import Manifest, pod_template

ROLE_ANNOTATION = "network-map/role"
COMPONENT_LABEL = "app.kubernetes.io/component"
STORE_COMPONENTS = frozenset({"database", "queue", "cache", "connection-pooler"})
OUR_ROLES = frozenset({"app", "store"})

# class → (colour, legend text); the legend always lists all of them, in this order.
CLASSES: dict[str, tuple[str, str]] = {
    "client": ("#1f6fd1", "client traffic from the edge"),
    "store": ("#2e9e44", "to a data store in the cluster"),
    "dns": ("#8c8c8c", "DNS"),
    "monitoring": ("#8e44ad", "monitoring and autoscaling"),
    "egress": ("#d9480f", "egress: internet, external services"),
    "other": ("#c2185b", "anything else"),
}
FONT = "Helvetica"


def roles(objects: Iterable[Manifest], context: Iterable[Manifest]) -> dict[str, str]:
    """Endpoint name → role, for our workloads (``objects``) and the cluster context's pods."""
    objects = list(objects)
    names = workload_names(objects)
    found = {}
    for obj in objects:
        tpl = pod_template(obj)
        if tpl is None or obj.get("kind") == "Pod":
            continue
        labels = tpl.get("metadata", {}).get("labels") or {}
        key = f"{obj['metadata'].get('namespace', '')}/{obj['metadata']['name']}"
        found[names[key]] = "store" if labels.get(COMPONENT_LABEL) in STORE_COMPONENTS else "app"
    for pod in context:
        if pod.get("kind") == "Pod":
            meta = pod["metadata"]
            found[f"{meta['namespace']}/{meta['name']}"] = (meta.get("annotations") or {}).get(
                ROLE_ANNOTATION, "other"
            )
    return found


def edge_class(src: str, dst: str, role: Mapping[str, str]) -> str:
    if is_external(dst):
        return "egress"
    if is_external(src) or role.get(src) == "edge":
        return "client"
    if role.get(dst) == "dns":
        return "dns"
    if role.get(src) in ("monitoring", "autoscaling"):
        return "monitoring"
    if role.get(dst) == "store":
        return "store"
    return "other"


def _id(kind: str, *names: str) -> str:
    """An SVG element id made of ``[A-Za-z0-9_.]`` only: graphviz escapes anything else."""
    return "__".join([kind, *(re.sub(r"[^A-Za-z0-9.]+", "_", n) for n in names)])


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _attrs(**attrs: str) -> str:
    return "[" + " ".join(f"{k}={_q(v)}" for k, v in attrs.items()) + "]"


def port_label(conns: Iterable[str]) -> str:
    """``TCP 53``, ``UDP 53`` → ``TCP+UDP 53``; several ports of one protocol are listed in order."""
    by_ports: dict[str, list[str]] = defaultdict(list)
    for conn in sorted(conns):
        proto, _, ports = conn.partition(" ")
        by_ports[ports].append(proto)
    return "\n".join(f"{'+'.join(protos)} {ports}".strip() for ports, protos in by_ports.items())


@dataclass(frozen=True)
class _Edge:
    src: str
    dst: str
    port: str  # one row of the destination's table: "TCP 6379", "TCP+UDP 53"
    whole_namespace: str | None  # drawn from the namespace's box: every workload of it has this edge


def _edges(connections: Iterable[Connection], nodes_by_ns: Mapping[str, set[str]]) -> list[_Edge]:
    conns: dict[tuple[str, str], list[str]] = defaultdict(list)
    for c in connections:
        conns[c.src, c.dst].append(c.conn)
    sources: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for (src, dst), found in conns.items():
        for port in port_label(found).splitlines():
            sources[_namespace(src), dst, port].add(src)
    edges = []
    for (ns, dst, port), srcs in sorted(sources.items()):
        if ns and len(srcs) >= 3 and srcs == nodes_by_ns.get(ns):
            edges.append(_Edge(min(srcs), dst, port, ns))
        else:
            edges += [_Edge(src, dst, port, None) for src in sorted(srcs)]
    return edges


def _namespace(endpoint: str) -> str:
    return "" if is_external(endpoint) else endpoint.split("/", 1)[0]


def _port_id(port: str) -> str:
    return "p_" + re.sub(r"[^A-Za-z0-9]+", "_", port)


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- layout --------------------------------------------------------------------------
# Positions are computed here from the set of nodes (and the namespace's own edges,
# for its columns), and graphviz only routes the edges (neato -n2): adding a
# connection between drawn workloads adds its edge to the SVG and moves nothing else.
# Cells have a fixed size, so the geometry does not depend on graphviz's font metrics.
# Bands are aligned at the bottom, where graphviz's y axis starts: a band that grows
# moves only its own boxes above the insertion, not every coordinate of the file.

TITLE_H, PORT_H = 22, 18  # points
GAP_Y, GAP_COLUMN, GAP_BAND = 18, 110, 140
PAD, LABEL_H = 12, 22


@dataclass
class _Node:
    name: str
    title: str
    ports: list[str]
    kind: str  # role, or "external"
    x: float = 0
    y: float = 0  # centre, top-down

    @property
    def width(self) -> int:
        title = 7.0 * len(self.title)
        ports = max((5.4 * len(p) for p in self.ports), default=0)
        return int(max(title, ports, 40) + 16)

    @property
    def height(self) -> int:
        return TITLE_H + PORT_H * len(self.ports) + 2


@dataclass
class _Group:
    """A namespace's box (``ns`` "" is outside the cluster): columns of nodes under a label."""

    ns: str
    label: str
    fill: str
    style: str
    columns: list[list[_Node]]
    x: float = 0
    y: float = 0  # top-left, top-down

    @property
    def key(self) -> str:
        return f"cluster_ns_{self.ns}" if self.ns else "cluster_outside"

    def _content_width(self) -> float:
        return sum(max(n.width for n in col) for col in self.columns) + GAP_COLUMN * (len(self.columns) - 1)

    @property
    def width(self) -> float:
        return max(self._content_width(), 6.6 * len(self.label)) + 2 * PAD

    @property
    def height(self) -> float:
        tallest = max(sum(n.height for n in col) + GAP_Y * (len(col) - 1) for col in self.columns)
        return tallest + LABEL_H + 2 * PAD

    def place(self, x: float, y: float) -> None:
        self.x, self.y = x, y
        left = x + (self.width - self._content_width()) / 2
        for col in self.columns:
            width = max(n.width for n in col)
            top = y + LABEL_H + PAD
            for n in col:
                n.x, n.y = left + width / 2, top + n.height / 2
                top += n.height + GAP_Y
            left += width + GAP_COLUMN


def _depths(names: set[str], edges: Iterable[_Edge]) -> dict[str, int]:
    """Column of each workload of a namespace: the longest chain of its own edges leading to it."""
    inner = {(e.src, e.dst) for e in edges if e.src in names and e.dst in names}
    depth = dict.fromkeys(names, 0)
    for _ in names:  # at most len(names) rounds, so a cycle cannot loop forever
        for src, dst in sorted(inner):
            depth[dst] = max(depth[dst], min(depth[src] + 1, len(names)))
    return depth


def _groups(nodes: Mapping[str, _Node], edges: list[_Edge], ours: set[str]) -> list[list[_Group]]:
    """Three bands, left to right: who calls in, our namespaces, what we call out to."""
    by_ns: dict[str, list[_Node]] = defaultdict(list)
    for n in sorted(nodes.values(), key=lambda n: n.name):
        by_ns[_namespace(n.name)].append(n)
    bands: list[list[_Group]] = [[], [], []]
    for ns, members in sorted(by_ns.items(), key=lambda kv: (kv[0] == "", kv[0])):
        if ns in ours:
            depth = _depths({n.name for n in members}, edges)
            columns = [[n for n in members if depth[n.name] == d] for d in sorted(set(depth.values()))]
            bands[1].append(_Group(ns, f"namespace {ns}", "#f3f7fd", "rounded,filled", columns))
        elif not ns:
            bands[2].append(_Group(ns, "outside the cluster", "", "rounded,dashed", [members]))
        else:
            right = all(n.kind == "dns" for n in members)
            bands[2 if right else 0].append(
                _Group(ns, f"namespace {ns}", "#f7f7f7", "rounded,filled", [members])
            )
    return bands


def _layout(bands: list[list[_Group]], legend: tuple[int, int]) -> tuple[float, float, float, float]:
    """Place every group, and the legend atop the left band: (width, height, legend's centre x, y)."""
    heights = [sum(g.height for g in band) + GAP_Y * max(len(band) - 1, 0) for band in bands]
    heights[0] += legend[1] + GAP_Y
    total = max(heights)
    x, legend_x, legend_y = 0.0, 0.0, 0.0
    for i, band in enumerate(bands):
        width = max([g.width for g in band] + ([legend[0]] if i == 0 else []), default=0)
        y = total - heights[i]  # bottom-aligned: graphviz measures y from the bottom, see above
        if i == 0:
            legend_x, legend_y = x + width / 2, y + legend[1] / 2
            y += legend[1] + GAP_Y
        for g in band:
            g.place(x + (width - g.width) / 2, y)
            y += g.height + GAP_Y
        x += width + (GAP_BAND if width else 0)
    return x - GAP_BAND, total, legend_x, legend_y


# --- graphviz source -----------------------------------------------------------------


def _node(n: _Node, height: float) -> str:
    """A table: the workload's name, then one row per port something connects to (edges end there)."""
    fill, border = {
        "store": ("#e3f4e6", "#2e7d32"),
        "app": ("#ffffff", "#3c4a5c"),
        "external": ("#fde7dc", "#b23c0a"),
    }.get(n.kind, ("#f0f0f0", "#707070"))
    w = n.width - 2
    rows = "".join(
        f'<TR><TD PORT="{_port_id(p)}" FIXEDSIZE="TRUE" WIDTH="{w}" HEIGHT="{PORT_H - 1}" BORDER="1" '
        f'SIDES="T" COLOR="{border}"><FONT POINT-SIZE="9">{_html(p)}</FONT></TD></TR>'
        for p in n.ports
    )
    table = (
        f'<<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0" STYLE="ROUNDED" '
        f'BGCOLOR="{fill}" COLOR="{border}"><TR><TD PORT="out" FIXEDSIZE="TRUE" WIDTH="{w}" '
        f'HEIGHT="{TITLE_H}"><B>{_html(n.title)}</B></TD></TR>{rows}</TABLE>>'
    )
    pos = f"{n.x:g},{height - n.y:g}!"
    return f'    {_q(n.name)} [id={_q(_id("node", n.name))} pos={_q(pos)} shape="plain" label={table}]'


LEGEND_NOTES = (
    "an edge ends at the port it may reach;",
    "an edge from a namespace box: from",
    "every workload in it",
)
LEGEND = (250, 20 + 2 + 20 * len(CLASSES) + 16 * len(LEGEND_NOTES) + 10)  # width, height


def _legend(x: float, y: float) -> str:
    width = LEGEND[0] - 12
    rows = "".join(
        f'<TR><TD FIXEDSIZE="TRUE" WIDTH="26" HEIGHT="14" BGCOLOR="{colour}"></TD>'
        f'<TD FIXEDSIZE="TRUE" WIDTH="{width - 28}" HEIGHT="18" ALIGN="LEFT">{text}</TD></TR>'
        for colour, text in CLASSES.values()
    )
    notes = "".join(
        f'<TR><TD COLSPAN="2" FIXEDSIZE="TRUE" WIDTH="{width}" HEIGHT="14" ALIGN="LEFT">'
        f'<FONT POINT-SIZE="9">{note}</FONT></TD></TR>'
        for note in LEGEND_NOTES
    )
    title = f'<TR><TD COLSPAN="2" FIXEDSIZE="TRUE" WIDTH="{width}" HEIGHT="20"><B>Legend</B></TD></TR>'
    table = (
        f'<<TABLE BORDER="1" STYLE="ROUNDED" COLOR="#bbbbbb" CELLBORDER="0" CELLSPACING="2" '
        f'CELLPADDING="0">{title}{rows}{notes}</TABLE>>'
    )
    return f'  "legend" [id="legend" pos="{x:g},{y:g}!" shape="plain" label={table}]'


def _box(g: _Group, height: float, whole: bool) -> list[str]:
    """A namespace's cluster; ``whole``: with the point its every-workload edges leave from."""
    bb = f"{g.x:g},{height - g.y - g.height:g},{g.x + g.width:g},{height - g.y:g}"
    attrs = _attrs(id=_id("cluster", g.key), label=g.label, bb=bb, style=g.style, fillcolor=g.fill)
    out = [
        f"  subgraph {_q(g.key)} {{",
        f'    {attrs[1:-1]} color="#9aa5b1" fontname={_q(FONT)} fontsize="12"',
    ]
    out += [_node(n, height) for col in g.columns for n in col]
    if whole:
        anchor = f"{g.x + g.width:g},{height - g.y - g.height / 2:g}!"
        point = _attrs(id=_id("all", g.ns), pos=anchor, shape="point", width="0.06", color="#9aa5b1")
        out.append(f"    {_q(_all(g.ns))} {point}")
    return [*out, "  }"]


def _all(ns: str) -> str:
    return f"all of {ns}"


GRAPH = {"fontname": FONT, "fontsize": "18", "labelloc": "t", "splines": "true", "outputorder": "edgesfirst"}


def render(env: str, connections: Iterable[Connection], role: Mapping[str, str]) -> str:
    """The graphviz source of ``env``'s picture, with every position fixed (render: ``neato -n2``)."""
    connections = sorted(connections)
    names = {c.src for c in connections} | {c.dst for c in connections}
    names |= {n for n, r in role.items() if r in OUR_ROLES}
    ours = {_namespace(n) for n, r in role.items() if r in OUR_ROLES}
    members: dict[str, set[str]] = defaultdict(set)
    for name in names:
        members[_namespace(name)].add(name)
    edges = _edges(connections, members)
    ports: dict[str, set[str]] = defaultdict(set)
    for e in edges:
        ports[e.dst].add(e.port)
    nodes = {
        n: _Node(n, _title(n), sorted(ports[n]), role.get(n, "external" if is_external(n) else "other"))
        for n in names
    }
    bands = _groups(nodes, edges, ours)
    _, height, legend_x, legend_y = _layout(bands, LEGEND)
    out = [
        f"// {env}: who may talk to whom; drawn from docs/network/{env}.txt by make update (neato -n2)",
        f"digraph {_q(env)} {{",
        f"  graph {_attrs(id='graph', label=f'{env}: allowed connections', **GRAPH)}",
        f"  node {_attrs(fontname=FONT, fontsize='11')}",
        f"  edge {_attrs(arrowsize='0.7', penwidth='1.4')}",
    ]
    whole = {e.whole_namespace for e in edges}
    out += [line for band in bands for g in band for line in _box(g, height, g.ns in whole)]
    out.append(_legend(legend_x, height - legend_y))
    for e in edges:
        colour = CLASSES[edge_class(e.src, e.dst, role)][0]
        tail = {} if e.whole_namespace else {"tailport": "out:e"}
        edge_id = _id("edge", e.whole_namespace or e.src, e.dst, e.port)
        attrs = _attrs(id=edge_id, headport=f"{_port_id(e.port)}:w", color=colour, **tail)
        src = _all(e.whole_namespace) if e.whole_namespace else e.src
        out.append(f"  {_q(src)} -> {_q(e.dst)} {attrs}")
    out.append("}")
    return "\n".join(out) + "\n"


def _title(name: str) -> str:
    if name == INTERNET:
        return "the internet"
    return name if is_external(name) else name.split("/", 1)[1]
