"""The command line: which folders a synth replaces, and that both entry points agree.

In-process runs of ``vibeyard.cli.main`` against a temporary repository cover
environment selection, stale-file removal and failures halfway; three
subprocesses check the real entry points (``python main.py`` and
``cdk8s synth``), which is where jsii start-up and the CLI come in.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import placeholder_warning
from vibeyard.config import ENVIRONMENTS
from vibeyard.synth import cli
from vibeyard.synth import publish as pub
from vibeyard.synth.charts import Unit
from vibeyard.synth.render import Tree as Rendered
from vibeyard.synth.render import render

ROOT = Path(__file__).resolve().parents[1]
Trees = dict[str, dict[str, str]]
Tree = dict[str, bytes | None]


def tree(folder: Path) -> Tree:
    """Every path under ``folder`` with its bytes (None for a folder)."""
    return {
        p.relative_to(folder).as_posix(): None if p.is_dir() else p.read_bytes()
        for p in sorted(folder.rglob("*"))
    }


def expected_tree(trees: Trees, only: Iterable[str] | None = None) -> Tree:
    result: Tree = {}
    for rel, files in trees.items():
        if only is not None and rel not in only:
            continue
        result[rel] = None
        for name, text in files.items():
            result[f"{rel}/{name}"] = text.encode()
    return result


def subtree(snapshot: Tree, rel: str) -> Tree:
    return {k: v for k, v in snapshot.items() if k == rel or k.startswith(f"{rel}/")}


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name not in ("dist", "secrets"))


@pytest.fixture
def repo(tmp_path: Path, synthesized: Trees) -> Path:
    """A repository whose dist/ holds the current output plus things a synth never writes."""
    root = tmp_path / "repo"
    if (ROOT / "secrets").is_dir():
        shutil.copytree(ROOT / "secrets", root / "secrets")
    pub._write(root / "dist", synthesized)
    for rel, text in {
        "dev/00-namespace-dev.yaml": "# hand-edited, must survive a prod-only synth\n",
        "staging/notes.txt": "# a file only a full synth removes\n",
        "prod/99-removed-object.yaml": "# an object deleted from the chart\n",
        "oldenv/00-namespace-oldenv.yaml": "# an environment deleted from the config\n",
    }.items():
        (root / "dist" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "dist" / rel).write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch, synthesized: Trees) -> list[list[str]]:
    """For tests of publishing, not rendering: the CLI gets the session's trees for the charts
    it asks for, so each test skips a jsii synth. Records the charts asked for, in order.
    The subprocess tests below, ``test_release_flow.py`` and ``test_foundation.py`` render for real."""
    asked: list[list[str]] = []

    def render_units(units: Sequence[Unit]) -> list[tuple[str, Rendered]]:
        asked.append([u.label for u in units])
        return [(u.label, synthesized[u.label]) for u in units]

    monkeypatch.setattr(cli, "render_units", render_units)
    return asked


@pytest.mark.parametrize(
    ("argv", "environ"),
    [(["prod"], {}), ([], {"VIBEYARD_ENV": "prod"}), (["prod"], {"VIBEYARD_ENV": "dev"})],
    ids=["argv", "VIBEYARD_ENV", "argv-wins-over-variable"],
)
def test_one_environment_replaces_only_its_folder(
    repo: Path, synthesized: Trees, rendered: list[list[str]], argv: list[str], environ: dict[str, str]
) -> None:
    before = tree(repo / "dist")
    assert cli.main(argv, environ, repo) == 0
    assert rendered == [["prod", "argocd"]]
    after = tree(repo / "dist")
    # prod is exactly the new output (its stale file is gone) ...
    assert subtree(after, "prod") == expected_tree(synthesized, only=["prod"])
    # ... and every other entry, hand edits and unknown folders included, is byte-identical.
    others = {k: v for k, v in before.items() if k != "prod" and not k.startswith("prod/")}
    assert {k: v for k, v in after.items() if k != "prod" and not k.startswith("prod/")} == others
    assert leftovers(repo) == []


def test_a_full_synth_makes_dist_exactly_the_output(
    repo: Path, synthesized: Trees, rendered: list[list[str]]
) -> None:
    assert cli.main([], {}, repo) == 0
    assert rendered == [[*ENVIRONMENTS, "argocd"]]
    assert tree(repo / "dist") == expected_tree(synthesized)  # stale file and oldenv/ are gone
    assert leftovers(repo) == []


def test_naming_every_environment_is_a_full_synth(
    repo: Path, synthesized: Trees, rendered: list[list[str]]
) -> None:
    assert cli.main(sorted(ENVIRONMENTS, reverse=True), {}, repo) == 0
    assert tree(repo / "dist") == expected_tree(synthesized)


def _fail_on_call(n: int, real: Callable[..., Any]) -> Callable[..., Any]:
    calls = 0

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == n:
            raise RuntimeError("synth failed on purpose")
        return real(*args, **kwargs)

    return wrapper


def test_a_synth_failing_between_environments_leaves_dist_byte_identical(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = tree(repo)
    monkeypatch.setattr("vibeyard.synth.charts.render", _fail_on_call(2, render))  # the 2nd environment
    with pytest.raises(RuntimeError, match="on purpose"):  # a bug keeps its traceback
        cli.main([], {}, repo)
    assert tree(repo) == before


@pytest.mark.parametrize("argv", [[], ["prod", "staging"]], ids=["full", "two-envs"])
def test_a_publish_failing_halfway_leaves_dist_byte_identical(
    repo: Path,
    rendered: list[list[str]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
) -> None:
    """Files are written one by one; the disk fills up after some are on disk."""
    before = tree(repo)
    written: list[Path] = []
    real_write = pub.write_file

    def write(path: Path, text: str) -> None:
        written.append(path)
        if len(written) == 6:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real_write(path, text)

    monkeypatch.setattr(pub, "write_file", write)
    capsys.readouterr()
    assert cli.main(argv, {}, repo) == 1
    assert len(written) == 6
    failed = f"dist/{written[-1].parent.name}/{written[-1].name}"  # named as in dist/, not staging
    assert (
        capsys.readouterr().err
        == f"error: {failed}: No space left on device; dist/ and releases/ unchanged\n"
    )
    assert tree(repo) == before  # no half-written dist/, no staging folder left


def test_the_cdk8s_output_folder_gets_a_copy(
    repo: Path, synthesized: Trees, rendered: list[list[str]]
) -> None:
    out = repo / ".cdk8s.out"
    assert cli.main([], {"CDK8S_OUTDIR": str(out)}, repo) == 0
    assert tree(out) == tree(repo / "dist") == expected_tree(synthesized)


# --- the real entry points, as subprocesses ---------------------------------------------------


def copy_repo(dest: Path) -> Path:
    """What ``main.py`` needs, so its publish into <root>/dist never touches ours.

    The generated CRD bindings are linked, not copied: no test changes them, and each
    process would otherwise compile their 5.6 MB of Python again. The sources' bytecode
    comes along with them (copy2 keeps the times it is checked against)."""
    dest.mkdir()
    for name in ("main.py", "cdk8s.yaml"):
        shutil.copy2(ROOT / name, dest / name)
    for name in ("constructs", "secrets"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, dest / name)
    for name in ("imports", "node_modules"):
        (dest / name).symlink_to(ROOT / name)
    return dest


def clean_environ() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIBEYARD_", "CDK8S_"))}
    env["PATH"] = f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{env.get('PATH', '')}"
    env["CDK8S_CHECK_UPGRADE"] = "false"
    return env


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=clean_environ(), capture_output=True, text=True, timeout=120, check=False
    )


PLACEHOLDER_WARNINGS = [placeholder_warning(env) for env in ("staging", "prod")]


def plain_shell_environ(home: Path) -> dict[str, str]:
    """What `npx cdk8s synth` sees from a fresh login shell: no .tools or .venv on PATH, no
    CDK8S_* variables, no upgrade-check cache in HOME (npx puts node_modules/.bin first)."""
    return {"PATH": f"{ROOT / 'node_modules' / '.bin'}:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}


def synth_command() -> list[str]:
    """The interpreter flags and script of ``make synth``'s recipe."""
    recipe = re.search(r"^synth: install\n\t@\.venv/bin/python (.+)$", (ROOT / "Makefile").read_text(), re.M)
    assert recipe, "the Makefile has no `synth` recipe running .venv/bin/python"
    return recipe[1].split()


def test_make_synth_and_cdk8s_synth_run_one_command() -> None:
    app = yaml.safe_load((ROOT / "cdk8s.yaml").read_text())["app"]
    assert app.split() == [".venv/bin/python", *synth_command()]
    assert synth_command() == ["-O", "main.py"]  # no jsii run-time type checks: see the Makefile


def test_python_main_py_and_cdk8s_synth_write_the_same_dist(tmp_path: Path, synthesized: Trees) -> None:
    """``make synth``'s command renders in parallel workers; ``cdk8s synth`` is the CLI as a
    plain shell runs it: cdk8s.yaml's app, the Makefile's shim, and no upgrade-check noise.
    Both run optimized (-O), and must match the session's render, made with the checks on."""
    direct = copy_repo(tmp_path / "direct")
    via_cli = copy_repo(tmp_path / "cli")
    (via_cli / ".venv").symlink_to(ROOT / ".venv")  # cdk8s.yaml's app is .venv/bin/python -O main.py
    (via_cli / "dist" / "oldenv").mkdir(parents=True)
    (tmp_path / "home").mkdir()

    # Side by side: two independent repositories, and pytest leaves the second core idle.
    cdk8s = str(ROOT / "node_modules" / ".bin" / "cdk8s")
    procs = [
        subprocess.Popen(
            [sys.executable, *synth_command(), "--jobs", "2"],
            cwd=direct,
            env=clean_environ(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ),
        subprocess.Popen(
            [cdk8s, "synth"],
            cwd=via_cli,
            env=plain_shell_environ(tmp_path / "home"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ),
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert (proc.returncode, err.splitlines()) == (0, PLACEHOLDER_WARNINGS), err

    assert tree(direct / "dist") == tree(via_cli / "dist") == expected_tree(synthesized)
    assert tree(via_cli / ".cdk8s.out") == expected_tree(synthesized)  # what the CLI lists


def test_an_interpreter_without_the_packages_says_how_to_run_main_py(tmp_path: Path) -> None:
    """``python3 main.py`` with the system Python: one line, not an ImportError trace.
    (``-S`` leaves out site-packages, which is where cdk8s lives.)"""
    repo = copy_repo(tmp_path / "repo")
    (repo / ".venv").symlink_to(ROOT / ".venv")
    done = subprocess.run(
        [sys.executable, "-S", "main.py", "prod"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"main.py: {sys.executable} lacks cdk8s, cdk8s_plus_28, yaml: run .venv/bin/python main.py\n"
    )
    assert not (repo / "dist").exists()


def test_python_main_py_prints_one_line_for_a_config_error(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path / "repo")
    (repo / "dist" / "prod").mkdir(parents=True)
    (repo / "dist" / "prod" / "00-namespace-production.yaml").write_text("previous\n")
    before = tree(repo / "dist")
    done = run([sys.executable, "main.py", "prod", "prdo"], repo)
    assert (done.returncode, done.stderr, done.stdout) == (
        2,
        "config error: prdo: unknown environment 'prdo': choose one of dev, prod, staging\n",
        "",
    )
    assert tree(repo / "dist") == before
