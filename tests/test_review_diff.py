"""``make diff``: the rendered change against a git ref, its risk flags and upgrade notes.

Every test builds a real git repository in tmp_path (``git init``, a small ``dist/`` tree
committed, then the working tree changed) and runs the command's entry point in it with the
real ``git``. Each blocking class is planted and must exit 3; a new upgrade note naming the
object lets it pass with the note's title printed, while a note already in BASE does not.
The last tests run ``make diff BASE=<the first landed commit>`` on a clone of this repository,
with and without the two upgrade notes that history needs.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml

from tests.test_workflows import CI, ci_job, load, run_bash, script, step_named
from vibeyard.review import cli, tree

ROOT = Path(__file__).resolve().parents[1]
NS = "app"  # the namespace of the synthetic environment folder
ENV = "env1"  # a folder of the synthetic dist/
# Stop 8 landed this commit and its CI passed: the first landed version (`issues stops`).
FIRST_LANDED = "01e0e86907a99c62545612334a9ae61584036499"
STEPS = "```sh\nkubectl -n app get pods\n```\n"

Doc = dict[str, Any]


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repo)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr}"
    return proc.stdout.strip()


@dataclass
class Repo:
    path: Path

    @classmethod
    def new(cls, path: Path, branch: str = "main") -> Repo:
        path.mkdir(parents=True, exist_ok=True)
        git(path, "init", "--quiet", f"--initial-branch={branch}")
        return cls(path)

    def write(self, rel: str, content: Doc | list[Doc] | str | bytes) -> None:
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        elif isinstance(content, str):
            target.write_text(content, encoding="utf-8")
        else:
            docs = content if isinstance(content, list) else [content]
            target.write_text(yaml.safe_dump_all(docs, sort_keys=False), encoding="utf-8")

    def remove(self, rel: str) -> None:
        (self.path / rel).unlink()

    def commit(self, message: str = "change") -> None:
        git(self.path, "add", "-A")
        git(self.path, "commit", "--quiet", "--allow-empty", "-m", message)

    def head(self) -> str:
        return git(self.path, "rev-parse", "HEAD")


@dataclass
class Result:
    code: int
    out: str
    err: str


Review = Callable[..., Result]


def call_cli(repo: Path, *args: str) -> Result:
    """The command's entry point, in-process (0.1 s a run less than a new interpreter), in ``repo``
    and without the ``REVIEW_*`` settings of the environment. ``make diff`` runs the script itself
    end to end in the tests of this repository's history and of the CI step."""
    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch.dict(os.environ),
        contextlib.chdir(repo),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        for name in [name for name in os.environ if name.startswith("REVIEW_")]:
            del os.environ[name]
        code = cli.main(list(args))
    return Result(code, out.getvalue(), err.getvalue())


@pytest.fixture
def review() -> Review:
    return lambda repo, *args: call_cli(repo.path, *args)


def note(objects: list[str], title: str, body: str = STEPS) -> str:
    return "---\n" + yaml.safe_dump({"title": title, "objects": objects}, sort_keys=False) + "---\n\n" + body


# --------------------------------------------------------------------------- objects


def meta(name: str, namespace: str | None, **annotations: str) -> Doc:
    found: Doc = {"name": name}
    if namespace:
        found["namespace"] = namespace
    if annotations:
        found["annotations"] = dict(annotations)
    return found


def key(doc: Doc) -> str:
    """``kind/namespace/name``, written out here rather than taken from the code under test."""
    m = doc["metadata"]
    return f"{doc['kind']}/{m['namespace']}/{m['name']}" if "namespace" in m else f"{doc['kind']}/{m['name']}"


def pod_template(name: str, image: str = "registry.example/app:1") -> Doc:
    return {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": name, "image": image}]}}


def workload(kind: str, name: str, ns: str = NS, image: str = "registry.example/app:1", **spec: Any) -> Doc:
    body: Doc = {"selector": {"matchLabels": {"app": name}}, "template": pod_template(name, image), **spec}
    if kind == "StatefulSet":
        body.setdefault("serviceName", f"{name}-headless")
        body.setdefault("volumeClaimTemplates", [{"metadata": {"name": "data"}, "spec": claim_spec("1Gi")}])
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": meta(name, ns), "spec": body}


def claim_spec(size: str, storage_class: str = "standard") -> Doc:
    return {
        "accessModes": ["ReadWriteOnce"],
        "storageClassName": storage_class,
        "resources": {"requests": {"storage": size}},
    }


def pvc(ns: str, size: str = "1Gi", storage_class: str = "standard") -> Doc:
    spec = claim_spec(size, storage_class)
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": meta("data-db-0", ns),
        "spec": spec,
    }


def job(ns: str, hook: bool, image: str = "registry.example/app:1") -> Doc:
    annotations = {"argocd.argoproj.io/hook": "Sync"} if hook else {}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": meta("migrate", ns, **annotations),
        "spec": {"template": pod_template("migrate", image)},
    }


def service(ns: str, type_: str = "ClusterIP", cluster_ip: str | None = None) -> Doc:
    spec: Doc = {"type": type_, "selector": {"app": "web"}, "ports": [{"port": 80}]}
    if cluster_ip:
        spec["clusterIP"] = cluster_ip
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta("web", ns), "spec": spec}


def config(ns: str, kind: str, data: dict[str, str], immutable: bool | None) -> Doc:
    found: Doc = {"apiVersion": "v1", "kind": kind, "metadata": meta("settings", ns), "data": data}
    if immutable is not None:
        found["immutable"] = immutable
    return found


def application(ns: str, server: str = "https://kubernetes.default.svc", **destination: str) -> Doc:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": meta(f"vibeyard-{ns}", "argocd"),
        "spec": {
            "destination": {"server": server, "namespace": "production", **destination},
            "project": "default",
            "source": {"path": "dist/prod"},
        },
    }


def simple(api: str, kind: str, name: str, ns: str | None = NS, **top: Any) -> Doc:
    return {"apiVersion": api, "kind": kind, "metadata": meta(name, ns), **top}


def sts(ns: str) -> Doc:
    return workload("StatefulSet", "db", ns)


def sealed_secret(name: str, ns: str, keys: list[str]) -> Doc:
    return simple(
        "bitnami.com/v1alpha1", "SealedSecret", name, ns, spec={"encryptedData": dict.fromkeys(keys, "Ag")}
    )


def external_secret(name: str, ns: str, keys: list[str]) -> Doc:
    data = [{"secretKey": k} for k in keys]
    return simple("external-secrets.io/v1", "ExternalSecret", name, ns, spec={"data": data})


def edited(doc: Doc, path: str, value: Any) -> Doc:
    """A deep copy of ``doc`` with the dotted ``path`` (list items by index) set to ``value``."""
    copy: Doc = json.loads(json.dumps(doc))
    *parents, last = path.split(".")
    node = copy
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[last] = value
    return copy


# --------------------------------------------------------------------------- blocking classes

# Each case: its BASE object and its working-tree object (None: the file is deleted), built in
# a namespace of its own, and a word the flag must contain. All cases share one repository.
Pair = tuple[Doc, Doc | None]
_STS = "spec.volumeClaimTemplates.0.spec.resources.requests.storage"
BLOCKING: dict[str, tuple[Callable[[str], Pair], str]] = {
    "deployment-selector": (
        lambda ns: (workload("Deployment", "web", ns),
                    edited(workload("Deployment", "web", ns), "spec.selector.matchLabels.tier", "x")),
        "spec.selector"),
    "daemonset-selector": (
        lambda ns: (workload("DaemonSet", "agent", ns),
                    edited(workload("DaemonSet", "agent", ns), "spec.selector.matchLabels.app", "other")),
        "spec.selector"),
    "statefulset-selector": (
        lambda ns: (workload("StatefulSet", "db", ns),
                    edited(workload("StatefulSet", "db", ns), "spec.selector.matchLabels.app", "queue")),
        "spec.selector"),
    "statefulset-service-name": (
        lambda ns: (workload("StatefulSet", "db", ns),
                    edited(workload("StatefulSet", "db", ns), "spec.serviceName", "db-peers")),
        "spec.serviceName"),
    "statefulset-volume-claim-templates": (
        lambda ns: (sts(ns), edited(sts(ns), _STS, "2Gi")),
        "spec.volumeClaimTemplates"),
    "statefulset-pod-management-policy": (
        lambda ns: (workload("StatefulSet", "db", ns),
                    edited(workload("StatefulSet", "db", ns), "spec.podManagementPolicy", "Parallel")),
        "spec.podManagementPolicy"),
    "pvc-storage-class": (lambda ns: (pvc(ns), pvc(ns, storage_class="fast")), "spec changed"),
    "pvc-shrinks": (lambda ns: (pvc(ns, "2Gi"), pvc(ns, "1Gi")), "shrinks"),
    "job-template": (
        lambda ns: (job(ns, hook=False), job(ns, hook=False, image="registry.example/app:2")), "Job"),
    "service-cluster-ip": (
        lambda ns: (service(ns, cluster_ip="10.0.0.10"), service(ns, cluster_ip="10.0.0.11")), "clusterIP"),
    "service-becomes-headless": (lambda ns: (service(ns), service(ns, cluster_ip="None")), "clusterIP"),
    "service-to-external-name": (lambda ns: (service(ns), service(ns, "ExternalName")), "ExternalName"),
    "immutable-configmap": (
        lambda ns: (config(ns, "ConfigMap", {"a": "1"}, True), config(ns, "ConfigMap", {"a": "2"}, True)),
        "immutable"),
    "immutable-secret": (
        lambda ns: (config(ns, "Secret", {"a": "MQ=="}, True), config(ns, "Secret", {"a": "Mg=="}, True)),
        "immutable"),
    "application-server": (
        lambda ns: (application(ns), application(ns, "https://prod.example.com")), "server:"),
    "application-namespace": (
        lambda ns: (application(ns), application(ns, namespace="prod2")), "namespace:"),
    "application-name": (
        lambda ns: (application(ns, name="in-cluster"), application(ns, name="prod-eu")), "name:"),
    "removed-statefulset": (lambda ns: (workload("StatefulSet", "db", ns), None), "removed"),
    "removed-pvc": (lambda ns: (pvc(ns), None), "removed"),
    "removed-namespace": (lambda ns: (simple("v1", "Namespace", ns, None), None), "removed"),
    "removed-sealedsecret": (
        lambda ns: (sealed_secret("s", ns, ["k"]), None),
        "removed"),
    "removed-secret": (lambda ns: (simple("v1", "Secret", "s", ns, data={"k": "dg=="}), None), "removed"),
    "removed-externalsecret": (
        lambda ns: (external_secret("s", ns, ["k"]), None),
        "removed"),
    "removed-ingress": (
        lambda ns: (simple("networking.k8s.io/v1", "Ingress", "web", ns, spec={"rules": []}), None),
        "move DNS first"),
}  # fmt: skip

# Changes a cluster takes in place: listed, never blocking.
IN_PLACE: dict[str, Callable[[str], Pair]] = {
    "pvc-grows": lambda ns: (pvc(ns, "1Gi"), pvc(ns, "2Gi")),
    "hook-job-template": lambda ns: (job(ns, hook=True), job(ns, hook=True, image="registry.example/app:2")),
    "service-to-node-port": lambda ns: (service(ns), service(ns, "NodePort")),
    "mutable-configmap": lambda ns: (config(ns, "ConfigMap", {"a": "1"}, None),
                                     config(ns, "ConfigMap", {"a": "2"}, None)),
    "statefulset-template": lambda ns: (sts(ns), workload("StatefulSet", "db", ns, image="db:2")),
    "application-project": lambda ns: (application(ns), edited(application(ns), "spec.project", "vibeyard")),
    "removed-deployment": lambda ns: (workload("Deployment", "web", ns), None),
    "new-statefulset": lambda ns: (simple("v1", "ConfigMap", "other", ns, data={}), sts(ns)),
}  # fmt: skip


def plant(repo: Repo, cases: dict[str, Pair]) -> dict[str, str]:
    """Commit every case's BASE object (each in its own folder), then write its change; -> case: key."""
    keys = {}
    for case, (before, _) in cases.items():
        repo.write(f"dist/{case}/object.yaml", before)
        keys[case] = key(before)
    return keys


def change(repo: Repo, cases: dict[str, Pair]) -> None:
    for case, (_, after) in cases.items():
        if after is None:
            repo.remove(f"dist/{case}/object.yaml")
        else:
            repo.write(f"dist/{case}/object.yaml", after)


@dataclass(frozen=True)
class Planted:
    keys: dict[str, str]
    blocked: Result  # notes only in BASE
    acknowledged: Result  # plus a new note per case


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Planted:
    """All blocking classes in one repository: two runs instead of two per class."""
    repo = Repo.new(tmp_path_factory.mktemp("planted") / "repo")
    cases = {case: build(case) for case, (build, _) in BLOCKING.items()}
    keys = plant(repo, cases)
    for case, obj in keys.items():
        repo.write(f"upgrades/2020-01-01-earlier-{case}.md", note([obj], f"Earlier upgrade of {case}"))
    repo.commit("base")
    change(repo, cases)
    blocked = call_cli(repo.path)
    for case, obj in keys.items():
        repo.write(f"upgrades/2030-01-01-{case}.md", note([obj], f"Steps for {case}"))
    return Planted(keys, blocked, call_cli(repo.path))


@pytest.mark.parametrize("case", list(BLOCKING))
def test_a_blocking_change_exits_3_even_with_an_old_note(case: str, planted: Planted) -> None:
    obj, word = planted.keys[case], BLOCKING[case][1]
    assert planted.blocked.code == 3, planted.blocked.out + planted.blocked.err
    flags = [line.strip() for line in planted.blocked.out.splitlines() if line.strip().startswith("BLOCKING")]
    mine = [line for line in flags if f" {case}: {obj}: " in line]
    assert mine and any(word in line for line in mine), (
        f"{case}: no BLOCKING flag with {word!r}:\n" + "\n".join(flags)
    )
    assert f"Earlier upgrade of {case}" not in planted.blocked.out, (
        "a note already in BASE must not acknowledge"
    )
    assert len(planted.blocked.err.splitlines()) == 1 and "upgrades/" in planted.blocked.err, (
        planted.blocked.err
    )


@pytest.mark.parametrize("case", list(BLOCKING))
def test_a_new_upgrade_note_acknowledges_it_by_title(case: str, planted: Planted) -> None:
    result, obj = planted.acknowledged, planted.keys[case]
    lines = result.out.splitlines()
    assert not [line for line in lines if line.strip().startswith(f"BLOCKING      {case}: ")], result.out
    at = [i for i, line in enumerate(lines) if line.strip().startswith(f"acknowledged  {case}: {obj}: ")]
    assert at, result.out
    assert all(f"Steps for {case} (upgrades/2030-01-01-{case}.md)" in lines[i + 1] for i in at), result.out


def test_with_every_blocking_change_acknowledged_it_exits_0(planted: Planted) -> None:
    result = planted.acknowledged
    assert result.code == 0 and "BLOCKING" not in result.out and result.err == "", result.out + result.err


@pytest.fixture(scope="module")
def in_place(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], Result]:
    repo = Repo.new(tmp_path_factory.mktemp("in-place") / "repo")
    cases = {case: build(case) for case, build in IN_PLACE.items()}
    keys = plant(repo, cases)
    repo.commit("base")
    change(repo, cases)
    return keys, call_cli(repo.path)


def test_changes_a_cluster_takes_in_place_exit_0(in_place: tuple[dict[str, str], Result]) -> None:
    result = in_place[1]
    assert result.code == 0 and "BLOCKING" not in result.out and result.err == "", result.out + result.err


@pytest.mark.parametrize("case", list(IN_PLACE))
def test_a_change_the_cluster_takes_in_place_is_listed_not_blocked(
    case: str, in_place: tuple[dict[str, str], Result]
) -> None:
    keys, result = in_place
    flags = [line for line in result.out.splitlines() if line.strip().startswith("BLOCKING")]
    assert not [line for line in flags if f" {case}: " in line], f"{case} must not block:\n" + "\n".join(
        flags
    )
    after = IN_PLACE[case](case)[1]
    section = result.out.split(f"== {case}\n", 1)[1].split("\n\n", 1)[0].splitlines()
    path = f"dist/{case}/object.yaml"
    if after is None:
        assert f"  - {keys[case]}  ({path})" in section, section
    elif key(after) != keys[case]:
        assert f"  + {key(after)}  ({path})" in section, section
    else:
        assert f"  ~ {keys[case]}" in section, section


# --------------------------------------------------------------------------- what a reviewer reads

WEB = "registry.example/vibeyard"
DIGEST = "sha256:" + "ab" * 32


def scaling(ns: str, min_replicas: int, max_unavailable: int, pods: str) -> list[Doc]:
    return [
        simple("autoscaling/v2", "HorizontalPodAutoscaler", "web", ns, spec={"minReplicas": min_replicas}),
        simple("policy/v1", "PodDisruptionBudget", "web", ns, spec={"maxUnavailable": max_unavailable}),
        simple("v1", "ResourceQuota", "quota", ns, spec={"hard": {"pods": pods, "requests.memory": "8Gi"}}),
    ]


def secrets(ns: str, sealed: list[str], external: list[str]) -> list[Doc]:
    return [
        sealed_secret("app", ns, sealed),
        external_secret("ext", ns, external),
    ]


def test_informational_flags_and_the_release(tmp_path: Path, review: Review) -> None:
    """An image, secret keys, a lower floor, a looser budget, a lower quota, the release record."""
    repo = Repo.new(tmp_path / "repo")
    repo.write("dist/env1/web.yaml", workload("Deployment", "web", "production", image=f"{WEB}:1.0.0"))
    repo.write("dist/env1/scaling.yaml", scaling("production", 3, 1, "80"))
    repo.write("dist/env1/secrets.yaml", secrets("production", ["a", "b"], ["x"]))
    repo.write(tree.RELEASE_RECORD.format(env="env1"), json.dumps({"tag": "1.0.0"}))
    repo.commit("base")
    repo.write(
        "dist/env1/web.yaml", workload("Deployment", "web", "production", image=f"{WEB}:1.1.0@{DIGEST}")
    )
    repo.write("dist/env1/scaling.yaml", scaling("production", 2, 2, "60"))
    repo.write("dist/env1/secrets.yaml", secrets("production", ["a", "c"], ["x", "y"]))
    repo.write(tree.RELEASE_RECORD.format(env="env1"), json.dumps({"tag": "1.1.0", "digest": DIGEST}))
    result = review(repo)
    assert result.code == 0, result.out + result.err
    flags = [line.strip() for line in result.out.splitlines() if line.strip().startswith("info ")]
    expected = [
        f"Deployment/production/web: image of web: {WEB}:1.0.0 → {WEB}:1.1.0@{DIGEST}",
        "SealedSecret/production/app: secret keys added: c",
        "SealedSecret/production/app: secret keys removed: b",
        "ExternalSecret/production/ext: secret keys added: y",
        "HorizontalPodAutoscaler/production/web: minimum replicas lowered: spec.minReplicas 3 → 2",
        "PodDisruptionBudget/production/web: disruption budget looser: spec.maxUnavailable 1 → 2",
        "ResourceQuota/production/quota: quota lowered: pods 80 → 60",
    ]
    for text in expected:
        assert any(line.endswith(f"env1: {text}") for line in flags), f"missing {text!r} in:\n" + "\n".join(
            flags
        )
    assert len(flags) == len(expected), "\n".join(flags)
    assert f"  release: 1.0.0 → 1.1.0@{DIGEST}" in result.out.splitlines()
    assert f"env1: 0 added, 0 removed, 6 changed, release 1.0.0 → 1.1.0@{DIGEST}" in result.out.splitlines()


def test_tighter_settings_raise_no_flag(tmp_path: Path, review: Review) -> None:
    repo = Repo.new(tmp_path / "repo")
    repo.write("dist/env1/scaling.yaml", scaling("production", 2, 2, "60"))
    repo.commit("base")
    repo.write("dist/env1/scaling.yaml", scaling("production", 3, 1, "80"))
    result = review(repo)
    assert result.code == 0 and " info " not in result.out and "Risk flags: 0 blocking" in result.out, (
        result.out
    )


def test_a_widened_policy_shows_its_new_connection(tmp_path: Path, review: Review) -> None:
    """From the connectivity lists, per environment; one without a list on both sides is skipped."""
    repo = Repo.new(tmp_path / "repo")
    allowed = [
        "# who may talk to whom",
        "production/vibeyard → production/redis TCP 6379",
        "production/worker → production/redis TCP 6379",
    ]
    for env in ("env1", "env2"):
        repo.write(
            f"dist/{env}/policy.yaml", simple("networking.k8s.io/v1", "NetworkPolicy", "egress", env, spec={})
        )
    repo.write("docs/network/env1.txt", "\n".join(allowed) + "\n")
    repo.commit("base")
    widened = [*allowed[:2], "production/vibeyard → internet TCP 443"]
    repo.write(
        "dist/env1/policy.yaml",
        simple("networking.k8s.io/v1", "NetworkPolicy", "egress", "env1", spec={"egress": [{}]}),
    )
    repo.write("docs/network/env1.txt", "\n".join(widened) + "\n")
    repo.write("docs/network/env2.txt", "production/anything → internet TCP 80\n")  # no list at BASE
    result = review(repo)
    assert result.code == 0, result.out + result.err
    lines = [line.strip() for line in result.out.splitlines()]
    assert "info          env1: + production/vibeyard → internet TCP 443" in lines, result.out
    assert "info          env1: - production/worker → production/redis TCP 6379" in lines, result.out
    assert not any("→" in line and "env2" in line for line in lines), result.out
    assert "env1: 0 added, 0 removed, 1 changed, connections +1 -1" in lines, result.out
    assert "env2: no change" in lines


def worker_pool(ns: str, pool: str) -> dict[str, Doc]:
    """The files a worker pool renders, by file name."""
    name = f"vibeyard-worker-{pool}"
    return {
        f"03-serviceaccount-{name}.yaml": simple("v1", "ServiceAccount", name, ns),
        f"02-networkpolicy-{name}-from-monitoring.yaml": simple(
            "networking.k8s.io/v1", "NetworkPolicy", f"{name}-from-monitoring", ns, spec={}
        ),
        f"07-service-{name}.yaml": simple("v1", "Service", name, ns, spec={"ports": [{"port": 9464}]}),
        f"09-deployment-{name}.yaml": workload("Deployment", name, ns),
        f"10-poddisruptionbudget-{name}.yaml": simple("policy/v1", "PodDisruptionBudget", name, ns, spec={}),
        f"10-scaledobject-{name}.yaml": simple("keda.sh/v1alpha1", "ScaledObject", name, ns, spec={}),
        f"12-servicemonitor-{name}.yaml": simple(
            "monitoring.coreos.com/v1", "ServiceMonitor", name, ns, spec={}
        ),
    }


def test_a_new_worker_pools_untracked_files_are_listed(tmp_path: Path, review: Review) -> None:
    """``git diff dist/`` shows nothing for them: they are untracked until someone adds them."""
    repo = Repo.new(tmp_path / "repo")
    for name, doc in worker_pool("production", "default").items():
        repo.write(f"dist/env1/{name}", doc)
    repo.commit("base")
    new = worker_pool("production", "analysis")
    for name, doc in new.items():
        repo.write(f"dist/env1/{name}", doc)
    gone = "12-servicemonitor-vibeyard-worker-default.yaml"
    repo.remove(f"dist/env1/{gone}")
    assert git(repo.path, "diff", "--name-only", "--", "dist/") == f"dist/env1/{gone}", (
        "git diff lists new files"
    )
    result = review(repo)
    assert result.code == 0, result.out + result.err
    lines = result.out.splitlines()
    for name, doc in new.items():
        assert f"  + {key(doc)}  (dist/env1/{name})" in lines, result.out
    assert "  - ServiceMonitor/production/vibeyard-worker-default  (dist/env1/" + gone + ")" in lines
    assert f"env1: {len(new)} added, 1 removed, 0 changed" in lines


def dashboard(panels: int, title: str = "Requests") -> str:
    doc = {
        "title": "HTTP",
        "panels": [{"id": i, "title": f"{title} {i}", "type": "timeseries"} for i in range(panels)],
    }
    return json.dumps(doc, indent=2) + "\n"


def test_changed_fields_are_compact(tmp_path: Path, review: Review) -> None:
    """Paths with before → after; containers and env by name; a big text as a short line diff."""
    repo = Repo.new(tmp_path / "repo")
    web = workload("Deployment", "web", "production")
    web["spec"]["template"]["spec"]["containers"][0]["env"] = [
        {"name": "A", "value": "1"},
        {"name": "B", "value": "2"},
    ]
    boards = {"http.json": dashboard(40), "queues.json": dashboard(40)}
    repo.write("dist/env1/web.yaml", web)
    repo.write("dist/env1/boards.yaml", simple("v1", "ConfigMap", "boards", "production", data=boards))
    repo.commit("base")
    web = edited(
        web,
        "spec.template.spec.containers.0.env",
        [{"name": "NEW", "value": "x"}, {"name": "A", "value": "1"}, {"name": "B", "value": "3"}],
    )
    web = edited(web, "metadata.labels", {"app.kubernetes.io/version": "1.1.0"})
    boards = {
        "http.json": dashboard(40).replace("Requests 7", "Requests per second 7"),
        "queues.json": dashboard(40, "Jobs"),
    }
    repo.write("dist/env1/web.yaml", web)
    repo.write("dist/env1/boards.yaml", simple("v1", "ConfigMap", "boards", "production", data=boards))
    result = review(repo)
    lines = [line.strip() for line in result.out.splitlines()]
    assert "spec.template.spec.containers[name=web].env[name=B].value: '2' → '3'" in lines, result.out
    assert "spec.template.spec.containers[name=web].env[name=NEW]: (none) → {name: NEW, value: x}" in lines
    assert not any("env[name=A]" in line for line in lines), "an inserted item must not shift the others"
    assert "metadata.labels: (none) → {app.kubernetes.io/version: 1.1.0}" in lines
    n = len(dashboard(40).splitlines())
    at = lines.index(f'data["http.json"]: {n} → {n} lines, +1 -1')
    pad = " " * 6  # the panel's indentation in the JSON
    assert lines[at + 1 : at + 3] == [
        f'-{pad}"title": "Requests 7",',
        f'+{pad}"title": "Requests per second 7",',
    ]
    assert '"title": "Requests 8",' not in result.out, "unchanged lines of a blob are not shown"
    assert f'data["queues.json"]: {n} → {n} lines, +40 -40' in lines
    assert "… 74 more changed lines" in lines


def test_an_inserted_rule_and_a_late_change_in_a_long_line_show_as_such(
    tmp_path: Path, review: Review
) -> None:
    """Unnamed list items are aligned by content: one inserted rule is one change, not every
    later position; a long line changed near its end shows where it changed."""
    repo = Repo.new(tmp_path / "repo")
    rules = [{"from": [{"podSelector": {"matchLabels": {"app": name}}}]} for name in ("a", "b", "c")]
    policy = simple("networking.k8s.io/v1", "NetworkPolicy", "web", "production", spec={"ingress": rules})
    conf = "# " + "x" * 300 + " end=1\nport 6379\n"
    repo.write("dist/env1/policy.yaml", policy)
    repo.write(
        "dist/env1/conf.yaml", simple("v1", "ConfigMap", "conf", "production", data={"redis.conf": conf})
    )
    repo.commit("base")
    opened = {"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}
    repo.write("dist/env1/policy.yaml", edited(policy, "spec.ingress", [opened, *rules[:2], rules[2]]))
    late = conf.replace("end=1", "end=2")
    repo.write(
        "dist/env1/conf.yaml", simple("v1", "ConfigMap", "conf", "production", data={"redis.conf": late})
    )
    result = review(repo)
    lines = [line.strip() for line in result.out.splitlines()]
    assert "spec.ingress[0]: (none) → {from: [{ipBlock: {cidr: 0.0.0.0/0}}]}" in lines, result.out
    assert not any(
        line.startswith(("spec.ingress[1]", "spec.ingress[2]", "spec.ingress[3]")) for line in lines
    ), "an inserted rule must not show the later ones as changed:\n" + result.out
    assert any(line.startswith("-…") and line.endswith("end=1") for line in lines), result.out
    assert any(line.startswith("+…") and line.endswith("end=2") for line in lines), result.out


def test_files_that_are_not_manifests_are_compared_as_files(tmp_path: Path, review: Review) -> None:
    repo = Repo.new(tmp_path / "repo")
    repo.write("dist/environments.json", '{"env1": {"namespace": "production"}}\n')
    repo.write("dist/env1/README.txt", "one\ntwo\n")
    repo.write("dist/env1/logo.png", b"\x89PNG\x00\x01")
    repo.write("dist/env1/list.yaml", "- just\n- a list\n")
    repo.commit("base")
    repo.write("dist/environments.json", '{"env1": {"namespace": "production", "gitops": null}}\n')
    repo.write("dist/env1/README.txt", "one\nthree\n")
    repo.write("dist/env1/logo.png", b"\x89PNG\x00\x02\x03")
    repo.write("dist/env1/broken.yaml", "kind: [unclosed\n")
    repo.remove("dist/env1/list.yaml")
    result = review(repo)
    assert result.code == 0, result.out + result.err
    lines = [line.strip() for line in result.out.splitlines()]
    for line in (
        "+ dist/env1/broken.yaml",
        "- dist/env1/list.yaml",
        "~ dist/env1/README.txt: 2 → 2 lines, +1 -1",
        "~ dist/env1/logo.png: 6 bytes → 7 bytes",
        "env1: 0 added, 0 removed, 0 changed, 4 other files",
        "dist/: 0 added, 0 removed, 0 changed, 1 other file",
    ):
        assert line in lines, f"{line!r} not in:\n{result.out}"


# --------------------------------------------------------------------------- mistakes: one line, exit 2

REDIS = "StatefulSet/production/redis"
N = "2030-01-01-x.md"

BAD_NOTES = {
    "no-front-matter": (N, "# Steps\n" + STEPS, "no front matter"),
    "unclosed-front-matter": (N, "---\ntitle: x\n" + STEPS, "no front matter"),
    "not-yaml": (N, "---\ntitle: [x\n---\n" + STEPS, "not valid YAML at line 2"),
    "not-a-mapping": (N, "---\n- x\n---\n" + STEPS, "must be a mapping"),
    "unknown-key": (
        N,
        note([REDIS], "t").replace("title:", "owner: me\ntitle:"),
        "unknown front matter key 'owner'",
    ),
    "flagged-not-a-bool": (
        N,
        note([REDIS], "t").replace("title:", "flagged: maybe\ntitle:"),
        "flagged: must be true or false",
    ),
    "no-title": (N, f"---\nobjects: [{REDIS}]\n---\n" + STEPS, "title:"),
    "empty-title": (N, note([REDIS], " "), "title:"),
    "objects-not-a-list": (
        N,
        f"---\ntitle: t\nobjects: {REDIS}\n---\n" + STEPS,
        "objects: must be a non-empty list",
    ),
    "object-not-kind-namespace-name": (N, note(["statefulset redis"], "t"), "objects[0]='statefulset redis'"),
    "object-twice": (N, note([REDIS, REDIS], "t"), "twice"),
    "misspelt-object": (N, note([REDIS + "s"], "t"), "none of its objects is in dist/"),
    "no-commands": (N, note([REDIS], "t", "Do it by hand.\n"), "no commands"),
    "bad-file-name": ("redis-upgrade.md", note([REDIS], "t"), "not an upgrade note name"),
    "bad-date": ("2030-02-30-x.md", note([REDIS], "t"), "is not a date"),
}


@pytest.fixture(scope="module")
def note_repo(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    repo = Repo.new(tmp_path_factory.mktemp("notes") / "repo")
    repo.write("dist/env1/redis.yaml", workload("StatefulSet", "redis", "production"))
    repo.commit("base")
    return repo


@pytest.mark.parametrize("case", list(BAD_NOTES))
def test_a_malformed_upgrade_note_is_one_line_and_exit_2(case: str, note_repo: Repo, review: Review) -> None:
    name, text, problem = BAD_NOTES[case]
    repo = note_repo
    repo.write(f"upgrades/{name}", text)
    try:
        result = review(repo)
    finally:
        repo.remove(f"upgrades/{name}")
    assert result.code == 2, result.out + result.err
    assert result.out == "", "nothing but the error"
    assert len(result.err.splitlines()) == 1, result.err
    assert result.err.startswith(f"upgrades/{name}: ") and problem in result.err, result.err


def test_a_good_note_that_names_no_blocking_change_is_accepted(note_repo: Repo, review: Review) -> None:
    """The control for the table above: the same repository with a well-formed note passes."""
    note_repo.write(f"upgrades/{N}", note([REDIS], "Re-create the StatefulSet"))
    try:
        result = review(note_repo)
    finally:
        note_repo.remove(f"upgrades/{N}")
    assert result.code == 0 and result.err == "", result.err
    # It steps in for no flag, and the reviewer still sees it.
    assert (
        f"Upgrade notes new in this change: 1\n  upgrade note: Re-create the StatefulSet (upgrades/{N})"
        in result.out
    )


def test_a_note_for_an_unflagged_change_acknowledges_no_flag(tmp_path: Path, review: Review) -> None:
    """``flagged: false`` orders a change make diff cannot see; it must not wave a real flag through."""
    repo = Repo.new(tmp_path / "repo")
    repo.write("dist/env1/redis.yaml", workload("StatefulSet", "redis", "production"))
    repo.commit("base")
    repo.write(
        "dist/env1/redis.yaml",
        edited(workload("StatefulSet", "redis", "production"), "spec.serviceName", "x"),
    )
    text = note([REDIS], "App first").replace("title:", "flagged: false\ntitle:")
    repo.write(f"upgrades/{N}", text)
    result = review(repo)
    assert result.code == 3, result.out + result.err
    assert f"BLOCKING      env1: {REDIS}: spec.serviceName changed" in result.out
    assert f"upgrade note: App first (upgrades/{N})" in result.out, "listed all the same"


def test_a_bad_base_and_no_repository_are_one_line_and_exit_2(tmp_path: Path, review: Review) -> None:
    repo = Repo.new(tmp_path / "repo")
    empty = review(repo)
    assert (empty.code, len(empty.err.splitlines())) == (2, 1) and "no commit yet" in empty.err, empty.err
    repo.commit("base")
    result = review(repo, "--base", "no-such-ref")
    assert (result.code, len(result.err.splitlines())) == (2, 1), result.err
    assert "BASE=no-such-ref is not a commit" in result.err
    outside = tmp_path / "plain"
    outside.mkdir()
    result = review(Repo(outside))
    assert (result.code, len(result.err.splitlines())) == (
        2,
        1,
    ) and "not inside a git repository" in result.err


# --------------------------------------------------------------------------- BASE


def test_default_base_is_the_merge_base_with_main(tmp_path: Path, review: Review) -> None:
    """A branch's own commits count as its change; what main did since does not."""
    repo = Repo.new(tmp_path / "repo")
    repo.write("dist/env1/a.yaml", simple("v1", "ConfigMap", "a", "production", data={"v": "1"}))
    repo.commit("base")
    fork = repo.head()
    git(repo.path, "switch", "--quiet", "-c", "feature")
    repo.write("dist/env1/b.yaml", simple("v1", "ConfigMap", "b", "production", data={}))
    repo.commit("feature")
    git(repo.path, "switch", "--quiet", "main")
    repo.write("dist/env1/c.yaml", simple("v1", "ConfigMap", "c", "production", data={}))
    repo.commit("main moves on")
    git(repo.path, "switch", "--quiet", "feature")
    result = review(repo)
    assert f"dist/ at {fork[:12]} (merge base of HEAD and main)" in result.out, result.out
    assert "  + ConfigMap/production/b  (dist/env1/b.yaml)" in result.out.splitlines()
    assert "ConfigMap/production/c" not in result.out
    git(repo.path, "update-ref", "refs/remotes/origin/main", "HEAD")  # origin/main wins over main
    assert "(merge base of HEAD and origin/main)" in review(repo).out


def test_without_a_main_branch_base_is_head(tmp_path: Path, review: Review) -> None:
    repo = Repo.new(tmp_path / "repo", branch="trunk")
    repo.write("dist/env1/a.yaml", simple("v1", "ConfigMap", "a", "production", data={"v": "1"}))
    repo.commit("base")
    head = repo.head()
    repo.write("dist/env1/a.yaml", simple("v1", "ConfigMap", "a", "production", data={"v": "2"}))
    result = review(repo)
    assert f"dist/ at {head[:12]} (HEAD" in result.out, result.out
    assert "data.v: '1' → '2'" in [line.strip() for line in result.out.splitlines()]


def test_markdown_puts_the_risk_flags_first(planted: Planted, tmp_path: Path) -> None:
    """The CI job summary: flags, then the object-level changes, fenced so a dashboard's ``` is safe."""
    repo = Repo.new(tmp_path / "repo")
    repo.write("dist/env1/redis.yaml", workload("StatefulSet", "redis", "production"))
    repo.write("dist/env1/board.yaml", simple("v1", "ConfigMap", "b", "production", data={"x.md": "a\n"}))
    repo.commit("base")
    repo.write(
        "dist/env1/redis.yaml",
        edited(workload("StatefulSet", "redis", "production"), "spec.serviceName", "x"),
    )
    repo.write(
        "dist/env1/board.yaml", simple("v1", "ConfigMap", "b", "production", data={"x.md": "a\n```\nb\n"})
    )
    result = call_cli(repo.path, "--format", "markdown")
    assert result.code == 3, result.err
    out = result.out
    flag = out.index("### Blocking, no upgrade note")
    assert "`StatefulSet/production/redis`: spec.serviceName changed" in out[flag:]
    assert flag < out.index("### Objects per environment") < out.index("#### env1")
    body = out[out.index("#### env1") :]
    assert "\n````diff\n" in body and body.rstrip().endswith("````"), body


# --------------------------------------------------------------------------- this repository's history

# What `make diff` needs in a clone: the make target, its script and package; then what it compares.
CLONED = (
    "Makefile", "Pipfile.lock", "package-lock.json", "scripts/cdk8s-shim.js", "scripts/review-diff.py",
    "constructs/vibeyard/__init__.py", "constructs/vibeyard/review", *tree.prefixes(),
)  # fmt: skip


def outside_make() -> dict[str, str]:
    """The environment without the outer ``make test``'s jobserver (its file descriptors are not ours)."""
    return {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}


def make_diff(clone: Path, base: str) -> subprocess.CompletedProcess[str]:
    env = outside_make()
    dry = subprocess.run(
        ["make", "-n", "diff"], cwd=clone, env=env, capture_output=True, text=True, check=False
    )
    # The clone borrows this checkout's installs: make must see them as current, never reinstall.
    assert dry.stdout.strip() == ".venv/bin/python scripts/review-diff.py", dry.stdout + dry.stderr
    return subprocess.run(
        ["make", "--no-print-directory", "diff", f"BASE={base}"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def borrow_installs(path: Path) -> None:
    """Let ``make diff`` run in ``path`` with this checkout's .venv and tools, never reinstalling."""
    for name in (".venv", ".tools", "node_modules"):
        (path / name).symlink_to(ROOT / name)
    for name in ("Pipfile.lock", "package-lock.json", "scripts/cdk8s-shim.js"):
        os.utime(path / name, (1_000_000_000, 1_000_000_000))  # older than the borrowed install stamps


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This repository's last commit, with the files make diff needs."""
    path = tmp_path_factory.mktemp("history") / "clone"
    git(ROOT, "clone", "--quiet", "--shared", "--no-checkout", str(ROOT), str(path))
    found = subprocess.run(["git", "cat-file", "-e", f"{FIRST_LANDED}^{{commit}}"], cwd=path, check=False)
    if found.returncode:
        pytest.fail(
            f"commit {FIRST_LANDED[:12]} (the first landed version) is missing: fetch the full history"
        )
    git(path, "checkout", "HEAD", "--", *CLONED)
    borrow_installs(path)
    return path


def note_objects(clone: Path) -> dict[str, tuple[str, list[str]]]:
    """The committed upgrade notes: path -> (title, objects), read as plain YAML front matter."""
    notes = {}
    for path in sorted((clone / "upgrades").glob("*.md")):
        front = yaml.safe_load(path.read_text("utf-8").split("---\n")[1])
        if front.get("flagged", True):  # a note that orders an unflagged change acknowledges nothing
            notes[f"upgrades/{path.name}"] = (front["title"], front["objects"])
    return notes


def test_history_make_diff_from_the_first_landed_commit_passes_because_of_its_notes(clone: Path) -> None:
    notes = note_objects(clone)
    assert notes, "upgrades/ holds the notes for the history's two blocking upgrades"
    proc = make_diff(clone, FIRST_LANDED)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for path, (title, _) in notes.items():
        assert f"upgrade note: {title} ({path})" in proc.stdout, proc.stdout
    assert "BLOCKING" not in proc.stdout


def test_history_fails_without_the_notes(clone: Path) -> None:
    notes = note_objects(clone)
    git(clone, "rm", "--quiet", "--", *notes)
    try:
        proc = make_diff(clone, FIRST_LANDED)
    finally:
        git(clone, "checkout", "HEAD", "--", "upgrades")
    assert proc.returncode == 2 and "diff] Error 3" in proc.stderr, proc.stderr
    blocked = {
        line.split(": ")[1] for line in proc.stdout.splitlines() if line.strip().startswith("BLOCKING")
    }
    named = {obj for _, objects in notes.values() for obj in objects}
    assert blocked and blocked <= named, f"blocking without a note: {sorted(blocked - named)}"
    for path, (_, objects) in notes.items():
        assert blocked & set(objects), f"{path} acknowledges nothing: {objects}"


# --------------------------------------------------------------------------- CI


def ci_step_repo(path: Path) -> Repo:
    """A pull request's checkout: origin/main at the base, HEAD a commit that needs redis re-created."""
    repo = Repo.new(path)
    copied = [
        "Makefile",
        "Pipfile.lock",
        "package-lock.json",
        "scripts/cdk8s-shim.js",
        "scripts/review-diff.py",
    ]
    copied += [
        p.relative_to(ROOT).as_posix() for p in (ROOT / "constructs" / "vibeyard" / "review").glob("*.py")
    ]
    for name in [*copied, "constructs/vibeyard/__init__.py"]:
        repo.write(name, (ROOT / name).read_bytes())
    repo.write(".gitignore", ".venv\n.tools\nnode_modules\n")
    repo.write("dist/env1/redis.yaml", workload("StatefulSet", "redis", "production"))
    repo.commit("base")
    git(repo.path, "update-ref", "refs/remotes/origin/main", "HEAD")
    git(repo.path, "switch", "--quiet", "-c", "pull")
    redis = edited(workload("StatefulSet", "redis", "production"), "spec.serviceName", "x")
    repo.write("dist/env1/redis.yaml", redis)
    repo.commit("the pull request")
    borrow_installs(repo.path)
    return repo


def test_ci_summary_shows_make_diff_and_fails_on_an_unacknowledged_blocking_change(tmp_path: Path) -> None:
    """The PR step of ci.yml, run as GitHub runs it: flags first, the raw diff kept, exit 1 until a note."""
    step = step_named(ci_job(load(CI)), "Rendered-manifest diff")
    repo = ci_step_repo(tmp_path / "repo")

    def run(max_bytes: str) -> tuple[subprocess.CompletedProcess[str], str, str]:
        summary, temp = tmp_path / f"summary-{max_bytes}.md", tmp_path / f"temp-{max_bytes}"
        temp.mkdir(exist_ok=True)
        summary.unlink(missing_ok=True)
        env = {k: v for k, v in outside_make().items() if k != "PATH"} | {
            "BASE_REF": "main",
            "MAX_BYTES": max_bytes,
            "GITHUB_STEP_SUMMARY": str(summary),
            "RUNNER_TEMP": str(temp),
        }
        proc = run_bash(script(step), env, repo.path)
        return proc, summary.read_text("utf-8"), (temp / "dist.diff").read_text("utf-8")

    proc, summary, raw = run(step["env"]["MAX_BYTES"])
    assert proc.returncode == 1 and "::error title=make diff::make diff: 1 blocking change" in proc.stdout, (
        proc
    )
    assert summary.startswith("> **make diff failed:** make diff: 1 blocking change"), summary
    flags, objects = (
        summary.index("### Blocking, no upgrade note"),
        summary.index("### Objects per environment"),
    )
    assert flags < objects < summary.index("#### env1") < summary.index("the `dist-diff` artifact")
    assert "`StatefulSet/production/redis`: spec.serviceName changed" in summary[flags:objects]
    assert "-  serviceName: redis-headless\n+  serviceName: x\n" in raw, raw

    repo.write("upgrades/2030-01-01-redis.md", note(["StatefulSet/production/redis"], "Re-create redis"))
    repo.commit("the note")
    proc, summary, _ = run(step["env"]["MAX_BYTES"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "make diff failed" not in summary and "*Re-create redis*" in summary, summary
    proc, summary, _ = run("10")  # a report too long for the summary: flags and totals only
    assert proc.returncode == 0 and "#### env1" not in summary and "Too long for the job summary" in summary
    assert "### Blocking, acknowledged by an upgrade note" in summary, summary


def test_release_records_inside_dist_are_not_an_environment(tmp_path: Path, review: Review) -> None:
    """The records live in a folder of dist/ (dist/releases/<env>.json): that folder is no environment."""
    record = tree.RELEASE_RECORD.format(env="env1")
    assert record.startswith("dist/"), "the records moved out of dist/: this test has nothing to check"
    repo = Repo.new(tmp_path / "repo")
    repo.write("dist/env1/web.yaml", workload("Deployment", "web", "production"))
    repo.write(record, json.dumps({"tag": "1.0.0"}))
    repo.write(str(Path(record).parent / "README.txt"), "records, one per environment\n")
    repo.commit("base")
    repo.write(record, json.dumps({"tag": "1.1.0"}))
    result = review(repo)
    assert result.code == 0, result.err
    assert "env1: 0 added, 0 removed, 0 changed, release 1.0.0 → 1.1.0" in result.out.splitlines()
    folders = {line.split(":")[0] for line in result.out.splitlines()}
    assert not folders & {"releases", "== releases"}, result.out
