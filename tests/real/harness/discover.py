"""Which rendered workloads run which software: read from dist, not listed by hand, so a
new Redis, database or pooler is exercised as soon as it is rendered."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from tests.support import Manifest
from tests.validators.manifests import load_yaml
from vibeyard.config import Topology

from .pods import Cluster, container_env
from .procs import HarnessError
from .secrets import TestSecret
from .servers import Postgres

WORKLOAD_KINDS = ("Deployment", "StatefulSet")
CONTRACT = Path(__file__).resolve().parents[3] / "docs" / "app-contract.yaml"


def runs(workload: Manifest, program: str) -> bool:
    """By the command a container runs, or by its image's name; sidecars don't count."""
    for c in workload["spec"]["template"]["spec"]["containers"]:
        if c["name"] == "exporter":
            continue
        words = [*c.get("command", []), *c.get("args", [])]
        if words and Path(str(words[0])).name == program:
            return True
        image = c.get("image", "").split("@")[0].rsplit("/", 1)[-1].split(":")[0]
        if image == program:
            return True
    return False


def workloads(cluster: Cluster, program: str) -> list[Manifest]:
    return [o for kind in WORKLOAD_KINDS for o in cluster.out.of_kind(kind) if runs(o, program)]


def app_containers(cluster: Cluster) -> Iterator[tuple[Manifest, Manifest]]:
    """(workload, container) of the app's own pods: web, workers, the migration Job."""
    for o in cluster.out.workloads():
        if o["metadata"]["labels"].get("app.kubernetes.io/component") in ("web", "worker", "migration"):
            for c in o["spec"]["template"]["spec"]["containers"]:
                yield o, c


def app_env(cluster: Cluster, var: str, component: str | None = None) -> str:
    """The expanded value of ``var`` in the app's containers (all that set it must agree)."""
    values = set()
    for workload, spec in app_containers(cluster):
        labels = workload["metadata"]["labels"]
        if component and labels.get("app.kubernetes.io/component") != component:
            continue
        if any(v["name"] == var for v in spec.get("env", [])):
            values.add(container_env(cluster, spec, workload["metadata"]["name"], "app")[var])
    if len(values) != 1:
        raise HarnessError(f"{cluster.env}: the app's {var} is {sorted(values) or 'unset'}")
    return values.pop()


def app_url(cluster: Cluster, var: str, component: str | None = None) -> str:
    """``var`` as the app uses it: with its ``url_passwords`` variable set in it as the
    app contract says (percent-encoded), where the chart sets one beside it."""
    url = app_env(cluster, var, component)
    passwords = load_yaml(CONTRACT.read_text(encoding="utf-8"))["url_passwords"]
    try:
        password = app_env(cluster, passwords[var], component)
    except HarnessError:
        return url  # a managed store's whole URL
    parts = urlsplit(url)
    user, _, host = parts.netloc.rpartition("@")
    netloc = f"{user}:{quote(password, safe='')}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


def database(cluster: Cluster, *, start: bool = True) -> Postgres | None:
    """The database the environment's clients reach: its postgres workload, or a stand-in
    at a managed database's endpoint (when a pooler or a Job connects to one); None when
    nothing needs one. ``start=False``: laid out, not running."""
    found = workloads(cluster, "postgres")
    if found:
        db = Postgres(cluster.pod(found[0]))
        return db.start() if start else db
    if workloads(cluster, "pgbouncer") or cluster.out.of_kind("Job"):
        endpoint = TestSecret.managed_postgres(Topology.of(cluster.out.cfg))
        return Postgres.standin(cluster, *endpoint, start=start)
    return None
