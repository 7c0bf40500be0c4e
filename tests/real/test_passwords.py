"""Any password works: every printable ASCII character, through the real consumers.

The postgres, queue Redis and cache passwords are each a string of all of 0x20..0x7e
(in different orders, so that a mix-up between them fails too), put into the
environment's Secret values as the harness does; the servers start from the rendered
config with them (the init containers write PgBouncer's userlist and Redis's
requirepass include from them). Then, per environment:

- the app's URLs (docs/app-contract.md, url_passwords), composed in Node exactly as the
  contract says, parse back to the password with the clients' own parsers (pg's
  pg-connection-string, ioredis) and log in: pg through PgBouncer (web's DATABASE_URL)
  and directly (the migration's), ioredis to the queue and the cache;
- every exporter sidecar reports up = 1 with its password (the PgBouncer one from PGPASSWORD);
- the migration Job's launcher hands its command a URL that logs in (once per distinct
  rendered config of the database and the Job, ``distinct``).

Planted defects: the URL's password setter without encodeURIComponent, and the old
``$(PASSWORD)``-inside-the-URL form, must fail for every URL a password is composed into.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from tests.conftest import ENV_NAMES
from tests.real.harness import discover, distinct, exporters, migration, node
from tests.real.harness.pgbouncer import PgBouncer
from tests.real.harness.pods import Cluster, stop_clusters
from tests.real.harness.procs import HarnessError
from tests.real.harness.secrets import TestSecret
from tests.real.harness.servers import Postgres, Redis, localize_url
from tests.support import Output
from tests.validators.manifests import load_yaml

PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F))
PASSWORDS = {"postgres": PRINTABLE, "redis": PRINTABLE[::-1], "redis-cache": PRINTABLE[47:] + PRINTABLE[:47]}
CONNECT = Path(__file__).with_name("node") / "connect.mjs"
# The app's URLs, and whose env is read for each (None: every app workload that sets it,
# web and workers, which must agree).
URLS: list[tuple[str, str | None]] = [
    ("DATABASE_URL", "web"),
    ("DATABASE_URL", "migration"),
    ("REDIS_URL", None),
    ("REDIS_CACHE_URL", None),
]
CONTRACT_LINE = "url.password = encodeURIComponent(process.env.DATABASE_PASSWORD)"
# What the launcher's run reads, for grouping the environments (see harness/distinct.py).
DATABASE = distinct.servers("postgres", jobs=True)


@dataclass
class Stack:
    cluster: Cluster
    servers: list[Redis | Postgres | PgBouncer]


@pytest.fixture(scope="module")
def stacks(real_root: Path) -> Iterator[dict[str, Stack]]:
    made: dict[str, Stack] = {}
    yield made
    stop_clusters(stack.cluster for stack in made.values())


def stack(stacks: dict[str, Stack], outputs: dict[str, Output], real_root: Path, env: str) -> Stack:
    """The environment's stores, started once for this module with the printable passwords."""
    if env not in stacks:
        out = outputs[env]
        c = Cluster(out, real_root / f"passwords-{env}", TestSecret(out.cfg, passwords=PASSWORDS))
        servers: list[Redis | Postgres | PgBouncer] = [
            Redis(c.pod(w)).start() for w in discover.workloads(c, "redis-server")
        ]
        db = discover.database(c)
        servers += [db] if db is not None else []
        servers += [PgBouncer(c.pod(w)).start() for w in discover.workloads(c, "pgbouncer")]
        stacks[env] = Stack(c, servers)
    return stacks[env]


def app_urls(c: Cluster) -> Iterator[tuple[str, str, str, str | None]]:
    """(variable, name, URL as rendered, the password set beside it or None) of each URL the
    app has; read from the render, nothing started."""
    beside = load_yaml(discover.CONTRACT.read_text(encoding="utf-8"))["url_passwords"]
    for var, component in URLS:
        try:
            rendered = discover.app_env(c, var, component)
        except HarnessError:
            continue  # the environment does not set it
        try:
            password: str | None = discover.app_env(c, beside[var], component)
        except HarnessError:
            password = None
        yield var, f"{var} ({component or 'web, workers'})", rendered, password


def composed_into(name: str, rendered: str) -> str:
    """A URL a password is composed into, by where it leads: ``DATABASE_URL (web) -> pgbouncer:5432``."""
    return f"{name} -> {urlsplit(rendered).netloc.rpartition('@')[2]}"


def checks(c: Cluster, compose: str, only: set[str] | None = None) -> list[dict[str, str]]:
    """One check per URL the app has, made local; ``compose`` as connect.mjs reads it, or
    "inline" (the old form). Only a URL with its password beside it is composed; a whole
    URL (a managed store's, from the Secret) is used as it is, in the contract's run only.
    ``only``: the composed URLs to check (``composed_into``), not every one."""
    out = []
    for var, name, rendered, password in app_urls(c):
        url = localize_url(c, rendered)
        client = "pg" if var == "DATABASE_URL" else "redis"
        if only is not None and (password is None or composed_into(name, rendered) not in only):
            continue
        if password is None:
            if compose == "contract":
                whole = unquote(urlsplit(url).password or "")
                out.append(
                    {"name": name, "client": client, "url": url, "password": whole, "compose": "as-is"}
                )
            continue
        assert urlsplit(url).password is None, f"{c.env}: {name} holds a password, and another beside it"
        if compose == "inline":
            url, compose_as = inline(url, password), "as-is"
        else:
            compose_as = compose
        out.append({"name": name, "client": client, "url": url, "password": password, "compose": compose_as})
    return out


def inline(url: str, password: str) -> str:
    """The old form: the password expanded as it is into the URL (``$(PASSWORD)``)."""
    scheme, rest = url.split("://", 1)
    user, at, host = rest.partition("@")
    return f"{scheme}://{user}:{password}@{host}" if at else f"{scheme}://:{password}@{rest}"


def connect(checks: list[dict[str, str]], log_dir: Path) -> list[dict[str, Any]]:
    """connect.mjs's result for each check: {name, ok, detail}."""
    results: list[dict[str, Any]] = node.ask(CONNECT, checks, log_dir=log_dir)
    return results


@pytest.mark.parametrize("env", ENV_NAMES)
def test_every_url_logs_in_with_every_printable_character_in_its_password(
    env: str, stacks: dict[str, Stack], outputs: dict[str, Output], real_root: Path
) -> None:
    s = stack(stacks, outputs, real_root, env)
    results = connect(checks(s.cluster, "contract"), real_root)
    assert results, f"{env}: the app has no URL to check"
    failed = [r for r in results if not r["ok"]]
    assert not failed, f"{env}: {failed}"


@pytest.mark.parametrize("env", ENV_NAMES)
def test_every_exporter_reads_its_store_with_every_printable_password(
    env: str, stacks: dict[str, Stack], outputs: dict[str, Output], real_root: Path
) -> None:
    s = stack(stacks, outputs, real_root, env)
    for server in s.servers:
        if exporters.sidecar(server.pod) is None:
            continue
        exporter = exporters.start_sidecar(server.pod)
        try:
            text = exporter.scrape()
        finally:
            exporter.stop()
        ups = [line for line in text.splitlines() if line.split(" ")[0].split("{")[0].endswith("_up")]
        assert ups and all(line.rsplit(" ", 1)[1] in ("1", "1.0") for line in ups), (
            f"{env}/{server.pod.name}: its exporter cannot log in: {ups}: {exporter.proc.tail()}"
        )


@pytest.mark.parametrize("envs", distinct.groups(DATABASE))
def test_the_migration_launcher_hands_its_command_a_url_that_logs_in(
    envs: tuple[str, ...], stacks: dict[str, Stack], outputs: dict[str, Output], real_root: Path
) -> None:
    for env in distinct.runs_of(envs, outputs, DATABASE):
        s = stack(stacks, outputs, real_root, env)
        pod = migration.job_pod(s.cluster)
        if pod is None:
            continue
        code, output = migration.Launcher(pod, migration.standin()).start().finish()
        user = urlsplit(discover.app_env(s.cluster, "DATABASE_URL", "migration")).username
        assert code == 0 and f'{{"row":{{"user":"{user}"}}}}' in output, f"{env}: {output[-400:]}"


LAUNCHER = "the migration launcher"


def planted_runs(outputs: dict[str, Output], real_root: Path) -> list[tuple[str, set[str]]]:
    """Where to plant: each URL a password is composed into (by where it leads) and the
    launcher once, in the environment that composes into the most, then in others for
    what they add. (environment, what to check there)."""
    found: dict[str, set[str]] = {}
    for env, out in outputs.items():
        c = Cluster(out, real_root / f"composed-{env}", TestSecret(out.cfg, passwords=PASSWORDS))
        found[env] = {composed_into(name, url) for _, name, url, password in app_urls(c) if password}
        pod = migration.job_pod(c)
        if pod is not None and "DATABASE_PASSWORD" in pod.container().env():
            found[env].add(LAUNCHER)
    runs: list[tuple[str, set[str]]] = []
    covered: set[str] = set()
    for env in sorted(found, key=lambda e: len(found[e]), reverse=True):
        if found[env] - covered:
            runs.append((env, found[env] - covered))
            covered |= found[env]
    return runs


@pytest.mark.parametrize("compose", ["setter", "inline"])
def test_planted_a_password_composed_unencoded_fails(
    compose: str, stacks: dict[str, Stack], outputs: dict[str, Output], real_root: Path
) -> None:
    """URL's password setter alone leaves '%' as it is, which the parsers then decode;
    the old form breaks the URL itself. Either must fail wherever a password is composed:
    shown once for each URL, by where it leads, and for the launcher (``planted_runs``),
    the URLs of every environment in one run of connect.mjs."""
    runs, planted = planted_runs(outputs, real_root), []
    for env, todo in runs:
        urls = todo - {LAUNCHER}
        found = checks(stack(stacks, outputs, real_root, env).cluster, compose, urls)
        assert len(found) == len(urls), f"{env}: checks {found}, not {sorted(urls)}"
        planted += [{**check, "name": f"{env}: {check['name']}"} for check in found]
    passed = [r for r in connect(planted, real_root) if r["ok"]] if planted else []
    assert not passed, f"composed {compose!r}, these still logged in: {passed}"
    for env, todo in runs:
        if LAUNCHER in todo:
            launcher_composes_unencoded(stack(stacks, outputs, real_root, env).cluster, compose)


def launcher_composes_unencoded(c: Cluster, compose: str) -> None:
    """The launcher with its composition planted: its command must not log in."""
    env, pod = c.env, migration.job_pod(c)
    assert pod is not None
    launcher = migration.Launcher(pod, migration.standin())
    if compose == "setter":
        assert CONTRACT_LINE in launcher.argv[2], (
            f"{env}: the launcher no longer composes as the contract says"
        )
        launcher.argv[2] = launcher.argv[2].replace(
            CONTRACT_LINE, CONTRACT_LINE.replace("encodeURIComponent", "")
        )
    else:
        composed = checks(c, "inline")
        launcher.env["DATABASE_URL"] = next(
            x["url"] for x in composed if x["name"] == "DATABASE_URL (migration)"
        )
        launcher.env.pop("DATABASE_PASSWORD")
    code, output = launcher.start().finish()
    assert code != 0, (
        f"{env}: the launcher composed {compose!r} and its command still logged in: {output[-300:]}"
    )
