"""Who may talk to whom, as one sorted line per allowed connection: docs/network/<env>.txt.

network-config-analyzer (nca) computes the connections; its dot output lists them
per workload pair, with one edge per address range it had to cut the policies'
ipBlocks into (the internet alone is five ranges once the private ones are
excepted). This module names the endpoints the way a reviewer thinks of them and
writes one line per (from, to, protocol, port range):

- ``<namespace>/<workload>`` for our pods, named by ``app.kubernetes.io/name`` so a
  release (the migration Job's name carries the image tag) does not rename them;
  ``<namespace>/<pod>`` for the stand-ins of tests/network/cluster-context.yaml;
- ``internet`` for ``0.0.0.0/0`` minus the ranges the policies except;
- the CIDR itself for any other ipBlock the policies name (a managed database);
- nca's raw range only where part of such a block is reachable, so a line never
  claims more than nca found.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.validators.manifests import Manifest, pod_template

INTERNET = "internet"
ANYWHERE = "0.0.0.0/0"
ARROW = " → "
NAME_LABEL = "app.kubernetes.io/name"
MAX_PORT = 65535
_WORKLOAD_NODE = re.compile(r"^(?P<key>[a-z0-9-]+/[^()]+)\((?P<kind>\w+)\)$")
_EDGE = re.compile(r'^\s*"(?P<src>[^"]+)" -> "(?P<dst>[^"]+)" \[label="(?P<label>[^"]*)"', re.M)
_IN_CLUSTER = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?/\S+$")
_PORTS = re.compile(r"^\d+(-\d+)?$")

# (IP version, first address, last address), inclusive.
Interval = tuple[int, int, int]


def environments(dist: Path) -> list[str]:
    """The environments rendered in ``dist``: the keys of dist/environments.json (the synth's
    list for tools), or where there is none, every folder of manifests but argocd/."""
    listing = dist / "environments.json"
    if listing.is_file():
        return sorted(json.loads(listing.read_text(encoding="utf-8")))
    return sorted(d.name for d in dist.glob("*/") if d.name != "argocd" and any(d.glob("*.yaml")))


def header(env: str) -> str:
    return (
        f"# {env}: allowed connections, from network-config-analyzer on dist/{env}/ "
        "(from → to protocol port). Regenerate: make update"
    )


def is_external(endpoint: str) -> bool:
    """True for ``internet``, a CIDR or an address range; in-cluster names are ``<namespace>/<name>``."""
    return not _IN_CLUSTER.match(endpoint)


@dataclass(frozen=True, order=True)
class Connection:
    src: str
    dst: str
    conn: str  # "TCP 443", "UDP 53", "TCP 1-52", or nca's words for anything wider ("all")

    def line(self) -> str:
        return f"{self.src}{ARROW}{self.dst} {self.conn}"

    def ports(self) -> tuple[str, int, int] | None:
        """(protocol, first port, last port), or None for a connection that is not a port range."""
        proto, _, ports = self.conn.partition(" ")
        if not _PORTS.match(ports):
            return None
        lo, _, hi = ports.partition("-")
        return proto, int(lo), int(hi or lo)


def parse_line(line: str) -> Connection:
    src, arrow, rest = line.partition(ARROW)
    dst, _, conn = rest.partition(" ")
    if not arrow or not src or not dst or not conn:
        raise ValueError(f"not a connection line (want `from → to PROTO port`): {line!r}")
    return Connection(src, dst, conn)


def parse_list(text: str) -> list[Connection]:
    return [parse_line(line) for line in text.splitlines() if line.strip() and not line.startswith("#")]


def render_list(env: str, connections: Iterable[Connection]) -> str:
    return "\n".join([header(env), *sorted({c.line() for c in connections})]) + "\n"


# --- address blocks ------------------------------------------------------------------


def _network(cidr: str) -> Interval:
    net = ipaddress.ip_network(cidr, strict=False)
    return net.version, int(net.network_address), int(net.broadcast_address)


def _minus(intervals: list[Interval], hole: Interval) -> list[Interval]:
    out = []
    for v, lo, hi in intervals:
        if v != hole[0] or hole[2] < lo or hole[1] > hi:
            out.append((v, lo, hi))
            continue
        if lo < hole[1]:
            out.append((v, lo, hole[1] - 1))
        if hole[2] < hi:
            out.append((v, hole[2] + 1, hi))
    return out


def _size(intervals: Iterable[Interval]) -> int:
    return sum(hi - lo + 1 for _, lo, hi in intervals)


def _inside(inner: Iterable[Interval], outer: list[Interval]) -> bool:
    return all(any(v == w and a <= lo and hi <= b for w, a, b in outer) for v, lo, hi in inner)


def _range(text: str) -> list[Interval]:
    """nca's name of an address range: ``a.b.c.d-e.f.g.h`` or comma-separated CIDRs."""
    out = []
    for part in (p.strip() for p in text.split(",")):
        if "/" in part:
            out.append(_network(part))
        else:
            first, _, last = part.partition("-")
            lo, hi = ipaddress.ip_address(first), ipaddress.ip_address(last or first)
            out.append((lo.version, int(lo), int(hi)))
    return out


def named_blocks(objects: Iterable[Manifest]) -> dict[str, list[Interval]]:
    """Every ipBlock the NetworkPolicies name, by its reviewer's name (see the module docstring).

    Of several ``0.0.0.0/0``-with-exceptions blocks the narrowest is ``internet``, so
    a planted wider one shows up under its own name rather than renaming the rest.
    """
    blocks: dict[tuple[str, tuple[str, ...]], list[Interval]] = {}
    for obj in objects:
        if obj.get("kind") != "NetworkPolicy":
            continue
        spec = obj["spec"]
        rules = [*(spec.get("ingress") or []), *(spec.get("egress") or [])]
        for peer in (p for r in rules for p in [*(r.get("from") or []), *(r.get("to") or [])]):
            if "ipBlock" in peer:
                cidr, excepts = peer["ipBlock"]["cidr"], tuple(sorted(peer["ipBlock"].get("except") or []))
                intervals = [_network(cidr)]
                for hole in excepts:
                    intervals = _minus(intervals, _network(hole))
                blocks[cidr, excepts] = intervals
    everything = [k for k in blocks if k[1] and _network(k[0]) == (4, 0, 2**32 - 1)]
    internet = min(everything, key=lambda k: (_size(blocks[k]), k), default=None)
    # Every address: nca cuts the whole space into ranges, so "any address" is one line too.
    named: dict[str, list[Interval]] = {ANYWHERE: [_network(ANYWHERE)]}
    for (cidr, excepts), intervals in sorted(blocks.items()):
        if (cidr, excepts) == internet:
            named[INTERNET] = intervals
        else:
            named[f"{cidr}-except-{','.join(excepts)}" if excepts else cidr] = intervals
    return named


def _cover(atoms: set[str], blocks: Mapping[str, list[Interval]]) -> list[str]:
    """The fewest names for the reached address ranges ``atoms``: whole blocks first, then leftovers."""
    ranges = {a: _range(a) for a in atoms}
    covered: set[str] = set()
    names = []
    for name, block in sorted(blocks.items(), key=lambda kv: (-_size(kv[1]), kv[0])):
        inside = {a for a, r in ranges.items() if _inside(r, block)}
        if inside - covered and _size(r for a in inside for r in ranges[a]) == _size(block):
            names.append(name)
            covered |= inside
    return names + sorted(atoms - covered)


# --- nca's output --------------------------------------------------------------------


def split_label(label: str) -> list[str]:
    """nca's edge label as one connection per protocol and port range.

    ``TCP+UDP 53,TCP 8080-8081,9000`` → ``TCP 53``, ``UDP 53``, ``TCP 8080-8081``, ``TCP 9000``.
    Anything that is not a protocol and ports (``All connections``, ``All but …``) stays one
    connection, so a widened policy still shows as exactly one new line.
    """
    if label == "All connections":
        return ["all"]
    if label.startswith("All but ") or label.startswith("protocols numbers"):
        return [label[0].lower() + label[1:]]
    out: list[str] = []
    protocols: list[str] = []
    for part in label.split(","):
        words = part.strip().split(" ")
        if words[0].replace("+", "").isalpha():
            protocols = words[0].split("+")
            words = words[1:]
        if not protocols or len(words) > 1 or (words and not _PORTS.match(words[0])):
            raise ValueError(f"network-config-analyzer: unexpected connection label {label!r}")
        out += [f"{p} {words[0] if words else f'1-{MAX_PORT}'}" for p in protocols]
    return out


def workload_names(objects: Iterable[Manifest]) -> dict[str, str]:
    """nca's ``<namespace>/<object name>`` of each of our workloads → its reviewer's name."""
    found: dict[str, str] = {}
    for obj in objects:
        tpl = pod_template(obj)
        if tpl is None or obj.get("kind") == "Pod":
            continue
        ns, name = obj["metadata"].get("namespace", ""), obj["metadata"]["name"]
        label = (tpl.get("metadata", {}).get("labels") or {}).get(NAME_LABEL, name)
        found[f"{ns}/{name}"] = f"{ns}/{label}"
    counts = Counter(found.values())
    # Two workloads sharing a name label keep their object names, or their lines would merge.
    return {old: new if counts[new] == 1 else old for old, new in found.items()}


def from_nca_dot(dot: str, objects: list[Manifest]) -> list[Connection]:
    """The connections nca's connectivity graph (dot format, one edge a line) allows."""
    names = workload_names(objects)
    blocks = named_blocks(objects)

    def endpoint(node: str) -> tuple[str, bool]:
        m = _WORKLOAD_NODE.match(node)
        if m:
            return names.get(m["key"], m["key"]), False
        _range(node)  # raises on anything that is neither a workload nor an address range
        return node, True

    direct: set[Connection] = set()
    ranges: dict[tuple[str, bool, str], set[str]] = defaultdict(set)
    for edge in _EDGE.finditer(dot):
        (src, src_ip), (dst, dst_ip) = endpoint(edge["src"]), endpoint(edge["dst"])
        for conn in split_label(edge["label"]):
            if dst_ip:
                ranges[src, True, conn].add(dst)
            elif src_ip:
                ranges[dst, False, conn].add(src)
            else:
                direct.add(Connection(src, dst, conn))
    for (pod, outbound, conn), atoms in ranges.items():
        for name in _cover(atoms, blocks):
            direct.add(Connection(pod, name, conn) if outbound else Connection(name, pod, conn))
    return sorted(direct)
