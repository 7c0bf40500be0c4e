"""Python slips in the config files, end to end: one line naming the file and line, exit 2.

The environments, the base and the organisation are Python files edited by hand,
so their commonest slips (a syntax error, a misspelt name, an import of nothing, a
missing dict key, a positional argument) and a misshapen environment module
(``OVERLAY`` not a dict, ``FROM`` naming no environment or making a loop) must
each end as ``config error: <file>:<line>: <message>`` with exit 2 and nothing
written, never as a traceback. Each case plants its slip in a copy of the
repository (lines appended to a config file) and runs ``main.py --check`` there,
which loads every environment and never starts jsii; the copies run side by side.

The environments are read from ``dist/environments.json``, not from the loader.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from vibeyard.config import load_all
from vibeyard.config.organisation import ORG

ROOT = Path(__file__).resolve().parents[1]
CONFIG = "constructs/vibeyard/config"
ENVIRONMENTS: dict[str, Any] = json.loads((ROOT / "dist" / "environments.json").read_text(encoding="utf-8"))
ENVS = sorted(ENVIRONMENTS)
FIRST, SECOND = ENVS[0], ENVS[1]
CD_VARIABLES = ("VIBEYARD_ENV", "VIBEYARD_IMAGE_TAG", "VIBEYARD_IMAGE_DIGEST", "CDK8S_OUTDIR")


def env_file(env: str) -> str:
    return f"environments/{env}.py"


@dataclass(frozen=True)
class Slip:
    id: str
    plants: Mapping[str, str]  # config file (under constructs/vibeyard/config/) -> lines appended to it
    file: str | None  # the file the line must name; None: a line about a value, not a file
    at: str  # the planted line the error points at (``file``), or the whole expected line
    message: str  # after "<file>:<line>: "


SLIPS = [
    Slip(
        "syntax-error",
        {env_file(FIRST): "X = 1 +\n"},
        env_file(FIRST),
        "X = 1 +",
        "SyntaxError: invalid syntax",
    ),
    Slip(
        "misspelt-name",
        {env_file(FIRST): 'OVERLAY["vpa_enabled"] = Flase\n'},
        env_file(FIRST),
        'OVERLAY["vpa_enabled"] = Flase',
        "NameError: name 'Flase' is not defined",
    ),
    Slip(
        "import-of-a-missing-module",
        {env_file(FIRST): "from .nothere import POOL\n"},
        env_file(FIRST),
        "from .nothere import POOL",
        "ModuleNotFoundError: No module named 'vibeyard.config.environments.nothere'",
    ),
    Slip(
        "import-of-a-missing-name",
        {env_file(FIRST): "from .base import DEFAULT_POOLS\n"},
        env_file(FIRST),
        "from .base import DEFAULT_POOLS",
        "ImportError: cannot import name 'DEFAULT_POOLS' from 'vibeyard.config.environments.base' "
        f"({CONFIG}/environments/base.py)",
    ),
    Slip(
        "missing-dict-key",
        {env_file(FIRST): 'from ..organisation import ORG\nCLUSTERS = ORG.clusters["nope"]\n'},
        env_file(FIRST),
        'CLUSTERS = ORG.clusters["nope"]',
        "KeyError: 'nope'",
    ),
    Slip(
        "positional-argument",
        {
            env_file(
                FIRST
            ): 'from ..platform import Destination\nEU = Destination("eu", "https://eu.example.com")\n'
        },
        env_file(FIRST),
        'EU = Destination("eu", "https://eu.example.com")',
        "TypeError: Destination.__init__() takes 1 positional argument but 3 were given",
    ),
    Slip(
        "overlay-not-a-dict",
        {env_file(FIRST): "OVERLAY = [OVERLAY]\n"},
        env_file(FIRST),
        "OVERLAY = [OVERLAY]",
        f"OVERLAY must be a dict of what {FIRST} changes (a list)",
    ),
    Slip(
        "from-no-environment",
        {env_file(SECOND): 'FROM = "nope"\n'},
        env_file(SECOND),
        'FROM = "nope"',
        f"FROM='nope' is not an environment; choose one of {', '.join(ENVS)}",
    ),
    Slip(
        "from-loop",
        {env_file(FIRST): f'FROM = "{SECOND}"\n', env_file(SECOND): f'FROM = "{FIRST}"\n'},
        env_file(FIRST),
        f'FROM = "{SECOND}"',
        f"FROM makes a loop: {FIRST} -> {SECOND} -> {FIRST}",
    ),
    Slip(
        "from-itself",
        {env_file(SECOND): f'FROM = "{SECOND}"\n'},
        env_file(SECOND),
        f'FROM = "{SECOND}"',
        f"FROM makes a loop: {SECOND} -> {SECOND}",
    ),
    Slip(
        "an-error-of-several-lines",
        {env_file(FIRST): 'raise ValueError("first\\nsecond")\n'},
        env_file(FIRST),
        'raise ValueError("first\\nsecond")',
        "ValueError: first second",
    ),
    Slip(
        "slip-in-the-base",
        {"environments/base.py": 'BASE["vpa_enabled"] = Ture\n'},
        "environments/base.py",
        'BASE["vpa_enabled"] = Ture',
        "NameError: name 'Ture' is not defined",
    ),
    Slip(
        "slip-in-the-organisation",
        {"organisation.py": "REGISTRY = registry\n"},
        "organisation.py",
        "REGISTRY = registry",
        "NameError: name 'registry' is not defined",
    ),
    Slip(
        "two-environments-one-namespace",
        {
            env_file(FIRST): 'OVERLAY["namespace"] = "shared"\n',
            env_file(SECOND): 'OVERLAY["namespace"] = "shared"\n',
        },
        None,
        f"{SECOND}: namespace='shared' is invalid: a namespace of its own; {FIRST} uses it already",
        "",
    ),
]

# A new environment per committed one, each starting from it (``FROM``), on a branch of its
# own where the parent is deployed by Argo CD, and each added to the organisation's clusters
# as a user would (as make new-env does).
NEW = {f"new{env}": env for env in ENVS}


def _overlay(new: str, parent: str) -> str:
    return f'{{"gitops": {{"target_revision": "{new}"}}}}' if ENVIRONMENTS[parent]["gitops"] else "{}"


NAMED_PLANTS = {
    **{
        env_file(new): f'FROM = "{parent}"\nOVERLAY: dict = {_overlay(new, parent)}\n'
        for new, parent in NEW.items()
    },
    "organisation.py": "from .platform import IN_CLUSTER\n"
    f"ORG.clusters.update(dict.fromkeys({list(NEW)}, (IN_CLUSTER,)))\n",
}
NAMED_SCRIPT = """
import json, sys
sys.path.insert(0, "constructs")
from vibeyard.config import load_all
print(json.dumps({
    name: {
        "namespace": c.namespace,
        "host": c.edge.host,
        "tls_secret": c.edge.tls_secret,
        "sealed_file": c.secrets.sealed_file,
        "destinations": [d.name for d in c.gitops.destinations] if c.gitops else None,
        "web": [c.web.replicas, c.web.resources.cpu_request],
        "workers": [p.name for p in c.workers],
    }
    for name, c in load_all().items()
}))
"""


@dataclass
class Run:
    root: Path
    before: dict[str, bytes]
    process: subprocess.Popen[str]
    stdout: str = ""
    stderr: str = ""


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file of a copy but the links into the worktree and Python's caches."""
    out = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != "__pycache__" and not (Path(folder) / d).is_symlink()]
        for name in files:
            path = Path(folder) / name
            if not path.is_symlink():
                out[str(path.relative_to(root))] = path.read_bytes()
    return out


def copy_of_the_repository(root: Path) -> Path:
    """What ``main.py --check`` reads, copied once: the cases link their files to it."""
    for part in ("constructs", "dist", "secrets"):
        shutil.copytree(ROOT / part, root / part, symlinks=True)
    shutil.copy2(ROOT / "main.py", root / "main.py")
    return root


def start(template: Path, root: Path, plants: Mapping[str, str], argv: list[str]) -> Run:
    """A copy of ``template`` at ``root`` with ``plants`` appended, running ``argv``.

    Its files are hard links to the template's (a copy each costs seconds on this disk), but a
    planted file is a file of its own; a run that wrote anything still shows in its snapshot,
    and the worktree is never linked.
    """
    shutil.copytree(template, root, copy_function=os.link)
    for link in (".venv", "node_modules"):
        (root / link).symlink_to(ROOT / link)
    for file, text in plants.items():
        path = root / CONFIG / file
        before = path.read_text(encoding="utf-8") if path.exists() else ""
        path.unlink(missing_ok=True)
        path.write_text(before + text, encoding="utf-8")
    environ = {k: v for k, v in os.environ.items() if k not in CD_VARIABLES}
    environ["PYTHONDONTWRITEBYTECODE"] = "1"
    before_run = snapshot(root)
    process = subprocess.Popen(
        [sys.executable, *argv],
        cwd=root,
        env=environ,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    return Run(root, before_run, process)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Run]]:
    """Every case's run, started together and awaited together."""
    base = tmp_path_factory.mktemp("slips")
    template = copy_of_the_repository(base / "template")
    started = {
        slip.id: start(template, base / slip.id, slip.plants, ["main.py", "--check"]) for slip in SLIPS
    }
    started["named"] = start(template, base / "named", NAMED_PLANTS, ["-c", NAMED_SCRIPT])
    try:
        for run in started.values():
            run.stdout, run.stderr = run.process.communicate(timeout=60)
        yield started
    finally:
        for run in started.values():
            run.process.kill()
            run.process.wait()


def line_of(root: Path, file: str, text: str) -> int:
    """The line of ``file`` (in the copy) that is the planted ``text``."""
    lines = (root / CONFIG / file).read_text(encoding="utf-8").splitlines()
    assert lines.count(text) == 1, f"{file} must hold the planted line once: {text}"
    return lines.index(text) + 1


@pytest.mark.parametrize("slip", SLIPS, ids=lambda s: s.id)
def test_a_slip_is_one_line_naming_the_file_and_line(slip: Slip, runs: dict[str, Run]) -> None:
    run = runs[slip.id]
    if slip.file is None:
        expected = f"config error: {slip.at}"
    else:
        where = f"{CONFIG}/{slip.file}:{line_of(run.root, slip.file, slip.at)}"
        expected = f"config error: {where}: {slip.message}"
    assert (run.process.returncode, run.stderr, run.stdout) == (2, expected + "\n", "")
    assert snapshot(run.root) == run.before, "a failed check must write nothing"


def test_a_new_environment_from_another_gets_names_of_its_own(runs: dict[str, Run]) -> None:
    """``NAMED`` values follow the environment's own name, never its ``FROM``'s; the
    rest is inherited, and the environment it starts from is unchanged."""
    run = runs["named"]
    assert (run.process.returncode, run.stderr) == (0, "")
    loaded = json.loads(run.stdout)
    committed = load_all()
    for new, parent in NEW.items():
        assert loaded[new] == {
            "namespace": new,
            "host": f"{new}.{ORG.base_domain}",
            "tls_secret": f"vibeyard-{new}-tls",
            "sealed_file": f"secrets/{new}.sealed.yaml",
            "destinations": None if ENVIRONMENTS[parent]["gitops"] is None else ["in-cluster"],
            "web": loaded[parent]["web"],
            "workers": loaded[parent]["workers"],
        }
        assert loaded[parent]["namespace"] == ENVIRONMENTS[parent]["namespace"]
        assert loaded[parent]["host"] == committed[parent].edge.host
