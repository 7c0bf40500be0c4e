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
- the migration Job's launcher hands its command a URL that logs in.

Planted defects: the URL's password setter without encodeURIComponent, and the old
``$(PASSWORD)``-inside-the-URL form, must fail for every URL a password is composed into.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from tests.conftest import ENV_NAMES
from tests.real.harness import discover, exporters, migration, procs, tools
from tests.real.harness.pgbouncer import PgBouncer
from tests.real.harness.pods import Cluster
from tests.real.harness.procs import HarnessError
from tests.real.harness.secrets import TestSecret
from tests.real.harness.servers import Postgres, Redis, localize_url
from tests.support import Output

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


@dataclass
class Stack:
    cluster: Cluster
    servers: list[Redis | Postgres | PgBouncer]


@pytest.fixture(scope="module")
def stacks(real_root: Path) -> Iterator[dict[str, Stack]]:
    made: dict[str, Stack] = {}
    yield made
    for stack in made.values():
        stack.cluster.stop()


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


def checks(c: Cluster, compose: str) -> list[dict[str, str]]:
    """One check per URL the app has, made local; ``compose`` as connect.mjs reads it, or
    "inline" (the old form). Only a URL with its password beside it is composed; a whole
    URL (a managed store's, from the Secret) is used as it is, in the contract's run only."""
    out = []
    beside = yaml.safe_load(discover.CONTRACT.read_text(encoding="utf-8"))["url_passwords"]
    for var, component in URLS:
        try:
            rendered = discover.app_env(c, var, component)
        except HarnessError:
            continue  # the environment does not set it
        url, name = localize_url(c, rendered), f"{var} ({component or 'web, workers'})"
        client = "pg" if var == "DATABASE_URL" else "redis"
        try:
            password = discover.app_env(c, beside[var], component)
        except HarnessError:
            if compose == "contract":
                whole = unquote(urlsplit(url).password or "")
                out.append(
                    {"name": name, "client": client, "url": url, "password": whole, "compose": "as-is"}
                )
            continue
        assert urlsplit(url).password is None, f"{c.env}: {name} holds a password, and {beside[var]} another"
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


def connect(c: Cluster, compose: str) -> list[dict[str, Any]]:
    argv = [tools.find("node"), str(CONNECT), json.dumps(checks(c, compose))]
    r = procs.run(argv, cwd=tools.ROOT, timeout=60)
    if r.returncode != 0:
        raise HarnessError(f"{c.env}: connect.mjs: {(r.stderr or r.stdout)[-400:]}")
    results: list[dict[str, Any]] = json.loads(r.stdout)
    return results


@pytest.mark.parametrize("env", ENV_NAMES)
def test_every_url_logs_in_with_every_printable_character_in_its_password(
    env: str, stacks: dict[str, Stack], outputs: dict[str, Output], real_root: Path
) -> None:
    s = stack(stacks, outputs, real_root, env)
    results = connect(s.cluster, "contract")
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


@pytest.mark.parametrize("env", ENV_NAMES)
def test_the_migration_launcher_hands_its_command_a_url_that_logs_in(
    env: str, stacks: dict[str, Stack], outputs: dict[str, Output], real_root: Path
) -> None:
    s = stack(stacks, outputs, real_root, env)
    pod = migration.job_pod(s.cluster)
    if pod is None:
        return
    code, output = migration.Launcher(pod, migration.standin()).start().finish()
    user = urlsplit(discover.app_env(s.cluster, "DATABASE_URL", "migration")).username
    assert code == 0 and f'{{"row":{{"user":"{user}"}}}}' in output, f"{env}: {output[-400:]}"


@pytest.mark.parametrize("compose", ["setter", "inline"])
@pytest.mark.parametrize("env", ENV_NAMES)
def test_planted_a_password_composed_unencoded_fails(
    env: str, compose: str, stacks: dict[str, Stack], outputs: dict[str, Output], real_root: Path
) -> None:
    """URL's password setter alone leaves '%' as it is, which the parsers then decode;
    the old form breaks the URL itself. Either must fail wherever a password is composed."""
    s = stack(stacks, outputs, real_root, env)
    results = connect(s.cluster, compose)
    if not results:
        return
    passed = [r for r in results if r["ok"]]
    assert not passed, f"{env}: composed {compose!r}, these still logged in: {passed}"
    pod = migration.job_pod(s.cluster)
    if pod is None or "DATABASE_PASSWORD" not in pod.container().env():
        return
    launcher = migration.Launcher(pod, migration.standin())
    if compose == "setter":
        assert CONTRACT_LINE in launcher.argv[2], (
            f"{env}: the launcher no longer composes as the contract says"
        )
        launcher.argv[2] = launcher.argv[2].replace(
            CONTRACT_LINE, CONTRACT_LINE.replace("encodeURIComponent", "")
        )
    else:
        composed = checks(s.cluster, "inline")
        launcher.env["DATABASE_URL"] = next(
            x["url"] for x in composed if x["name"] == "DATABASE_URL (migration)"
        )
        launcher.env.pop("DATABASE_PASSWORD")
    code, output = launcher.start().finish()
    assert code != 0, (
        f"{env}: the launcher composed {compose!r} and its command still logged in: {output[-300:]}"
    )
