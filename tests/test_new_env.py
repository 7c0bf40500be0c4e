"""``make new-env``'s script end to end, in a copy of the repository's config.

It must write a loadable environment (its own namespace, branch, clusters and
placeholder Secret) from any existing one, and on any refusal write nothing. Every
committed environment gets its new ones in the same copy, loaded together once.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.support import ROOT
from vibeyard.config import all_configs, names

SCRIPT = Path("scripts") / "new-env.py"
ORGANISATION = Path("constructs/vibeyard/config/organisation.py")
DEPLOYED = [n for n, c in all_configs().items() if c.gitops is not None]
HAND_APPLIED = [n for n, c in all_configs().items() if c.gitops is None]


def copy(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for name in ("constructs", "secrets", "scripts"):
        shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def new_env(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(root / SCRIPT), *args], capture_output=True, text=True, cwd=root, check=False
    )


def loaded(root: Path) -> dict[str, dict[str, object]]:
    """Every environment of the copy, loaded together (all cross-environment checks run)."""
    code = (
        "import json, sys; sys.path.insert(0, 'constructs');"
        "from vibeyard.config import load_all;"
        "print(json.dumps({n: {'namespace': c.namespace, 'host': c.edge.host,"
        " 'branch': c.gitops.target_revision if c.gitops else None,"
        " 'clusters': [d.name for d in c.gitops.destinations] if c.gitops else None}"
        " for n, c in load_all().items()}))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True)
    found: dict[str, dict[str, object]] = json.loads(proc.stdout)
    return found


def tree(root: Path) -> dict[str, bytes]:
    """The copy's files, but Python's byte-code caches (written or not, as the interpreter likes)."""
    files = (p for p in sorted(root.rglob("*")) if p.is_file() and "__pycache__" not in p.parts)
    return {str(p.relative_to(root)): p.read_bytes() for p in files}


def made_from(source: str) -> tuple[str, str]:
    """The two environments ``source`` gets: one named like its branch, one on a branch given."""
    index = names().index(source)
    return f"qa-{index}", f"qa-{index}-b"


@dataclass(frozen=True)
class Made:
    root: Path
    runs: dict[str, subprocess.CompletedProcess[str]]  # new environment -> its make new-env
    envs: dict[str, dict[str, object]]  # every environment of the copy afterwards


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Made:
    """One copy in which every committed environment gets its new ones, then loaded once:
    each test reads its source's share, and every check across environments runs on all."""
    root = copy(tmp_path_factory.mktemp("made"))
    runs = {}
    for source in names():
        first, second = made_from(source)
        runs[first] = new_env(root, first, source)
        if source in DEPLOYED:
            runs[second] = new_env(root, second, source, f"release-{second}")
    return Made(root, runs, loaded(root))


@pytest.mark.parametrize("source", DEPLOYED)
def test_an_environment_from_a_deployed_one_gets_its_own_branch_clusters_and_secret(
    source: str, made: Made
) -> None:
    first, second = made_from(source)
    for name in (first, second):
        assert made.runs[name].returncode == 0, made.runs[name].stderr
    new, old = made.envs[first], made.envs[source]
    assert new["branch"] == first and new["namespace"] == first and new["host"] != old["host"]
    assert new["clusters"] == old["clusters"], "it deploys where its source does"
    sealed = yaml.safe_load((made.root / "secrets" / f"{first}.sealed.yaml").read_text("utf-8"))
    assert sealed["metadata"] == {"name": "vibeyard-secrets", "namespace": first}
    assert all(v.startswith("AgPLACEHOLDER-") for v in sealed["spec"]["encryptedData"].values())
    assert made.envs[second]["branch"] == f"release-{second}"


@pytest.mark.parametrize("source", HAND_APPLIED)
def test_an_environment_from_a_hand_applied_one_tracks_no_branch(source: str, made: Made) -> None:
    first, second = made_from(source)
    assert made.runs[first].returncode == 0, made.runs[first].stderr
    assert made.envs[first]["branch"] is None
    before = tree(made.root)
    proc = new_env(made.root, second, source, "some-branch")
    assert proc.returncode == 2 and "is not deployed by Argo CD" in proc.stderr
    assert tree(made.root) == before


def test_a_refused_environment_writes_nothing(made: Made) -> None:
    root = made.root
    before = tree(root)
    taken = all_configs()[DEPLOYED[0]].gitops
    assert taken is not None
    cases = [
        ((), "usage: make new-env NAME=<name> FROM=<existing environment>"),
        (("x", "no-such-env"), "FROM='no-such-env' is not an environment"),
        (("Bad_Name", names()[0]), "a DNS label"),
        ((names()[0], names()[0]), "exists already"),
        # Loads, then fails a check across environments: the written files go again.
        (("twin", DEPLOYED[0], taken.target_revision), "a branch of its own"),
    ]
    for args, said in cases:
        proc = new_env(root, *args)
        assert proc.returncode == 2 and said in proc.stderr, (args, proc.stderr)
        assert len(proc.stderr.splitlines()) == 1, proc.stderr
        assert tree(root) == before, f"{args}: wrote something"
