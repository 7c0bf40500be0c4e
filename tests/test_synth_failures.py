"""Every way a synth can fail, as one table: exit code, exact stderr, dist/ and releases/.

Each row runs ``cli.main`` in-process against a temporary repository whose
``dist/`` and ``releases/`` hold a previous synth. Rendering is replaced by a
stub that writes one small file per chart (with the image reference in it, so
a new release changes ``dist/``): these rows are about the pipeline around
jsii, and the real charts are covered by test_cli.py. After the run, ``dist/``
and ``releases/`` must equal, byte for byte, either what was there before
(``OLD``) or what the same command produces on an untouched copy (``NEW``), and
no staging folder may be left. Filesystem errors are injected at the system
call the pipeline makes, with the errno the kernel would give.
"""

from __future__ import annotations

import builtins
import errno
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from tests.support import KUBESEAL_HINT, placeholder_warning
from vibeyard.config import ENVIRONMENTS
from vibeyard.synth import charts, cli, publish
from vibeyard.synth.charts import Unit
from vibeyard.synth.render import Tree

ROOT = Path(__file__).resolve().parents[1]
OLD, NEW = "old", "new"
GOOD_DIGEST = "sha256:" + "a" * 64
HINT = KUBESEAL_HINT
HELP = "; see python main.py --help"
EXAMPLE = '{"tag": "3f2c1ab"}'
SEALED = "prod: secrets.sealed_file='secrets/prod.sealed.yaml' is invalid"
UNCHANGED = "; dist/ and releases/ unchanged"
Snapshot = dict[str, bytes | None]


# The committed sealed files are placeholders, so a successful synth warns once per sealed environment.
WARN = {env: placeholder_warning(env) for env in ("staging", "prod")}


def stub_render_units(units: Sequence[Unit]) -> list[tuple[str, Tree]]:
    """One file per chart, carrying what a release changes (the image) and what the chart is."""
    result = []
    for unit in units:
        if unit.env is not None:
            body = f"env: {unit.env.name}\nimage: {unit.env.image.ref}\n"
            result.append((unit.env.name, {f"09-deployment-{unit.env.name}.yaml": body}))
        else:
            names = ",".join(c.name for c in unit.targets)
            result.append(("argocd", {"13-application.yaml": f"targets: {names}\n"}))
    return result


def snapshot(root: Path) -> Snapshot:
    """dist/ and releases/: every path with its bytes (None for a folder)."""
    result: Snapshot = {}
    for top in ("dist", "releases"):
        base = root / top
        if base.is_symlink() or base.is_file():
            result[top] = base.read_bytes() if base.is_file() else None
            continue
        for p in sorted(base.rglob("*")):
            rel = p.relative_to(root).as_posix()
            if p.is_symlink():
                result[rel] = b"-> " + os.fsencode(os.readlink(p))
            else:
                result[rel] = None if p.is_dir() else p.read_bytes()
    return result


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith((".synth-", ".dist-staging-")))


def make_repo(path: Path) -> Path:
    """secrets/ as committed, releases/ pinned to 1.0.0, and dist/ from a synth of that."""
    shutil.copytree(ROOT / "secrets", path / "secrets")
    (path / "releases").mkdir()
    for env in ("staging", "prod"):
        (path / "releases" / f"{env}.json").write_text('{\n  "tag": "1.0.0"\n}\n', encoding="utf-8")
    return path


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "render_units", stub_render_units)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A repository after one plain synth, made once and copied for each test."""
    path = make_repo(tmp_path_factory.mktemp("pristine") / "repo")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cli, "render_units", stub_render_units)
        assert cli.main([], {}, path) == 0
    yield path


@pytest.fixture
def repo(pristine: Path, tmp_path: Path) -> Path:
    return copy_repo(pristine, tmp_path / "repo")


def copy_repo(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, symlinks=True)
    return dest


# --- faults -------------------------------------------------------------------------------------

Fault = Callable[[pytest.MonkeyPatch], None]


def _fail_open(when: Callable[[str], bool], err: int) -> Fault:
    """``open`` for writing fails like the kernel: ENOSPC on write (no file name), others on open."""

    def install(mp: pytest.MonkeyPatch) -> None:
        real_open = builtins.open

        class Full:
            def __init__(self, fh: Any) -> None:
                self.fh = fh

            def __enter__(self) -> Full:
                return self

            def __exit__(self, *exc: object) -> None:
                self.fh.close()

            def write(self, text: str) -> int:
                raise OSError(err, os.strerror(err))

        def fake_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            if "w" in mode and when(os.fspath(file)):
                if err == errno.ENOSPC:
                    return Full(real_open(file, mode, *args, **kwargs))
                raise OSError(err, os.strerror(err), os.fspath(file))
            return real_open(file, mode, *args, **kwargs)

        mp.setattr(builtins, "open", fake_open)

    return install


def _fail_call(module: Any, name: str, when: Callable[[str], bool], err: int) -> Fault:
    """``module.name(..., path)`` fails with ``err`` for the paths ``when`` picks (the last argument)."""

    def install(mp: pytest.MonkeyPatch) -> None:
        real = getattr(module, name)

        def fake(*args: Any, **kwargs: Any) -> Any:
            path = os.fspath(args[1] if len(args) > 1 and name in ("link", "copy2") else args[0])
            if when(path):
                raise OSError(err, os.strerror(err), path)
            return real(*args, **kwargs)

        mp.setattr(module, name, fake)

    return install


def _faults(*faults: Fault) -> Fault:
    def install(mp: pytest.MonkeyPatch) -> None:
        for fault in faults:
            fault(mp)

    return install


def _must_not_render(units: Sequence[Unit]) -> list[tuple[str, Tree]]:
    raise AssertionError("this mistake must be reported before anything is rendered (before jsii)")


def _interrupt_in(module: Any, name: str) -> Fault:
    """Ctrl-C arriving while ``module.name`` runs (as the signal handler would raise it)."""

    def install(mp: pytest.MonkeyPatch) -> None:
        def fake(*args: Any, **kwargs: Any) -> Any:
            raise KeyboardInterrupt

        mp.setattr(module, name, fake)

    return install


def _break_dev(mp: pytest.MonkeyPatch) -> None:
    dev = ENVIRONMENTS["dev"]
    mp.setitem(ENVIRONMENTS, "dev", replace(dev, web=replace(dev.web, replicas=-1)))


def _ends(suffix: str) -> Callable[[str], bool]:
    return lambda path: path.endswith(suffix)


# --- the table ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    code: int
    stderr: Sequence[str]  # every line, in order
    outcome: str = OLD  # OLD: dist/ and releases/ as before; NEW: as a clean run of the same command
    argv: tuple[str, ...] = ()
    environ: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, bytes | str | None] = field(default_factory=dict)  # None: make a folder there
    fault: Fault | None = None
    renders: bool = False  # False: rendering fails the test, so the error comes before jsii


def rel_line(why: str, env: str = "prod") -> str:
    return f"config error: {env}: releases/{env}.json is invalid: {why}"


CASES = [
    # --- damaged releases/<env>.json: named, never a traceback, never silently skipped ---------
    Case(
        "release-binary",
        2,
        [rel_line("not UTF-8 text (byte 0x89 at offset 0)")],
        files={"releases/prod.json": b"\x89PNG\r\n\x1a\n\x00\x00"},
    ),
    Case(
        "release-latin1",
        2,
        [rel_line("not UTF-8 text (byte 0xe9 at offset 12)")],
        files={"releases/prod.json": '{"tag": "caf\xe9"}'.encode("latin-1")},
    ),
    Case("release-is-a-folder", 2, [rel_line("a folder, not a file")], files={"releases/prod.json": None}),
    Case(
        "releases-is-a-file",
        2,
        [rel_line("releases is a file, not a folder", "dev")],
        files={"releases": b'{"tag": "1.0.0"}\n'},
    ),
    Case(
        "release-dangling-link",
        2,
        [rel_line("a symbolic link to a missing file")],
        files={"releases/prod.json": "->missing.json"},
    ),
    Case(
        "release-empty",
        2,
        [rel_line(f"not JSON (Expecting value at line 1 column 1); write {EXAMPLE}")],
        files={"releases/prod.json": b""},
    ),
    Case(
        "release-array",
        2,
        [rel_line(f"an array, not an object like {EXAMPLE}")],
        files={"releases/prod.json": b'["1.0.0"]\n'},
    ),
    Case(
        "release-string",
        2,
        [rel_line(f"a string, not an object like {EXAMPLE}")],
        files={"releases/prod.json": b'"1.0.0"\n'},
    ),
    Case(
        "release-tag-number",
        2,
        [rel_line(f"'tag' is a number; it must be a string, as in {EXAMPLE}")],
        files={"releases/prod.json": b'{"tag": 7}\n'},
    ),
    Case(
        "release-no-tag",
        2,
        [rel_line(f"'tag' is missing; it must be a string, as in {EXAMPLE}")],
        files={"releases/prod.json": b'{"digest": "' + GOOD_DIGEST.encode() + b'"}\n'},
    ),
    Case(
        "release-unknown-key",
        2,
        [rel_line("unknown key 'image': only 'tag' and an optional 'digest'")],
        files={"releases/prod.json": b'{"tag": "1.0.0", "image": "x"}\n'},
    ),
    Case(
        "release-bad-digest-value",
        2,
        [
            "config error: prod: releases/prod.json: digest='sha256:abc' is invalid: "
            "'sha256:' followed by 64 lowercase hex digits"
        ],
        files={"releases/prod.json": b'{"tag": "1.0.0", "digest": "sha256:abc"}\n'},
    ),
    Case(
        "release-tag-latest",
        2,
        [
            "config error: prod: releases/prod.json: tag='latest' is invalid: "
            "an image tag of [A-Za-z0-9_.-], at most 128 characters, and never 'latest'"
        ],
        files={"releases/prod.json": b'{"tag": "latest"}\n'},
    ),
    # --- damaged secrets/<env>.sealed.yaml ------------------------------------------------------
    Case(
        "sealed-binary",
        2,
        [f"config error: {SEALED}: not UTF-8 text (byte 0xff at offset 0)"],
        files={"secrets/prod.sealed.yaml": b"\xff\xfe\x00\x01"},
    ),
    Case(
        "sealed-is-a-folder",
        2,
        [f"config error: {SEALED}: a folder, not a file"],
        files={"secrets/prod.sealed.yaml": None},
    ),
    Case(
        "sealed-json-array",
        2,
        [f"config error: {SEALED}: expected a mapping with 'encryptedData' (or a SealedSecret manifest)"],
        files={"secrets/prod.sealed.yaml": b'["database-url"]\n'},
    ),
    Case(
        "sealed-control-bytes",
        2,
        [f"config error: {SEALED}: not valid YAML"],
        files={"secrets/prod.sealed.yaml": b"encryptedData:\n  a: \x00\x07\n"},
    ),
    # --- another environment's config breaks a one-environment synth: one line, once -----------
    Case(
        "other-env-broken",
        2,
        ["config error: dev: web.replicas=-1 is invalid: an integer >= 1"],
        argv=("prod",),
        fault=_break_dev,
    ),
    # --- the command line ----------------------------------------------------------------------
    Case("unknown-flag", 2, [f"usage error: unknown option '--frobnicate'{HELP}"], argv=("--frobnicate",)),
    Case("unknown-short-flag", 2, [f"usage error: unknown option '-x'{HELP}"], argv=("prod", "-x")),
    Case(
        "empty-env-name",
        2,
        [f"usage error: an empty environment name: choose one of dev, prod, staging{HELP}"],
        argv=("",),
    ),
    Case(
        "jobs-zero",
        2,
        [f"usage error: --jobs needs a whole number of processes >= 1, not '0'{HELP}"],
        argv=("--jobs", "0"),
    ),
    Case("jobs-missing", 2, [f"usage error: --jobs needs a number{HELP}"], argv=("prod", "--jobs")),
    Case(
        "env-after-double-dash",
        2,
        ["config error: --help: unknown environment '--help': choose one of dev, prod, staging"],
        argv=("--", "--help"),
    ),
    # --- a digest without a tag is recorded with the released tag ------------------------------
    Case(
        "digest-only-is-recorded",
        0,
        [WARN["prod"]],
        NEW,
        argv=("prod",),
        environ={"VIBEYARD_IMAGE_DIGEST": GOOD_DIGEST},
        renders=True,
    ),
    # --- filesystem errors: one line naming the path, nothing changed, nothing left ------------
    Case(
        "disk-full-writing-dist",
        1,
        [f"error: dist/prod/09-deployment-prod.yaml: No space left on device{UNCHANGED}"],
        argv=("prod",),
        environ={"VIBEYARD_IMAGE_TAG": "7.7.7"},
        fault=_fail_open(_ends("prod/09-deployment-prod.yaml"), errno.ENOSPC),
        renders=True,
    ),
    Case(
        "disk-full-writing-release",
        1,
        [f"error: releases/prod.json: No space left on device{UNCHANGED}"],
        argv=("prod",),
        environ={"VIBEYARD_IMAGE_TAG": "7.7.7"},
        fault=_fail_open(_ends("releases/prod.json"), errno.ENOSPC),
        renders=True,
    ),
    Case(
        "disk-full-writing-commit",
        1,
        [f"error: .synth-txn/commit.json.tmp: No space left on device{UNCHANGED}"],
        argv=("prod",),
        environ={"VIBEYARD_IMAGE_TAG": "7.7.7"},
        fault=_fail_open(_ends("commit.json.tmp"), errno.ENOSPC),
        renders=True,
    ),
    Case(
        "permission-denied-dist-file",
        1,
        [f"error: dist/argocd/13-application.yaml: Permission denied{UNCHANGED}"],
        fault=_fail_open(_ends("argocd/13-application.yaml"), errno.EACCES),
        renders=True,
    ),
    Case(
        "permission-denied-repository",
        1,
        [f"error: .synth-txn: Permission denied{UNCHANGED}"],
        fault=_fail_call(os, "mkdir", _ends(".synth-txn"), errno.EACCES),
        renders=True,
    ),
    Case(
        "io-error-carrying-over",
        1,
        [f"error: dist/dev/09-deployment-dev.yaml: Input/output error{UNCHANGED}"],
        argv=("prod",),
        fault=_faults(
            _fail_call(os, "link", _ends(".yaml"), errno.EXDEV),
            _fail_call(shutil, "copy2", _ends("dev.yaml"), errno.EIO),
        ),
        renders=True,
    ),
    # --- Ctrl-C: one line, 130, nothing changed (or, past the commit point, everything) --------
    Case(
        "ctrl-c-while-rendering",
        130,
        ["interrupted; dist/ unchanged"],
        fault=_interrupt_in(cli, "render_units"),
        renders=True,
    ),
    Case(
        "ctrl-c-while-staging",
        130,
        ["interrupted; dist/ unchanged"],
        argv=("prod",),
        environ={"VIBEYARD_IMAGE_TAG": "7.7.7"},
        fault=_interrupt_in(publish, "_write"),
        renders=True,
    ),
    Case(
        "ctrl-c-after-publishing",
        130,
        ["interrupted; dist/ already published"],
        NEW,
        argv=("prod",),
        environ={"VIBEYARD_IMAGE_TAG": "7.7.7", "CDK8S_OUTDIR": "cdk8s-out"},
        fault=_interrupt_in(cli, "mirror"),
        renders=True,
    ),
]


def _place(root: Path, files: Mapping[str, bytes | str | None]) -> None:
    for rel, content in files.items():
        path = root / rel
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is None:
            path.mkdir()
        elif isinstance(content, str) and content.startswith("->"):
            path.symlink_to(content[2:])
        else:
            path.write_bytes(content if isinstance(content, bytes) else content.encode())


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_every_failure_is_one_line_and_dist_and_releases_stay_consistent(
    case: Case, repo: Path, stubbed: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _place(repo, case.files)
    expected = snapshot(repo)
    if case.outcome == NEW:
        reference = copy_repo(repo, repo.with_name("reference"))
        monkeypatch.chdir(reference)
        assert cli.main(list(case.argv), dict(case.environ), reference) == 0
        expected = snapshot(reference)
        assert expected != snapshot(repo), "a NEW row must change something"
        capsys.readouterr()
    if not case.renders:
        monkeypatch.setattr(cli, "render_units", _must_not_render)
        monkeypatch.setitem(sys.modules, "cdk8s", None)
    monkeypatch.chdir(repo)
    if case.fault is not None:
        case.fault(monkeypatch)

    code = cli.main(list(case.argv), dict(case.environ), repo)

    monkeypatch.undo()
    captured = capsys.readouterr()
    assert (code, captured.err.splitlines(), captured.out) == (case.code, list(case.stderr), "")
    assert snapshot(repo) == expected
    assert leftovers(repo) == []


def test_help_prints_usage_and_exits_0(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for flag in ("--help", "-h"):
        assert cli.main(["prod", flag], {}, tmp_path) == 0
        out, err = capsys.readouterr()
        assert out.startswith("usage: python main.py [--check] [--jobs N] [ENV ...]\n") and err == ""
        assert "dev, prod, staging" in out
    assert list(tmp_path.iterdir()) == []  # nothing read, nothing written


def test_a_digest_without_a_tag_survives_the_next_plain_synth(
    repo: Path, stubbed: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """The probe: the override was rendered but not recorded, so the next synth dropped it."""
    assert cli.main(["prod"], {"VIBEYARD_IMAGE_DIGEST": GOOD_DIGEST}, repo) == 0
    assert json.loads((repo / "releases/prod.json").read_text()) == {"tag": "1.0.0", "digest": GOOD_DIGEST}
    released = snapshot(repo)
    assert f"@{GOOD_DIGEST}" in (repo / "dist/prod/09-deployment-prod.yaml").read_text()
    assert cli.main([], {}, repo) == 0
    assert snapshot(repo) == released
    capsys.readouterr()


def test_a_failed_publish_leaves_dist_of_other_environments_untouched_inode_for_inode(
    repo: Path, stubbed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not only the bytes: a failed synth does not even replace the files it would keep."""
    inode = (repo / "dist/dev/09-deployment-dev.yaml").stat().st_ino
    _fail_open(_ends("releases/prod.json"), errno.ENOSPC)(monkeypatch)
    assert cli.main(["prod"], {"VIBEYARD_IMAGE_TAG": "7.7.7"}, repo) == 1
    assert (repo / "dist/dev/09-deployment-dev.yaml").stat().st_ino == inode


def test_the_stub_is_what_the_pipeline_publishes(pristine: Path) -> None:
    """Guards the table itself: the pristine dist/ is the stub's output, so OLD/NEW mean something."""
    configs = [ENVIRONMENTS[n] for n in ENVIRONMENTS]
    units = charts.units_for(configs, {}, configs)
    expected = {rel: files for rel, files in stub_render_units(units)}
    dist = pristine / "dist"
    assert sorted(p.name for p in dist.iterdir()) == sorted(expected)
    assert "image: ghcr.io/your-org/vibeyard:1.0.0" in (dist / "prod/09-deployment-prod.yaml").read_text()


def test_a_swap_failing_after_the_commit_point_is_finished_by_the_next_synth(
    repo: Path, stubbed: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """dist/ is swapped, then releases/ cannot be: the record stays, and the next synth uses it."""
    reference = copy_repo(repo, repo.with_name("reference"))
    assert cli.main(["prod"], {"VIBEYARD_IMAGE_TAG": "7.7.7"}, reference) == 0
    real = publish._rename_exchange

    def exchange(a: Path, b: Path) -> bool:
        if b.name == "releases":
            raise OSError(errno.EIO, os.strerror(errno.EIO), str(b))
        return real(a, b)

    monkeypatch.setattr(publish, "_rename_exchange", exchange)
    capsys.readouterr()
    assert cli.main(["prod"], {"VIBEYARD_IMAGE_TAG": "7.7.7"}, repo) == 1
    assert capsys.readouterr().err == (
        "error: releases: Input/output error; the synth is committed: run it again to finish\n"
    )
    assert (repo / ".synth-txn" / "commit.json").is_file()
    monkeypatch.setattr(publish, "_rename_exchange", real)
    assert cli.main(["prod"], {}, repo) == 0  # a plain synth: it finishes the release first
    assert capsys.readouterr().err.splitlines() == [
        "finished a synth that was interrupted after its commit point",
        WARN["prod"],
    ]
    assert snapshot(repo) == snapshot(reference) and leftovers(repo) == []


@pytest.mark.parametrize("record", ["{not json", '{"swaps": [{"target": "dist"}]}', "[]"])
def test_a_damaged_commit_record_is_one_line_and_touches_nothing(
    repo: Path, stubbed: None, capsys: pytest.CaptureFixture[str], record: str
) -> None:
    (repo / ".synth-txn").mkdir()
    (repo / ".synth-txn" / "commit.json").write_text(record)
    before = snapshot(repo)
    assert cli.main([], {}, repo) == 1
    assert capsys.readouterr().err == (
        "error: .synth-txn/commit.json is damaged; move the folder away and synth again\n"
    )
    assert snapshot(repo) == before and (repo / ".synth-txn" / "commit.json").read_text() == record
