"""The real entry points, as a user runs them: ``python main.py``, ``make synth``'s command,
``cdk8s synth``, with real jsii in copies of the repository.

jsii costs about two seconds a run, so few runs start it: two full synths side by side,
``cdk8s synth`` (which runs ``make synth``'s command) and ``python main.py``, each varying
several things a machine can differ in (which also proves the output deterministic across
hash seeds, time zones, locales, working directories and an unwritable HOME), SIGTERM to the
process group mid-render, and two damaged ``imports/``. The rest end before jsii starts.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.test_synth import PLACEHOLDER
from vibeyard.config import names

ROOT = Path(__file__).resolve().parents[1]
NODE_BIN = ROOT / "node_modules" / ".bin"
Trees = dict[str, dict[str, str]]


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def copy_repo(dest: Path, *, dist: bool = True, venv: bool = False, node: bool = True) -> Path:
    """What ``main.py`` needs, so its publish into <copy>/dist never touches ours: the sources
    and secrets hard-linked (main.py finds the repository from where its files are, and
    nothing writes into them: Python replaces a stale bytecode file, never rewrites it), the
    release records copied (``dist`` True: a synth replaces them), ``imports/`` and
    ``node_modules/`` symlinked (no test changes them; the bytecode comes along)."""
    dest.mkdir()
    for name in ("main.py", "cdk8s.yaml"):
        _link_or_copy(str(ROOT / name), str(dest / name))
    for name in ("constructs", "secrets"):
        shutil.copytree(ROOT / name, dest / name, copy_function=_link_or_copy)
    if dist:
        shutil.copytree(ROOT / "dist" / "releases", dest / "dist" / "releases")
    links = ["imports", *(["node_modules"] if node else []), *([".venv"] if venv else [])]
    for name in links:
        (dest / name).symlink_to(ROOT / name)
    return dest


def environ(**changes: str | None) -> dict[str, str]:
    """This process's environment without the synth's own variables, with ``changes``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIBEYARD_", "CDK8S_"))}
    env["CDK8S_CHECK_UPGRADE"] = "false"
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def as_trees(dist: Path) -> Trees:
    """``dist/`` in the shape of the ``committed_output`` fixture ("." for its loose files)."""
    trees = {
        d.name: {f.name: f.read_text() for f in sorted(d.iterdir())} for d in dist.iterdir() if d.is_dir()
    }
    trees["."] = {f.name: f.read_text() for f in dist.iterdir() if not f.is_dir()}
    return trees


def leftovers(repo: Path) -> list[str]:
    return sorted(p.name for p in repo.iterdir() if p.name.startswith(".synth-"))


def makefile_synth() -> list[str]:
    """The interpreter flags and script of ``make synth``'s recipe."""
    recipe = re.search(r"^synth: install\n\t@\.venv/bin/python (.+)$", (ROOT / "Makefile").read_text(), re.M)
    assert recipe, "the Makefile has no `synth` recipe running .venv/bin/python"
    return recipe[1].split()


def test_make_synth_and_cdk8s_synth_run_one_command() -> None:
    app = yaml.safe_load((ROOT / "cdk8s.yaml").read_text())["app"]
    assert app.split() == [".venv/bin/python", *makefile_synth()]
    assert makefile_synth() == ["-O", "main.py"]  # no jsii type checks: docs/synth.md "Speed"


def test_the_entry_points_write_the_same_dist_whatever_the_machine_says(
    tmp_path: Path, committed_output: Trees
) -> None:
    """Side by side, each in its own copy, what a machine can differ in spread over the two:
    ``cdk8s synth`` from a plain login shell (the Makefile's shim, cdk8s.yaml's app, no
    upgrade-check noise), which runs ``make synth``'s command (``python -O main.py``: the
    test above), with an unwritable HOME (no jsii package cache), hash seed 0, UTC and the C
    locale, over a dist/ holding an environment that no longer exists; ``python main.py``
    with the checks on, from another folder, with another hash seed, time zone and locale
    (Turkish: ICU's case rules). Both must equal the session's render, made in this process. Each
    leaves its TMPDIR empty: ``os._exit`` skips jsii's own removal of its unpacked runtime."""
    (tmp_path / "not-a-folder").write_text("HOME cannot be under a file, not even for root\n")
    (tmp_path / "elsewhere").mkdir()
    cdk8s = copy_repo(tmp_path / "cdk8s", venv=True)
    (cdk8s / "dist" / "oldenv").mkdir()
    plain = copy_repo(tmp_path / "plain")
    tmpdirs = {repo: tmp_path / f"tmp-{repo.name}" for repo in (cdk8s, plain)}
    for folder in tmpdirs.values():
        folder.mkdir()
    shell = {
        "PATH": f"{NODE_BIN}:/usr/bin:/bin",
        "HOME": str(tmp_path / "not-a-folder" / "home"),
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "PYTHONHASHSEED": "0",
        "TMPDIR": str(tmpdirs[cdk8s]),
    }
    runs = {
        cdk8s: ([str(NODE_BIN / "cdk8s"), "synth"], cdk8s, shell),
        plain: ([sys.executable, "../plain/main.py"], tmp_path / "elsewhere", environ(
            PYTHONHASHSEED="4242", TZ="Pacific/Chatham", LC_ALL=None, LANG="tr_TR.UTF-8",
            TMPDIR=str(tmpdirs[plain]),
        )),
    }  # fmt: skip
    procs = {
        repo: subprocess.Popen(
            args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for repo, (args, cwd, env) in runs.items()
    }
    for repo, proc in procs.items():
        _, err = proc.communicate(timeout=180)
        lines = [line for line in err.splitlines() if not PLACEHOLDER.fullmatch(line)]
        assert (proc.returncode, lines) == (0, []), f"{repo.name}: {err}"
        assert as_trees(repo / "dist") == committed_output, (
            f"{repo.name}: dist/ differs from the session's render"
        )
        assert leftovers(repo) == []
        assert os.listdir(tmpdirs[repo]) == [], f"{repo.name}: the synth left files in its TMPDIR"
    listed = {d.name: {f.name: f.read_text() for f in d.iterdir()} for d in (cdk8s / ".cdk8s.out").iterdir()}
    assert listed == {k: v for k, v in committed_output.items() if k != "."}  # what the CLI lists


def test_an_interpreter_without_the_packages_says_how_to_run_main_py(tmp_path: Path) -> None:
    """The system ``python3`` (or, without one that lacks cdk8s, ours without site-packages)."""
    repo = copy_repo(tmp_path / "repo", dist=False, venv=True)
    system = shutil.which("python3", path="/usr/bin:/bin")
    bare = (
        system is not None
        and subprocess.run([system, "-c", "import cdk8s"], capture_output=True, check=False).returncode
    )
    python = [system] if bare and system else [sys.executable, "-S"]
    done = subprocess.run(
        [*python, "main.py"], cwd=repo, capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert re.fullmatch(
        r"main\.py: \S+ lacks (Python 3\.11 \(this is 3\.\d+\)|.*cdk8s.*): run \.venv/bin/python main\.py\n",
        done.stderr,
    ), done.stderr
    assert not (repo / "dist").exists()


def test_a_config_error_from_python_main_py_is_one_line_and_exit_2(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path / "repo")
    env = names()[0]
    done = subprocess.run(
        [sys.executable, "main.py", env],
        cwd=repo,
        env=environ(VIBEYARD_IMAGE_TAG="latest"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert re.fullmatch(rf"config error: {env}: image\.tag='latest' is invalid: [^\n]+\n", done.stderr), (
        done.stderr
    )
    assert sorted(os.listdir(repo / "dist")) == ["releases"]


@pytest.mark.parametrize("where", ["/dev/full", None], ids=["full-device", "terminal"])
def test_help(tmp_path: Path, where: str | None) -> None:
    repo = copy_repo(tmp_path / "repo", dist=False)
    buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # as on a runner
    with open(where or os.devnull, "w") as out:
        done = subprocess.run(
            [sys.executable, "main.py", "--help"],
            cwd=repo,
            env=buffered,
            stdout=out if where else subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    if where:
        assert (done.returncode, done.stderr) == (
            1,
            "error: standard output: No space left on device; dist/ unchanged\n",
        )
    else:
        assert (done.returncode, done.stderr) == (0, "")
        assert done.stdout.startswith("usage: python main.py") and ", ".join(names()) in done.stdout
    assert not (repo / "dist").exists()


MACHINE_ERRORS = {
    "no-node": "Node.js is not on PATH; run `make install` (it puts Node 22 in node_modules)",
    "no-tmpdir": "{tmp}: No such file or directory; jsii needs a writable TMPDIR: set it to one",
}


@pytest.mark.parametrize("case", MACHINE_ERRORS)
def test_a_machine_error_through_the_entry_point_is_one_line(tmp_path: Path, case: str) -> None:
    """No Node: no node_modules/ (so main.py puts nothing on PATH) and none on PATH. A TMPDIR
    that does not exist: the entry point makes its scratch folder where Node would write, so it
    reports that folder rather than quietly using another."""
    repo = copy_repo(tmp_path / "repo", node=case != "no-node")
    (tmp_path / "bin").mkdir()
    tmp = tmp_path / "missing" / "tmp"
    env = environ(PATH=str(tmp_path / "bin")) if case == "no-node" else environ(TMPDIR=str(tmp))
    cmd = [sys.executable, "main.py"]
    done = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == f"error: {MACHINE_ERRORS[case].format(tmp=tmp)}\n"
    assert sorted(os.listdir(repo / "dist")) == ["releases"] and leftovers(repo) == []


# --- signals -------------------------------------------------------------------------------------


def _group(pgid: int) -> dict[int, str]:
    """The live processes of process group ``pgid``: pid -> command name."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, rest = stat.read_text().rsplit(")", 1)
        except OSError:
            continue
        fields = rest.split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            found[int(stat.parent.name)] = name.split("(", 1)[1]
    return found


def _wait_for(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_sigterm_to_the_process_group_during_a_real_synth_is_one_line_and_143(tmp_path: Path) -> None:
    """What CI cancellation and systemd do: SIGTERM to every process of the group, jsii's
    Node included, while it renders, and again. One line, no traceback, nothing changed or left."""
    repo = copy_repo(tmp_path / "repo")
    proc = subprocess.Popen(
        [sys.executable, "main.py"],
        cwd=repo,
        env=environ(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    _wait_for(lambda: "node" in _group(proc.pid).values() or proc.poll() is not None, "jsii's Node to start")
    os.killpg(proc.pid, signal.SIGTERM)
    time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):  # and again, as an impatient runner does
        os.killpg(proc.pid, signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert (proc.returncode, err, out) == (143, "interrupted; dist/ unchanged\n", "")
    assert sorted(os.listdir(repo / "dist")) == ["releases"] and leftovers(repo) == []
    _wait_for(lambda: not _group(proc.pid), "the group's other processes to end", 10)


_NODE_STARTED = """
import os, runpy, signal, subprocess, sys
real = subprocess.Popen
class Popen(real):  # jsii starting its Node: the signal lands before jsii holds the process
    def __init__(self, args, *more, **kwargs):
        super().__init__(args, *more, **kwargs)
        if os.path.basename(str(args[0])) == "node":
            os.killpg(0, signal.SIGTERM)
subprocess.Popen = Popen
sys.argv = ["main.py"]
runpy.run_path("main.py", run_name="__main__")
"""


def test_sigterm_while_jsii_starts_node_is_one_line_and_143(tmp_path: Path) -> None:
    """The half-started jsii runtime's finalizer failed after the line ("Exception ignored
    in: _NodeProcess.__del__", a traceback): found by the test above, once in a full run."""
    repo = copy_repo(tmp_path / "repo")
    done = subprocess.run(
        [sys.executable, "-c", _NODE_STARTED],
        cwd=repo,
        env=environ(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        start_new_session=True,
    )
    assert (done.returncode, done.stderr, done.stdout) == (143, "interrupted; dist/ unchanged\n", "")
    assert sorted(os.listdir(repo / "dist")) == ["releases"] and leftovers(repo) == []


_TWICE = """
import os, signal, sys
sys.path[:0] = [sys.argv[1]]
from vibeyard.synth import signals
signals.install()
try:
    os.kill(os.getpid(), signal.SIGTERM)
except KeyboardInterrupt:
    os.kill(os.getpid(), signal.SIGTERM)  # while the first is being reported: CI, systemd
    os.kill(os.getpid(), signal.SIGINT)  # and a Ctrl-C on top
    print("reported once", signals.exit_code())
"""


def test_only_the_first_signal_interrupts() -> None:
    """A second SIGTERM or a Ctrl-C while the first is being reported would raise inside the
    report and print a traceback after the one line."""
    done = subprocess.run(
        [sys.executable, "-c", _TWICE, str(ROOT / "constructs")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "reported once 143\n", "")


_CLEAN_UP = """
import os, shutil, signal, sys
sys.path.insert(0, sys.argv[1])
from vibeyard.synth import cli, signals
signals.install()
cli.main = lambda argv, environ, root: print("the outcome", file=sys.stderr) or 0
real = shutil.rmtree
def rmtree(path, ignore_errors=False):  # while the scratch folder goes: Node's output, a Ctrl-C
    print("Node's last words", file=sys.stderr, flush=True)
    os.kill(os.getpid(), signal.SIGINT)
    real(path, ignore_errors=ignore_errors)
shutil.rmtree = rmtree
cli.run()
"""


def test_after_the_outcome_is_reported_nothing_else_is_printed_and_the_scratch_folder_goes(
    tmp_path: Path,
) -> None:
    """Once ``main`` has reported, ``run`` deletes its scratch TMPDIR and exits with main's
    code. jsii's Node, hit by the same Ctrl-C, may still be printing, and the Ctrl-C itself
    arrives: neither adds a line or changes the exit code, and the folder is gone."""
    done = subprocess.run(
        [sys.executable, "-c", _CLEAN_UP, str(ROOT / "constructs")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=environ(TMPDIR=str(tmp_path)),
    )
    assert (done.returncode, done.stderr) == (0, "the outcome\n")
    assert os.listdir(tmp_path) == []


_EARLY = """
import os, runpy, signal, sys
target = sys.argv[1]
class CtrlC:  # the user's Ctrl-C, the moment ``target`` is first imported
    def find_spec(self, name, path=None, module=None):
        if name == target:
            os.kill(os.getpid(), signal.SIGINT)
sys.meta_path.insert(0, CtrlC())
sys.argv = ["main.py"]
runpy.run_path("main.py", run_name="__main__")
"""


@pytest.mark.parametrize(
    "module",
    ["vibeyard.synth.signals", "vibeyard.synth.cli", "cdk8s"],
    ids=["before-the-handlers", "importing-the-pipeline", "starting-jsii"],
)
def test_ctrl_c_while_main_py_starts_is_one_line_and_130(tmp_path: Path, module: str) -> None:
    repo = copy_repo(tmp_path / "repo")
    done = subprocess.run(
        [sys.executable, "-c", _EARLY, module],
        cwd=repo,
        env=environ(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr, done.stdout) == (130, "interrupted; dist/ unchanged\n", "")
    assert sorted(os.listdir(repo / "dist")) == ["releases"] and leftovers(repo) == []


# --- imports/ ----------------------------------------------------------------------------------


def _imports_along(repo: Path, path: Path) -> None:
    """``repo/imports`` as symlinks to ours, except real folders along ``path`` (relative to
    ``imports/``), so that its last part can be damaged or left out without touching ours."""
    (repo / "imports").unlink()
    src, dst = ROOT / "imports", repo / "imports"
    for part in path.parts:
        dst.mkdir()
        for entry in src.iterdir():
            if entry.name != part:
                (dst / entry.name).symlink_to(entry)
        src, dst = src / part, dst / part


def test_a_damaged_imports_module_is_one_line_naming_it(tmp_path: Path) -> None:
    """A generated module with a syntax error, and a whole generated family missing: each
    is one line naming the module and ``make imports``, exit 1."""
    modules = sorted(p for p in (ROOT / "imports").rglob("*.py") if "_jsii" not in p.parts)
    broken, missing = modules[0].relative_to(ROOT), modules[-1].relative_to(ROOT).parts[:2]
    assert broken.parts[:2] != missing, "two different families of imports/"
    repos = {case: copy_repo(tmp_path / case) for case in ("syntax", "missing")}
    _imports_along(repos["syntax"], broken.relative_to("imports"))
    (repos["syntax"] / broken).write_text("def broken(:\n" + (ROOT / broken).read_text())  # no 0.5 MB parse
    _imports_along(repos["missing"], Path(*missing[1:]))
    procs = {
        case: subprocess.Popen(
            [sys.executable, "main.py"],
            cwd=repo,
            env=environ(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for case, repo in repos.items()
    }
    results = {case: (*proc.communicate(timeout=120), proc.returncode) for case, proc in procs.items()}
    assert results["syntax"] == (
        "",
        f"error: {broken.as_posix()}: SyntaxError: invalid syntax; run `make imports`\n",
        1,
    )
    out, err, code = results["missing"]
    assert (code, out) == (1, "") and err.count("\n") == 1, err
    family = re.escape("/".join(missing))
    why = r"ModuleNotFoundError: No module named '[\w.]+'"
    assert re.fullmatch(rf"error: {family}\S*: {why}; run `make imports`\n", err), err
    for repo in repos.values():
        assert sorted(os.listdir(repo / "dist")) == ["releases"] and leftovers(repo) == []
