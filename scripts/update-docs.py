#!/usr/bin/env python3
"""The documentation blocks that are generated from the config, so none names an
environment or a field by hand: ``make update`` runs this, a test checks it is current.

- README.md "What gets deployed": one row per environment;
- docs/configuration.md "Every field": each config block's fields, default, rule and doc;
- .github/CODEOWNERS: the reviewers organisation.py names for what guards production.
- .github/workflows/deploy.yml's push branches: the branches Argo CD tracks.

Each block sits between ``<!-- generated:<name> -->`` and ``<!-- /generated:<name> -->``.
"""

from __future__ import annotations

import dataclasses
import re
import sys
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "constructs"))

from vibeyard.config import EnvConfig, Topology, all_configs  # noqa: E402
from vibeyard.config.fields import describe  # noqa: E402
from vibeyard.config.organisation import ORG  # noqa: E402

README = ROOT / "README.md"
CONFIGURATION = ROOT / "docs" / "configuration.md"
CODEOWNERS = ROOT / ".github" / "CODEOWNERS"
DEPLOY = ROOT / ".github" / "workflows" / "deploy.yml"
# What a change to deserves the platform owners' review: what Argo CD may deploy, where, with which secrets.
GUARDED = ("/dist/argocd/", "/constructs/vibeyard/config/organisation.py", "/secrets/", "/.github/workflows/")


def _pools(cfg: EnvConfig, topo: Topology) -> str:
    parts = []
    for plan in topo.pools:
        bounds = (
            f"{plan.pool.min_replicas}-{plan.max_replicas}" if plan.autoscaled else str(plan.pool.replicas)
        )
        parts.append(f"`{plan.pool.name}` {plan.scaler.upper() if plan.autoscaled else 'fixed'} {bounds}")
    return ", ".join(parts)


def environments_table() -> str:
    rows = [
        "| environment (namespace) | web | worker pools | PostgreSQL | PgBouncer | Redis (queue, cache) "
        "| Secret | monitoring | Argo CD |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, cfg in all_configs().items():
        topo = Topology.of(cfg)
        a = cfg.web.autoscaling
        web = f"HPA {a.min_replicas}-{a.max_replicas}" if a.enabled else f"{cfg.web.replicas} replica(s)"
        pg = "in-cluster" if topo.postgres else "managed" + (", read replica" if topo.read_replica else "")
        redis = "in-cluster" if topo.redis else "managed"
        git = cfg.gitops
        argo = "applied by hand" if git is None else ("auto-sync" if git.auto_sync else "manual sync")
        if git is not None:
            argo += f" from `{git.target_revision}` to " + ", ".join(d.name for d in git.destinations)
        rows.append(
            f"| {name} (`{cfg.namespace}`) | {web} | {_pools(cfg, topo)} | {pg} "
            f"| {'yes' if topo.pgbouncer else '-'} | {redis} | {cfg.secrets.provider} "
            f"| {'yes' if topo.monitoring else '-'} | {argo} |"
        )
    return "\n".join(rows)


def _classes(cls: type, seen: set[type]) -> Iterator[type]:
    """Every config class reachable from ``cls``, depth first, each once."""
    if cls in seen:
        return
    seen.add(cls)
    yield cls
    for hint in typing.get_type_hints(cls).values():
        for arg in (
            hint,
            *typing.get_args(hint),
            *(a for x in typing.get_args(hint) for a in typing.get_args(x)),
        ):
            if isinstance(arg, type) and dataclasses.is_dataclass(arg):
                yield from _classes(arg, seen)


def _default(f: dataclasses.Field[Any]) -> str:
    if f.default is not dataclasses.MISSING:
        return f"`{f.default!r}`"
    if f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
        return "its defaults" if dataclasses.is_dataclass(value) else f"`{value!r}`"
    return "required"


def fields_reference() -> str:
    out = []
    for cls in _classes(EnvConfig, set()):
        hints = typing.get_type_hints(cls)
        out += [f"**{cls.__name__}**", "", "| field | type | default | what it is |", "|---|---|---|---|"]
        for f in dataclasses.fields(cls):
            doc = str(f.metadata.get("doc", "")).replace("|", "\\|")
            kind = describe(hints[f.name]).replace("|", "\\|")
            out.append(f"| `{f.name}` | {kind} | {_default(f)} | {doc} |")
        out.append("")
    return "\n".join(out).rstrip()


def codeowners() -> str:
    owners = " ".join(ORG.code_owners)
    head = "# Generated from organisation.py (code_owners) by `make update`: edit it there.\n"
    return head + "".join(f"{path} {owners}\n" for path in GUARDED)


def replace_block(text: str, name: str, body: str, path: Path) -> str:
    pattern = re.compile(rf"(<!-- generated:{name} -->\n)(?:.*?\n)?(<!-- /generated:{name} -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"update-docs.py: {path.relative_to(ROOT)} has no <!-- generated:{name} --> block")
    return pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)


# The deploy workflow runs on a push to a branch Argo CD tracks: its list follows the config.
BRANCHES = re.compile(
    r"^(    branches: )\[[^\]\n]*\]  # generated by make update: the branches Argo CD tracks$", re.M
)


def deploy_branches(text: str) -> str:
    branches = sorted({c.gitops.target_revision for c in all_configs().values() if c.gitops is not None})
    if not BRANCHES.search(text):
        raise SystemExit(f"update-docs.py: {DEPLOY.relative_to(ROOT)} has no generated `branches:` line")
    line = f"[{', '.join(branches)}]  # generated by make update: the branches Argo CD tracks"
    return BRANCHES.sub(lambda m: m.group(1) + line, text)


def documents() -> dict[Path, str]:
    """Every generated file's new content."""
    readme = replace_block(README.read_text("utf-8"), "environments", environments_table(), README)
    config = replace_block(CONFIGURATION.read_text("utf-8"), "fields", fields_reference(), CONFIGURATION)
    deploy = deploy_branches(DEPLOY.read_text("utf-8"))
    return {README: readme, CONFIGURATION: config, CODEOWNERS: codeowners(), DEPLOY: deploy}


def main() -> int:
    for path, text in documents().items():
        changed = not path.exists() or path.read_text("utf-8") != text
        if changed:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        print(f"{path.relative_to(ROOT)}: {'updated' if changed else 'unchanged'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
