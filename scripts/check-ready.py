#!/usr/bin/env python3
"""``make check-ready ENV=<env>``: every template value still left in what ENV deploys.

    check-ready.py ENV [--dist DIR]

Reads the rendered output, never the config: ``dist/ENV/*.yaml`` and the environment's
Argo CD Applications in ``dist/argocd/`` (named in ``dist/environments.json``). Every string
in them is matched against PLACEHOLDERS: the template's values (``vibeyard.placeholders``:
the ``your-org`` organisation, ``example.com`` hosts, the example database host,
``AgPLACEHOLDER`` ciphertext), other reserved example domains, and, in an environment Argo
CD deploys, a local-only image (no registry, or ``imagePullPolicy: Never``) or a
``.localhost`` host.

One line per finding, ``<file>: <field> = <value>: <what>: <how to fix>``, then exit 1;
exit 0 when nothing is left; exit 2 for a usage mistake (an unknown environment, no dist/).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
# libyaml's safe loader where it is built in: the pure-Python one is several times slower.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
sys.path.insert(0, str(ROOT / "constructs"))

from vibeyard.placeholders import PATTERNS  # noqa: E402

ORGANISATION = "constructs/vibeyard/config/organisation.py"


@dataclass(frozen=True)
class Placeholder:
    """A template value: ``pattern`` finds it in a string, ``fix`` says what to change for it."""

    what: str
    pattern: re.Pattern[str]
    fix: Callable[[str, str], str]  # (env, field path) -> how to fix
    deployed_only: bool = False  # allowed where Argo CD deploys nothing (a local dev cluster)


def org_field(name: str) -> Callable[[str, str], str]:
    return lambda env, field: f"set {name} in {ORGANISATION}, then `make synth`"


def your_org(env: str, field: str) -> str:
    name = "registry" if field.endswith(".image") else "repo_url"
    if field.startswith("signatures."):
        name = f"image_signer_{field.rsplit('.', 1)[-1]}"
    return org_field(name)(env, field)


def reseal(env: str, field: str) -> str:
    key = field.rsplit(".", 1)[-1]
    return (
        f"seal it for the cluster: scripts/seal-secrets.sh {env} pub-cert.pem {key} "
        f"(docs/release.md, 'Seal or rotate secret keys'), then `make synth ENV={env}`"
    )


def host_field(env: str, field: str) -> str:
    if "destination" in field or "server" in field:
        return org_field(f'clusters["{env}"] (the Destination server)')(env, field)
    return org_field("base_domain")(env, field)


# The template's values: vibeyard.placeholders.PATTERNS is the one list (the Argo CD
# Applications refuse to auto-sync on the same list). Here each value is found as the token
# around it, with a fix that names the field it came from where the field tells.
FIXES: dict[str, Callable[[str, str], str]] = {
    "your-org": your_org,
    "example.com": host_field,
    "cluster-abc123": org_field("managed_database_host"),
    "AgPLACEHOLDER": reseal,
}


def template_value(text: str, hint: str) -> Placeholder:
    return Placeholder(
        what=f"template value {text!r}",
        pattern=re.compile(rf"[^\s'\"=]*{re.escape(text)}[^\s'\"]*"),
        fix=FIXES.get(text, lambda env, field: f"replace it: {hint}"),
    )


# A value is reported once, for the first entry it matches: the template's values first, then
# names reserved for examples (RFC 2606/6761) that no real deployment uses, then local hosts
# where the environment is deployed to a real cluster.
PLACEHOLDERS: tuple[Placeholder, ...] = (
    *(template_value(text, hint) for text, hint in PATTERNS),
    Placeholder(
        "a reserved example domain",
        re.compile(r"[\w.-]*\b(?:example\.(?:com|net|org)|[\w-]+\.(?:example|invalid|test))\b"),
        host_field,
    ),
    Placeholder("a local-only host", re.compile(r"[\w.-]+\.localhost\b"), host_field, deployed_only=True),
)
LOCAL_IMAGE_FIX = (
    "a locally built image cannot be pulled by the cluster: release a pushed image "
    "(registry in " + ORGANISATION + ", the environment's image in environments.py), then `make synth`"
)


class UsageError(Exception):
    pass


def strings(node: object, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string scalar with its dotted field path (list items by their name where they have one)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from strings(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            label = (
                item.get("name") if isinstance(item, dict) and isinstance(item.get("name"), str) else index
            )
            yield from strings(item, f"{path}[{label}]")
    elif isinstance(node, str):
        yield path, node


def containers(node: object, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        if isinstance(node.get("image"), str) and "name" in node:
            yield path, node
        for key, value in node.items():
            yield from containers(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            label = (
                item.get("name") if isinstance(item, dict) and isinstance(item.get("name"), str) else index
            )
            yield from containers(item, f"{path}[{label}]")


def local_only(image: str) -> bool:
    """No registry host: the first path part has no dot or port and is not localhost."""
    first, slash, _ = image.partition("/")
    return not slash or not ("." in first or ":" in first or first == "localhost")


def findings(env: str, doc: dict[str, Any], deployed: bool) -> Iterator[tuple[str, str, str]]:
    """(field = value, what, fix) for one object."""
    for field, value in strings(doc):
        for placeholder in PLACEHOLDERS:
            if placeholder.deployed_only and not deployed:
                continue
            found = placeholder.pattern.search(value)
            if found:
                yield f"{field} = {found[0]}", placeholder.what, placeholder.fix(env, field)
                break
    if deployed:
        for path, container in containers(doc):
            image = str(container["image"])
            if local_only(image) or container.get("imagePullPolicy") == "Never":
                policy = container.get("imagePullPolicy", "-")
                yield (
                    f"{path}.image = {image} (imagePullPolicy {policy})",
                    "a local-only image",
                    LOCAL_IMAGE_FIX,
                )


def sources(env: str, dist: Path, spec: dict[str, Any]) -> list[Path]:
    folder = dist / env
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise UsageError(f"{folder} holds no manifests: run `make synth ENV={env}`")
    apps = set((spec.get("gitops") or {}).get("applications") or [])
    for path in sorted((dist / "argocd").glob("*.yaml")) if apps else []:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=LOADER)
        if isinstance(doc, dict) and doc.get("kind") == "Application" and doc["metadata"]["name"] in apps:
            files.append(path)
    return files


def check(env: str, dist: Path) -> list[str]:
    manifest = dist / "environments.json"
    try:
        environments = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise UsageError(f"{manifest}: cannot read the environments ({err}); run `make synth`") from err
    if env not in environments:
        raise UsageError(f"unknown environment '{env}': valid names are {', '.join(sorted(environments))}")
    spec = environments[env]
    deployed = bool(spec.get("gitops"))
    # What deploy.yml reads from the environment entry itself: the signer a release must match.
    shown = manifest.relative_to(dist.parent) if dist.parent in manifest.parents else manifest
    lines = [
        f"{shown}: {env}.{where}: {what}: {fix}"
        for where, what, fix in findings(env, {"signatures": spec.get("signatures")}, deployed)
    ]
    for path in sources(env, dist, spec):
        shown = path.relative_to(dist.parent) if dist.parent in path.parents else path
        for doc in yaml.load_all(path.read_text(encoding="utf-8"), Loader=LOADER):
            if isinstance(doc, dict):
                lines += [
                    f"{shown}: {where}: {what}: {fix}" for where, what, fix in findings(env, doc, deployed)
                ]
    return lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("env", nargs="?", default="")
    parser.add_argument(
        "--dist", type=Path, default=ROOT / "dist", help="the rendered output (default: dist/)"
    )
    args = parser.parse_args(argv)
    try:
        if not args.env:
            raise UsageError("name the environment: make check-ready ENV=<env>")
        lines = check(args.env, args.dist.resolve())
    except (UsageError, yaml.YAMLError) as err:
        print(f"check-ready: {err}".replace("\n", " "), file=sys.stderr)
        return 2
    for line in lines:
        print(line)
    if lines:
        print(f"check-ready: {args.env} still has {len(lines)} template value(s); fix them before deploying")
        return 1
    print(f"check-ready: {args.env} has no template values left")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
