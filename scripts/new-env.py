#!/usr/bin/env python3
"""``make new-env NAME=<name> FROM=<existing> [BRANCH=<branch>]``: add an environment in one step.

Writes what an environment is made of, then the Makefile runs ``make update``:

- ``constructs/vibeyard/config/environments/<name>.py``: ``FROM`` the existing one and an
  ``OVERLAY`` to edit; the values that name an environment (namespace, host, TLS secret,
  sealed file, clusters) follow the new name (docs/configuration.md). An environment Argo
  CD deploys tracks a branch of its own (``BRANCH``, default its name): a push releases
  the one environment its branch belongs to;
- its clusters in ``organisation.py`` (the ones the existing environment deploys to), when
  it is deployed by Argo CD; its Application comes from the config;
- ``secrets/<name>.sealed.yaml`` holding placeholders for exactly the keys its topology
  reads, when its secrets are sealed (seal them before the first sync: docs/release.md).

Nothing is written when any check fails; every mistake is one line and exit 2. Removing
an environment is the reverse: docs/configuration.md "Removing an environment".
"""

from __future__ import annotations

import ast
import importlib
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "constructs"))

from vibeyard.config import ConfigError, Topology, load, load_all, names  # noqa: E402
from vibeyard.config.load import ENV_DIR, PACKAGE  # noqa: E402

ORGANISATION = ROOT / "constructs" / "vibeyard" / "config" / "organisation.py"
NAME = re.compile(r"[a-z]([-a-z0-9]{0,18}[a-z0-9])?")

MODULE = '''"""{name}: {source}, under its own name. Put what {name} changes in OVERLAY."""

from __future__ import annotations

from typing import Any

FROM = "{source}"
OVERLAY: dict[str, Any] = {overlay}
'''


class RefusedError(Exception):
    """One line, exit 2: nothing was written."""


def _clusters_entry(text: str, source: str, name: str) -> str:
    """organisation.py with ``"<name>": <source's clusters>`` added to ``clusters={...}``."""
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.keyword) and node.arg == "clusters" and isinstance(node.value, ast.Dict):
            keys = [k.value for k in node.value.keys if isinstance(k, ast.Constant)]
            if name in keys:
                raise RefusedError(f"organisation.py already has clusters for {name!r}; remove it first")
            if source not in keys:
                raise RefusedError(
                    f"organisation.py has no clusters for {source!r} to copy: add {name!r} by hand"
                )
            value = node.value.values[keys.index(source)]
            segment = ast.get_source_segment(text, value)
            lines = text.splitlines(keepends=True)
            end = (node.value.end_lineno or 1) - 1  # the line of the closing brace
            indent = lines[end - 1][: len(lines[end - 1]) - len(lines[end - 1].lstrip())]
            lines.insert(end, f'{indent}"{name}": {segment},\n')
            return "".join(lines)
    raise RefusedError(
        "organisation.py: no clusters={...} dict found; add the environment's clusters by hand"
    )


def _sealed_placeholders(name: str) -> str | None:
    cfg = load_all()[name]  # with every environment: the checks across them run too
    if cfg.secrets.provider != "sealed":
        return None
    keys = Topology.of(cfg).secret_keys
    doc = {
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": {"name": cfg.secrets.name, "namespace": cfg.namespace},
        "spec": {
            "encryptedData": {k: f"AgPLACEHOLDER-reseal-{k}-for-{cfg.namespace}" for k in keys},
            "template": {
                "metadata": {"name": cfg.secrets.name, "namespace": cfg.namespace},
                "type": "Opaque",
            },
        },
    }
    head = (
        "# PLACEHOLDERS, not real ciphertext: seal every key with the cluster's certificate before the\n"
        f"# first sync: scripts/seal-secrets.sh {name} pub-cert.pem (docs/release.md). Strict scope:\n"
        f"# {cfg.namespace}/{cfg.secrets.name} only.\n"
    )
    return head + yaml.safe_dump(doc, sort_keys=False)


def _fresh_config() -> None:
    """Forget the config modules read before this script wrote organisation.py and the new
    environment's file, so that loading it next reads them as they are now."""
    importlib.invalidate_caches()
    for module in [m for m in sys.modules if m.startswith(("vibeyard.config.organisation", PACKAGE))]:
        del sys.modules[module]


def main(argv: list[str]) -> int:
    usage = "usage: make new-env NAME=<name> FROM=<existing environment> [BRANCH=<branch>]"
    if len(argv) not in (2, 3) or not all(argv[:2]):
        raise RefusedError(usage)
    name, source, branch = argv[0], argv[1], (argv[2:] or [""])[0]
    if source not in names():
        raise RefusedError(f"FROM={source!r} is not an environment; choose one of {', '.join(names())}")
    if not NAME.fullmatch(name) or name == "base":
        raise RefusedError(
            f"NAME={name!r}: a DNS label of at most 20 lowercase letters, digits and '-', not 'base'"
        )
    module = ENV_DIR / f"{name}.py"
    if module.exists() or name in names():
        raise RefusedError(f"{name!r} exists already ({module.relative_to(ROOT)})")
    org_text = ORGANISATION.read_text(encoding="utf-8")
    deployed = load(source).gitops is not None
    if branch and not deployed:
        raise RefusedError(
            f"BRANCH={branch!r}: {source} is not deployed by Argo CD, so {name} tracks no branch"
        )
    new_org = _clusters_entry(org_text, source, name) if deployed else org_text
    overlay = f'{{"gitops": {{"target_revision": "{branch or name}"}}}}' if deployed else "{}"
    written: list[Path] = []
    try:
        module.write_text(MODULE.format(name=name, source=source, overlay=overlay), encoding="utf-8")
        written.append(module)
        ORGANISATION.write_text(new_org, encoding="utf-8")
        _fresh_config()
        sealed = _sealed_placeholders(name)
        if sealed is not None:
            path = ROOT / "secrets" / f"{name}.sealed.yaml"
            if path.exists():
                raise RefusedError(f"{path.relative_to(ROOT)} exists already; move it away first")
            path.write_text(sealed, encoding="utf-8")
            written.append(path)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        ORGANISATION.write_text(org_text, encoding="utf-8")
        raise
    print(f"new-env: {name} (from {source}): {', '.join(str(p.relative_to(ROOT)) for p in written)}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except RefusedError as err:
        print(f"new-env: {err}", file=sys.stderr)
        sys.exit(2)
    except ConfigError as err:
        print("\n".join(f"config error: {line}" for line in err.lines), file=sys.stderr)
        sys.exit(2)
