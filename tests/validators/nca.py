"""network-config-analyzer (nca): one scheme run per environment.

nca reads the environment's NetworkPolicies and workloads plus the committed
cluster context (stand-in ingress-nginx, kube-dns, monitoring, KEDA and another
tenant), and in one process prints the connectivity map and answers every
permits/forbids query. Only the kinds nca models are handed to it: it would
otherwise turn our Ingress into a simulated controller of its own.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .manifests import Manifest, load_yaml, load_yaml_all, matches, pod_template
from .nca_queries import NS_LABEL, Query

ROOT = Path(__file__).resolve().parents[2]
NCA = Path(sys.executable).parent / "nca"
NETWORK_DIR = ROOT / "tests" / "network"
CONTEXT = NETWORK_DIR / "cluster-context.yaml"
NCA_KINDS = frozenset(
    {"Namespace", "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "NetworkPolicy"}
)
_QUERY_BLOCK = re.compile(
    r"^Running query (?P<name>\S+)\n(?P<body>.*?)^Query (?P=name) finished", re.M | re.S
)


def map_path(env: str) -> Path:
    return NETWORK_DIR / f"{env}-connectivity.txt"


@dataclass
class Result:
    env: str
    connectivity: str
    failed: dict[str, str] = field(default_factory=dict)
    passed: set[str] = field(default_factory=set)
    stdout: str = ""

    def failures(self, queries: Iterable[Query]) -> list[str]:
        out = []
        for q in queries:
            if q.name in self.failed:
                detail = " ".join(self.failed[q.name].split())
                out.append(f"{self.env}: nca {q.verb} {q.name}: {q.description}: {detail}")
            elif q.name not in self.passed:
                out.append(
                    f"{self.env}: nca {q.verb} {q.name}: query did not run; nca said:\n{self.stdout[-2000:]}"
                )
        return out


def write_inputs(tree: Mapping[str, str], dest: Path) -> Path:
    """The rendered objects nca should model, as one multi-document file in ``dest``.

    One file in file-name order, not a directory: nca walks directories in the
    file system's order, and its map's wording depends on the order it reads.
    """
    dest.mkdir(parents=True, exist_ok=True)
    docs = [text for _, text in sorted(tree.items()) if load_yaml(text).get("kind") in NCA_KINDS]
    path = dest / "rendered.yaml"
    path.write_text("---\n".join(docs))
    return path


def _context_pods() -> list[Manifest]:
    return [d for d in load_yaml_all(CONTEXT.read_text()) if d and d.get("kind") == "Pod"]


def unmatched_selectors(env: str, objects: Sequence[Manifest], queries: Iterable[Query]) -> list[str]:
    """A query whose pods or peers select nothing passes vacuously, so each must select something."""
    namespaces = {o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"}
    namespaces |= {p["metadata"]["namespace"] for p in _context_pods()}
    pods: list[tuple[str, dict[str, str]]] = [
        (p["metadata"]["namespace"], p["metadata"].get("labels") or {}) for p in _context_pods()
    ]
    for obj in objects:
        tpl = pod_template(obj)
        if tpl is not None and obj["kind"] != "Pod":
            pods.append((obj["metadata"]["namespace"], tpl.get("metadata", {}).get("labels") or {}))

    def selects(ns: str | None, ns_selector: Any, pod_selector: Any) -> bool:
        for pod_ns, labels in pods:
            in_ns = pod_ns == ns if ns_selector is None else matches(ns_selector, {NS_LABEL: pod_ns})
            if in_ns and (pod_selector is None or matches(pod_selector, labels)):
                return True
        return False

    out = []
    for q in queries:
        ns = q.policy["metadata"]["namespace"]
        spec = q.policy["spec"]
        if not selects(ns, None, spec["podSelector"]):
            out.append(f"{env}: nca {q.verb} {q.name}: its podSelector {spec['podSelector']} selects no pod")
        for rule in spec.get("ingress", []) + spec.get("egress", []):
            for peer in rule.get("from", []) + rule.get("to", []):
                if "ipBlock" in peer:
                    continue
                if not selects(ns, peer.get("namespaceSelector"), peer.get("podSelector")):
                    out.append(
                        f"{env}: nca {q.verb} {q.name}: peer {peer} selects no pod; add it to {CONTEXT.name}"
                    )
    return out


def run(
    env: str, inputs: Path, queries: Sequence[Query], workdir: Path, *, connectivity: bool = True
) -> Result:
    """One nca process: every query, plus the connectivity map of ``env`` unless told not to.

    The map is a third of a run; tests of planted defects read only the queries.
    """
    if not NCA.exists():
        raise FileNotFoundError(f"{NCA} is missing: install the dev dependencies (make test does)")
    workdir.mkdir(parents=True, exist_ok=True)
    configs: list[dict[str, Any]] = [{"name": env, "resourceList": [str(inputs), str(CONTEXT)]}]
    nca_queries: list[dict[str, Any]] = []
    if connectivity:
        output = {
            "outputFormat": "txt",
            "outputPath": str(workdir / "connectivity.txt"),
            "subset": {"namespace_subset": _namespace_of(inputs)},
        }
        nca_queries.append({"name": "connectivity", "connectivityMap": [env], "outputConfiguration": output})
    for q in queries:
        path = workdir / f"query-{q.name}.yaml"
        path.write_text(yaml.safe_dump(q.policy, sort_keys=False))
        configs.append({"name": q.name, "networkPolicyList": [str(path)]})
        nca_queries.append({"name": q.name, q.verb: [env, q.name], "expected": 0})
    scheme = {
        "resourceList": [str(inputs), str(CONTEXT)],
        "networkConfigList": configs,
        "queries": nca_queries,
    }
    scheme_path = workdir / "scheme.yaml"
    scheme_path.write_text(yaml.safe_dump(scheme, sort_keys=False))
    # nca's map groups pods by label expressions it picks while iterating sets, so
    # string hashing must not vary between runs, or the golden map would flap.
    env_vars = {**os.environ, "PYTHONHASHSEED": "0"}
    proc = subprocess.run(
        [str(NCA), "--scheme", str(scheme_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env_vars,
    )
    result = Result(env=env, connectivity="", stdout=proc.stdout + proc.stderr)
    map_file = workdir / "connectivity.txt"
    if not connectivity:
        map_file.write_text("")
    elif not map_file.exists():
        raise RuntimeError(
            f"{env}: nca wrote no connectivity map (exit {proc.returncode}):\n{result.stdout[-3000:]}"
        )
    result.connectivity = map_file.read_text().rstrip("\n") + "\n"
    for block in _QUERY_BLOCK.finditer(proc.stdout):
        name, body = block["name"], block["body"]
        if name == "connectivity":
            continue
        if "does not forbid" in body or "does not permit" in body or "not executed" in body.lower():
            result.failed[name] = body.strip()
        else:
            result.passed.add(name)
    return result


def _namespace_of(inputs: Path) -> str:
    for doc in load_yaml_all(inputs.read_text()):
        if doc and doc.get("kind") == "Namespace":
            return str(doc["metadata"]["name"])
    raise ValueError(f"{inputs}: no Namespace among the rendered objects")


README = NETWORK_DIR.parents[1] / "docs" / "security.md"


def readme_block(env: str, connectivity: str) -> str:
    """docs/security.md's copy of one map, between markers the update script rewrites."""
    return f"<!-- connectivity:{env} -->\n```text\n{connectivity}```\n<!-- /connectivity:{env} -->"


def with_readme_blocks(readme: str, maps: Mapping[str, str]) -> str:
    """``readme`` with every environment's marked block replaced by its current map."""
    for env, connectivity in maps.items():
        start, end = f"<!-- connectivity:{env} -->", f"<!-- /connectivity:{env} -->"
        head, found, rest = readme.partition(start)
        if not found:
            raise ValueError(f"{README.name} has no {start} block")
        _, found, tail = rest.partition(end)
        if not found:
            raise ValueError(f"{README.name} has no {end} marker")
        readme = head + readme_block(env, connectivity) + tail
    return readme
