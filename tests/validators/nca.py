"""network-config-analyzer (nca): one scheme run per environment.

nca reads the environment's NetworkPolicies and workloads plus the cluster
context (``context``): the committed stand-ins (Ingress controllers, another
team's Gateway proxies, kube-dns, monitoring, KEDA and another tenant), and the
ones each environment's own edge brings: Envoy Gateway's proxies for each Gateway
its routes attach to, and cert-manager's HTTP-01 solver pod in its namespace. One
process answers every permits/forbids query of an environment and of its planted
copies (``run``), or draws the connectivity maps of several (``connectivity_lists``).
Only the kinds nca models are handed to it: it would otherwise turn our Ingress
into a simulated controller of its own.

The map is the reviewers' list docs/network/<env>.txt (``tests/network/connectivity.py``):
nca's graph output, one edge per workload pair, renamed and split into one line per
connection.
"""

from __future__ import annotations

import atexit
import os
import re
import select
import signal
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.network.connectivity import from_nca_dot, render_list

from .manifests import Manifest, load_yaml, load_yaml_all, matches, pod_template
from .nca_queries import NS_LABEL, Query

ROOT = Path(__file__).resolve().parents[2]
NCA = Path(sys.executable).parent / "nca"
NETWORK_DIR = ROOT / "tests" / "network"
CONTEXT = NETWORK_DIR / "cluster-context.yaml"
LISTS_DIR = ROOT / "docs" / "network"
NCA_KINDS = frozenset(
    {"Namespace", "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "NetworkPolicy"}
)
_QUERY_BLOCK = re.compile(
    r"^Running query (?P<name>\S+)\n(?P<body>.*?)^Query (?P=name) finished", re.M | re.S
)


def map_path(env: str) -> Path:
    return LISTS_DIR / f"{env}.txt"


@dataclass
class Result:
    env: str
    failed: dict[str, str] = field(default_factory=dict)
    passed: set[str] = field(default_factory=set)
    stdout: str = ""
    # The same queries on each planted copy of ``env`` (``run``'s ``planted``), by name.
    planted: dict[str, Result] = field(default_factory=dict)

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


def _dump_all(docs: Iterable[Any]) -> str:
    """YAML through libyaml's emitter: the same text as ``yaml.safe_dump``, several times faster."""
    return str(yaml.dump_all(docs, Dumper=yaml.CSafeDumper, sort_keys=False))


def write_inputs(tree: Mapping[str, str], dest: Path, parsed: Sequence[Manifest] | None = None) -> Path:
    """The rendered objects nca should model, as one multi-document file in ``dest``,
    and beside it their cluster context (``context_path``). ``parsed``: the files of
    ``tree`` parsed, in its order, where the caller has them already.

    One file in file-name order, not a directory: nca walks directories in the
    file system's order, and its map's wording depends on the order it reads.
    """
    dest.mkdir(parents=True, exist_ok=True)
    parsed = [load_yaml(text) for text in tree.values()] if parsed is None else parsed
    files = sorted(zip(tree, tree.values(), parsed, strict=True), key=lambda file: file[0])
    objects = [obj for _, _, obj in files]
    docs = [text for _, text, obj in files if obj.get("kind") in NCA_KINDS]
    path = dest / "rendered.yaml"
    path.write_text("---\n".join(docs))
    context_path(path).write_text(_dump_all(context(objects)))
    return path


def context_path(inputs: Path) -> Path:
    return inputs.with_name("context.yaml")


def context(objects: Sequence[Manifest]) -> list[Manifest]:
    """The committed stand-ins, and those the environment's edge brings with it."""
    committed = [d for d in load_yaml_all(CONTEXT.read_text(encoding="utf-8")) if d]
    namespace = next(o["metadata"]["name"] for o in objects if o["kind"] == "Namespace")
    gateways = sorted(
        {
            (ref["name"], ref.get("namespace", namespace))
            for route in objects
            if route["kind"] == "HTTPRoute"
            for ref in route["spec"]["parentRefs"]
        }
    )
    proxies = [
        _stand_in(f"envoy-{ns}-{name}", ENVOY_NAMESPACE, dict(zip(ENVOY_OWNER, (name, ns), strict=True)))
        for name, ns in gateways
    ]
    # cert-manager starts the solver only for HTTP-01, which an environment opts into
    # together with the policy that lets its edge reach it.
    http01 = any(
        o["kind"] == "NetworkPolicy" and o["spec"]["podSelector"].get("matchLabels") == ACME_SOLVER
        for o in objects
    )
    solver = [_stand_in("cm-acme-http-solver", namespace, ACME_SOLVER)] if http01 else []
    return [*committed, *proxies, *solver]


# Envoy Gateway runs each Gateway's proxies in its own namespace, labelled with that
# Gateway; cert-manager labels its HTTP-01 solver pods (both from upstream docs).
ENVOY_NAMESPACE = "envoy-gateway-system"
ENVOY_OWNER = ("gateway.envoyproxy.io/owning-gateway-name", "gateway.envoyproxy.io/owning-gateway-namespace")
ACME_SOLVER = {"acme.cert-manager.io/http01-solver": "true"}


def _stand_in(name: str, namespace: str, labels: dict[str, str]) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "annotations": {"network-map/role": "edge"},
            "labels": labels,
        },
        "spec": {"containers": [{"name": "stand-in", "image": "registry.k8s.io/pause:3.10"}]},
    }


def unmatched_selectors(env: str, objects: Sequence[Manifest], queries: Iterable[Query]) -> list[str]:
    """A query whose pods or peers select nothing passes vacuously, so each must select something."""
    stand_ins = [p for p in context(objects) if p["kind"] == "Pod"]
    pods: list[tuple[str, dict[str, str]]] = [
        (p["metadata"]["namespace"], p["metadata"].get("labels") or {}) for p in stand_ins
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


def write_policies(objects: Iterable[Manifest], dest: Path) -> Path:
    """The NetworkPolicies among ``objects``, as one file for ``run``'s ``planted``."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    policies = [o for o in objects if o.get("kind") == "NetworkPolicy"]
    dest.write_text(_dump_all(policies))
    return dest


def run(
    env: str,
    inputs: Path,
    queries: Sequence[Query],
    workdir: Path,
    *,
    planted: Mapping[str, Path] | None = None,
) -> Result:
    """One nca process: every query on ``env``, and on each planted copy of it.

    ``planted`` names files of NetworkPolicies (``write_policies``) that stand in for
    ``env``'s own, on ``env``'s workloads and cluster context. A planted copy costs one
    more pass of the queries, where a process of its own would also start nca and parse
    every query again.
    """
    if not NCA.exists():
        raise FileNotFoundError(f"{NCA} is missing: install the dev dependencies (make test does)")
    workdir.mkdir(parents=True, exist_ok=True)
    resources = [str(inputs), str(context_path(inputs))]
    planted = dict(planted or {})
    configs: list[dict[str, Any]] = [{"name": env, "resourceList": resources}]
    configs += [{"name": f"{env}+{name}", "networkPolicyList": [str(path)]} for name, path in planted.items()]
    nca_queries: list[dict[str, Any]] = []
    for q in queries:
        path = workdir / f"query-{q.name}.yaml"
        path.write_text(_dump_all([q.policy]))
        configs.append({"name": q.name, "networkPolicyList": [str(path)]})
        nca_queries.append({"name": q.name, q.verb: [env, q.name], "expected": 0})
        nca_queries += [
            {"name": f"{q.name}@{name}", q.verb: [f"{env}+{name}", q.name], "expected": 0} for name in planted
        ]
    scheme = {"resourceList": resources, "networkConfigList": configs, "queries": nca_queries}
    proc = _run_scheme(scheme, workdir / "scheme.yaml")
    said = proc.stdout + proc.stderr
    results = {name: Result(env=env, stdout=said) for name in ["", *planted]}
    for block in _QUERY_BLOCK.finditer(proc.stdout):
        query, _, name = block["name"].partition("@")
        body, result = block["body"], results[name]
        if "does not forbid" in body or "does not permit" in body or "not executed" in body.lower():
            result.failed[query] = body.strip()
        else:
            result.passed.add(query)
    result = results.pop("")
    result.planted = results
    return result


def connectivity_lists(trees: Mapping[str, Mapping[str, str]], workdir: Path) -> dict[str, str]:
    """The connectivity list of every environment in ``trees`` (rendered files), from one nca process."""
    configs, queries, inputs = [], [], {}
    for env, tree in trees.items():
        inputs[env] = write_inputs(tree, workdir / env)
        configs.append({"name": env, "resourceList": [str(inputs[env]), str(context_path(inputs[env]))]})
        queries.append(_map_query(f"connectivity-{env}", env, inputs[env], workdir / f"{env}.dot"))
    proc = _run_scheme({"networkConfigList": configs, "queries": queries}, workdir / "scheme.yaml")
    return {env: _read_map(env, inputs[env], workdir / f"{env}.dot", proc) for env in trees}


def _map_query(name: str, env: str, inputs: Path, output: Path) -> dict[str, Any]:
    """nca's connectivity map of ``env`` as a graph: one edge per pair of workloads or address ranges."""
    output.unlink(missing_ok=True)  # nca appends to an existing file
    config = {
        "outputFormat": "dot",
        "outputPath": str(output),
        "subset": {"namespace_subset": _namespace_of(inputs)},
    }
    return {"name": name, "connectivityMap": [env], "outputConfiguration": config}


def _run_scheme(scheme: Mapping[str, Any], path: Path) -> subprocess.CompletedProcess[str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_dump_all([dict(scheme)]))
    return _ZYGOTE.run(path, timeout=300)


# The body of the `nca` command (nca_main), in a child forked per scheme from a Python
# that has imported nca once: its imports are a third of an environment's run.
_FORKER = """
import os, sys, traceback
from nca.nca_cli import nca_main
for line in sys.stdin:
    scheme, out, err = line.rstrip("\\n").split("\\t")
    pid = os.fork()
    if pid == 0:
        os.dup2(os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 1)
        os.dup2(os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 2)
        code = 1
        try:
            code = nca_main(["--scheme", scheme])
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    print(os.waitstatus_to_exitcode(status), flush=True)
"""


class _Zygote:
    """Started on first use, stopped (and waited for) when this process exits."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        assert self.proc.stdin is not None
        self.proc.stdin.close()  # it finishes the run under way, if any, and exits
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def run(self, scheme: Path, timeout: float) -> subprocess.CompletedProcess[str]:
        """``nca --scheme <scheme>``: exit code, stdout and stderr, as ``subprocess.run`` gives them."""
        if self.proc is None or self.proc.poll() is not None:
            self.proc = subprocess.Popen(
                [sys.executable, "-P", "-c", _FORKER],  # -P: nothing imported from the working directory
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                # nca iterates sets of pods; fixed string hashing keeps anything it prints in one order.
                env={**os.environ, "PYTHONHASHSEED": "0"},
                start_new_session=True,
            )
            atexit.register(self.stop)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        out, err = scheme.with_suffix(".stdout"), scheme.with_suffix(".stderr")
        self.proc.stdin.write(f"{scheme}\t{out}\t{err}\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        status = self.proc.stdout.readline() if ready else ""
        args = [str(NCA), "--scheme", str(scheme)]
        if not status:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            if not ready:
                raise subprocess.TimeoutExpired(args, timeout)
            raise RuntimeError(f"nca's forking Python died (exit {self.proc.returncode}) running {scheme}")
        return subprocess.CompletedProcess(args, int(status), out.read_text(), err.read_text())


_ZYGOTE = _Zygote()


def _read_map(env: str, inputs: Path, output: Path, proc: subprocess.CompletedProcess[str]) -> str:
    if not output.is_file():
        said = (proc.stdout + proc.stderr).strip()
        last = said.splitlines()[-1] if said else "no output"
        raise RuntimeError(
            f"{env}: nca wrote no connectivity map (exit {proc.returncode}): {last}\n{said[-3000:]}"
        )
    objects = [d for d in load_yaml_all(inputs.read_text()) if d]
    return render_list(env, from_nca_dot(output.read_text(encoding="utf-8"), objects))


def _namespace_of(inputs: Path) -> str:
    for doc in load_yaml_all(inputs.read_text()):
        if doc and doc.get("kind") == "Namespace":
            return str(doc["metadata"]["name"])
    raise ValueError(f"{inputs}: no Namespace among the rendered objects")


README = NETWORK_DIR.parents[1] / "docs" / "security.md"
README_START = "<!-- connectivity: generated from docs/network/<env>.txt by make update -->"
README_END = "<!-- /connectivity -->"
_README_HEAD = "| Environment | Allowed connections | Picture |\n|---|---|---|"


def readme_block(env: str, connectivity: str) -> str:
    """docs/security.md's row for one environment: links to its list and picture, and the list's size."""
    count = sum(1 for line in connectivity.splitlines() if line.strip() and not line.startswith("#"))
    return f"| {env} | [{count} connections](network/{env}.txt) | [{env}.svg](network/{env}.svg) |"


def with_readme_blocks(readme: str, maps: Mapping[str, str]) -> str:
    """``readme`` with its one generated block listing every environment of ``maps``.

    One block for all environments, so a new environment needs no new marker.
    """
    head, found, rest = readme.partition(README_START)
    _, found_end, tail = rest.partition(README_END)
    if not (found and found_end):
        raise ValueError(
            f"{README.name} has no `{README_START}` ... `{README_END}` block; "
            "put both markers where the table of connectivity maps belongs"
        )
    rows = [readme_block(env, text) for env, text in sorted(maps.items())]
    return "\n".join([head + README_START, _README_HEAD, *rows, README_END]) + tail
