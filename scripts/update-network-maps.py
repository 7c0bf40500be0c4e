#!/usr/bin/env python3
"""Regenerate who-may-talk-to-whom for every environment in dist/, from the rendered output.

For each environment in dist/ (dist/environments.json, or every folder of manifests but
argocd/; a new environment needs nothing else):

- ``docs/network/<env>.txt``: one allowed connection per line, as network-config-analyzer
  computes it from the rendered NetworkPolicies and workloads plus the committed cluster
  context (tests/network/connectivity.py). Reviewers diff this.
- ``docs/network/<env>.dot`` and ``.svg``: the same list drawn for people, grouped by
  namespace, with a legend (tests/network/diagram.py places the nodes; graphviz's
  ``neato -n2`` routes the edges and writes the SVG).
- docs/security.md's generated table of environments, linking both.

It reads dist/ as it is, so run it after ``make synth`` (``make update`` does both). Either
every file is written or none is: all output is computed first, and any failure is one line
on stderr. Files of environments no longer in dist/ are removed.

    .venv/bin/python scripts/update-network-maps.py [--root DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "constructs"), str(ROOT)]

from tests.network import connectivity, diagram  # noqa: E402
from tests.validators import nca  # noqa: E402
from tests.validators.manifests import load_yaml  # noqa: E402

PROG = "update-network-maps.py"
OUTPUTS = ("txt", "dot", "svg")
# graphviz's comments name its version and repeat every element's title: noise in a diff.
_SVG_COMMENT = re.compile(r"<!--.*?-->\n?", re.S)


class UpdateError(Exception):
    """An expected failure: its message is the one line the user sees."""


def environments(dist: Path) -> list[str]:
    try:
        envs = connectivity.environments(dist) if dist.is_dir() else []
    except ValueError as err:  # json.JSONDecodeError
        raise UpdateError(f"{dist / 'environments.json'}: not JSON ({err}); run `make synth`") from err
    if not envs:
        raise UpdateError(f"{dist}: no environments; run `make synth` first")
    missing = [env for env in envs if not (dist / env).is_dir()]
    if missing:
        raise UpdateError(f"{dist}: no folder for {', '.join(missing)}; run `make synth`")
    return envs


def render_svg(neato: str, source: str, env: str) -> str:
    proc = subprocess.run([neato, "-n2", "-Tsvg"], input=source, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        said = proc.stderr.strip().splitlines()[-1:] or ["no message"]
        raise UpdateError(f"docs/network/{env}.dot: graphviz failed: {said[0]}")
    return _SVG_COMMENT.sub("", proc.stdout)


def generate(root: Path, neato: str) -> dict[Path, str]:
    """Every file this script writes, with its content; nothing is written yet."""
    dist, docs = root / "dist", root / "docs" / "network"
    envs = environments(dist)
    trees = {
        env: {p.name: p.read_text(encoding="utf-8") for p in sorted((dist / env).glob("*.yaml"))}
        for env in envs
    }
    for env, tree in trees.items():
        if not any(load_yaml(text).get("kind") == "Namespace" for text in tree.values()):
            raise UpdateError(f"dist/{env}/: no Namespace object; run `make synth`")
    security = root / "docs" / "security.md"
    try:
        readme = security.read_text(encoding="utf-8")
        nca.with_readme_blocks(readme, {})  # its markers, before the slow part
    except (OSError, ValueError) as err:
        raise UpdateError(f"{security.relative_to(root)}: {err}") from err
    with tempfile.TemporaryDirectory() as tmp:
        try:
            lists = nca.connectivity_lists(trees, Path(tmp))
        except (RuntimeError, ValueError) as err:
            raise UpdateError(f"network-config-analyzer: {str(err).splitlines()[0]}") from err
    files: dict[Path, str] = {}
    for env in envs:
        objects = [load_yaml(t) for t in trees[env].values()]
        roles = diagram.roles(objects, nca.context(objects))
        source = diagram.render(env, connectivity.parse_list(lists[env]), roles)
        files[docs / f"{env}.txt"] = lists[env]
        files[docs / f"{env}.dot"] = source
        files[docs / f"{env}.svg"] = render_svg(neato, source, env)
    files[security] = nca.with_readme_blocks(readme, lists)
    return files


def stale(root: Path, files: dict[Path, str]) -> list[Path]:
    """Lists and pictures of environments that are no longer in dist/."""
    docs = root / "docs" / "network"
    return sorted(p for ext in OUTPUTS for p in docs.glob(f"*.{ext}") if p not in files)


def commit(root: Path, files: dict[Path, str], remove: list[Path]) -> None:
    """Write every file beside its target first, then move them all into place."""
    staged: list[tuple[Path, Path]] = []
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.new")
            tmp.write_text(text, encoding="utf-8")
            staged.append((tmp, path))
    except OSError as err:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise UpdateError(f"cannot write {err.filename}: {err.strerror}") from err
    for tmp, path in staged:
        changed = not path.exists() or path.read_text(encoding="utf-8") != files[path]
        os.replace(tmp, path)
        print(f"{path.relative_to(root)}: {'updated' if changed else 'unchanged'}")
    for path in remove:
        path.unlink()
        print(f"{path.relative_to(root)}: removed (no such environment in dist/)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository (default: this one)")
    root = parser.parse_args(argv).root.resolve()
    neato = shutil.which("neato")
    try:
        if neato is None:
            raise UpdateError(
                "graphviz's `neato` is not on PATH; run `make test-deps` (it installs graphviz)"
            )
        if not nca.NCA.exists():
            raise UpdateError(f"{nca.NCA} is missing; run `make install`")
        files = generate(root, neato)
        commit(root, files, stale(root, files))
    except UpdateError as err:
        print(f"{PROG}: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
