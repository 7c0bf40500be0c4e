"""The synth pipeline around jsii: what a synth publishes, and every way it can fail.

``cli.main`` runs in-process against a temporary repository (``secrets/`` as
committed, a release record for every environment, and ``dist/`` from a
previous synth). The rendering is a stub: the session's real trees where the
test is about which folders a synth replaces, or one small file per chart that
carries the image (so a release changes ``dist/``) where it is about failures.
The real renderer and entry points are in ``test_cli.py``; crashes and
interrupts at every write are in ``test_synth_crash.py``.

Every probe of the table ends in one line naming the file, the cause and the
fix, with its exit code; ``dist/`` is then as before (or as a clean run of the
same command), nothing is left over, and once the cause is gone the next synth
works.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from vibeyard.config import EnvConfig, names
from vibeyard.synth import cli, publish

ROOT = Path(__file__).resolve().parents[1]
ENVS = names()
# GitHub's runners run the suite as a user with passwordless sudo: chown and chattr need root.
_SUDO = [] if os.geteuid() == 0 else ["sudo", "-n"]
RELEASED, OTHER = ENVS[-1], ENVS[0]  # a release of one environment; another one
RECORD = f"dist/releases/{RELEASED}.json"
OLD_TAG, NEW_TAG = "1.0.0", "7.7.7"
EXAMPLE = '{"tag": "3f2c1ab"}'
# A synth of the committed secrets/ warns about their placeholder ciphertext; tested below.
PLACEHOLDER = re.compile(r"warning: [^:]+: secrets/\S+ holds placeholder ciphertext .*")

Trees = dict[str, dict[str, str]]
Snapshot = dict[str, bytes | str | None]


def stub_render(configs: Sequence[EnvConfig], sealed: object, every: Sequence[EnvConfig]) -> Trees:
    """One file per chart: the environment's image (a release changes it) and which
    environments the Argo CD chart describes."""
    trees = {c.name: {"09-deployment-vibeyard.yaml": f"image: {c.image.ref}\n"} for c in configs}
    trees["argocd"] = {"13-application-vibeyard.yaml": "".join(f"- {c.name}\n" for c in every)}
    return trees


def snapshot(root: Path, tree: Path | None = None) -> Snapshot:
    """``dist/`` (or ``tree``, read as if it were dist/): every path with its bytes (None
    for a folder, the target for a link)."""
    dist = tree or root / "dist"
    result: Snapshot = {}
    if not dist.is_dir():
        return result
    for path in sorted(dist.rglob("*")):
        rel = f"dist/{path.relative_to(dist).as_posix()}"
        if path.is_symlink():
            result[rel] = f"-> {os.readlink(path)}"
        elif path.is_dir():
            result[rel] = None
        else:
            result[rel] = path.read_bytes() if path.is_file() else "not a file"
    return result


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith(".synth-"))


def make_repo(path: Path) -> Path:
    """``secrets/`` as committed and a release record of ``OLD_TAG`` for every environment."""
    shutil.copytree(ROOT / "secrets", path / "secrets")
    (path / "dist" / "releases").mkdir(parents=True)
    for env in ENVS:
        (path / "dist" / "releases" / f"{env}.json").write_text(f'{{\n  "tag": "{OLD_TAG}"\n}}\n')
    return path


def copy_repo(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, symlinks=True)
    return dest


def run_main(argv: Sequence[str], environ: Mapping[str, str], root: Path) -> tuple[int, list[str]]:
    """``cli.main``'s exit code and stderr lines."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = cli.main(list(argv), dict(environ), root)
    return code, err.getvalue().splitlines()


def quiet_main(argv: Sequence[str], environ: Mapping[str, str], root: Path) -> tuple[int, list[str]]:
    """``run_main`` without the placeholder warnings every synth of the committed secrets/ prints."""
    code, lines = run_main(argv, environ, root)
    return code, [line for line in lines if not PLACEHOLDER.fullmatch(line)]


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "render_charts", stub_render)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository after one plain synth (with the stub), copied for each test."""
    path = make_repo(tmp_path_factory.mktemp("pristine") / "repo")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cli, "render_charts", stub_render)
        assert quiet_main([], {}, path) == (0, [])
    return path


@pytest.fixture
def repo(pristine: Path, tmp_path: Path) -> Path:
    return copy_repo(pristine, tmp_path / "repo")


def clean_run(repo: Path, argv: Sequence[str], environ: Mapping[str, str]) -> Snapshot:
    """What ``argv``/``environ`` make of an untouched copy of ``repo``."""
    reference = copy_repo(repo, repo.with_name(repo.name + "-reference"))
    assert quiet_main(argv, environ, reference) == (0, [])
    return snapshot(reference)


# --- what a synth publishes (the session's real trees) -------------------------------------------


@pytest.fixture
def real_trees(monkeypatch: pytest.MonkeyPatch, synthesized: Trees) -> list[list[str]]:
    """The session's render for the charts asked for; records which were asked for."""
    asked: list[list[str]] = []

    def render(configs: Sequence[EnvConfig], sealed: object, every: Sequence[EnvConfig]) -> Trees:
        asked.append([c.name for c in configs])
        return {**{c.name: synthesized[c.name] for c in configs}, "argocd": synthesized["argocd"]}

    monkeypatch.setattr(cli, "render_charts", render)
    return asked


def expected(trees: Trees, folders: Sequence[str]) -> Snapshot:
    result: Snapshot = {}
    for folder in folders:
        result[f"dist/{folder}"] = None
        result.update({f"dist/{folder}/{name}": text.encode() for name, text in trees[folder].items()})
    return result


def _hand_edits(root: Path) -> None:
    for rel, text in {
        f"{OTHER}/00-namespace-{OTHER}.yaml": "# hand-edited: a one-environment synth keeps it\n",
        f"{RELEASED}/99-removed-object.yaml": "# an object deleted from the chart\n",
        "oldenv/00-namespace-oldenv.yaml": "# an environment deleted from the config\n",
        "notes.txt": "# a loose file\n",
    }.items():
        (root / "dist" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "dist" / rel).write_text(text)


@pytest.mark.parametrize(
    ("argv", "environ"),
    [([RELEASED], {}), ([], {"VIBEYARD_ENV": RELEASED}), ([RELEASED], {"VIBEYARD_ENV": OTHER})],
    ids=["argv", "VIBEYARD_ENV", "argv-wins-over-variable"],
)
def test_one_environment_replaces_its_folder_and_links_the_others(
    repo: Path, synthesized: Trees, real_trees: list[list[str]], argv: list[str], environ: dict[str, str]
) -> None:
    _hand_edits(repo)
    before = snapshot(repo)
    inode = (repo / f"dist/{OTHER}/00-namespace-{OTHER}.yaml").stat().st_ino
    assert quiet_main(argv, environ, repo) == (0, [])
    assert real_trees == [[RELEASED]]
    after = snapshot(repo)
    mine = (f"dist/{RELEASED}", f"dist/{RELEASED}/", "dist/argocd", "dist/argocd/")
    assert {k: v for k, v in after.items() if k.startswith(mine)} == expected(
        synthesized, [RELEASED, "argocd"]
    )
    others = {k: v for k, v in before.items() if not k.startswith((*mine, "dist/environments.json"))}
    assert {k: v for k, v in after.items() if not k.startswith((*mine, "dist/environments.json"))} == others
    assert (repo / f"dist/{OTHER}/00-namespace-{OTHER}.yaml").stat().st_ino == inode  # linked, not copied
    assert leftovers(repo) == []


def test_a_full_synth_makes_dist_exactly_the_output(
    repo: Path, synthesized: Trees, real_trees: list[list[str]]
) -> None:
    _hand_edits(repo)
    records = {p.name: p.read_bytes() for p in (repo / "dist/releases").iterdir()}
    assert quiet_main([], {}, repo) == (0, [])
    assert real_trees == [ENVS]
    want = expected(synthesized, [*ENVS, "argocd"])
    want["dist/releases"] = None
    want.update({f"dist/releases/{name}": data for name, data in records.items()})
    want["dist/environments.json"] = (ROOT / "dist/environments.json").read_bytes()  # as committed
    assert snapshot(repo) == dict(sorted(want.items()))  # the stale file, oldenv/, notes.txt: gone
    assert leftovers(repo) == []


def test_a_synth_links_each_unchanged_file_and_writes_the_rest(repo: Path, stubbed: None) -> None:
    """A synth rewrites only what changed: every other file keeps its inode (hard-linked into
    the staged tree), unless its bytes, mode or owner differ from what a synth writes."""
    dist = repo / "dist"
    tampered_env = next(e for e in ENVS if e not in (OTHER, RELEASED))
    kept, released, tampered = (
        dist / e / "09-deployment-vibeyard.yaml" for e in (OTHER, RELEASED, tampered_env)
    )
    restricted, foreign = dist / "argocd" / "13-application-vibeyard.yaml", dist / "environments.json"
    before = {p: p.stat().st_ino for p in (kept, released, tampered, restricted, foreign)}
    original = tampered.read_bytes()
    (repo / RECORD).write_text(f'{{"tag": "{NEW_TAG}"}}\n')  # a released tag: only its folder changes
    tampered.write_bytes(tampered.read_bytes().upper())  # same size, other bytes
    fresh = 0o666 & ~_umask()
    restricted.chmod(fresh ^ 0o200)  # owner-writable or not: never a new file's mode
    subprocess.run([*_SUDO, "chown", "1234", str(foreign)], check=True)  # another user's, same bytes
    assert quiet_main([], {}, repo) == (0, [])
    assert kept.stat().st_ino == before[kept]
    assert released.stat().st_ino != before[released] and NEW_TAG in released.read_text()
    assert tampered.read_bytes() == original and tampered.stat().st_ino != before[tampered]
    assert restricted.stat().st_mode & 0o777 == fresh and restricted.stat().st_ino != before[restricted]
    assert (foreign.stat().st_uid, foreign.stat().st_ino != before[foreign]) == (os.geteuid(), True)
    assert leftovers(repo) == []


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_the_cdk8s_output_folder_gets_a_copy(
    repo: Path, synthesized: Trees, real_trees: list[list[str]]
) -> None:
    out = repo / ".cdk8s.out"
    assert quiet_main([RELEASED], {"CDK8S_OUTDIR": str(out)}, repo) == (0, [])
    copied = {p.relative_to(out).as_posix(): p.read_text() for p in out.rglob("*") if p.is_file()}
    assert copied == {
        f"{folder}/{name}": (repo / "dist" / folder / name).read_text()
        for folder in (RELEASED, "argocd", "releases")
        for name in os.listdir(repo / "dist" / folder)
    }


def test_the_first_synth_of_a_repository_creates_dist_and_nothing_else(tmp_path: Path, stubbed: None) -> None:
    """No dist/ yet: no warning, and the repository folder keeps its mode."""
    repo = make_repo(tmp_path / "repo")
    shutil.rmtree(repo / "dist")
    mode = repo.stat().st_mode
    assert quiet_main([], {}, repo) == (0, [])
    assert sorted(os.listdir(repo / "dist")) == sorted([*ENVS, "argocd", "environments.json"])
    assert repo.stat().st_mode == mode
    assert leftovers(repo) == []


def test_check_validates_and_writes_nothing(
    repo: Path, stubbed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def must_not(*args: object) -> None:
        raise AssertionError("--check must neither render nor take the lock")

    monkeypatch.setattr(cli, "render_charts", must_not)
    monkeypatch.setattr(cli, "locked", must_not)
    before = snapshot(repo)
    assert quiet_main(["--check"], {"VIBEYARD_IMAGE_TAG": NEW_TAG}, repo) == (0, [])
    assert snapshot(repo) == before and leftovers(repo) == []


# --- releases -------------------------------------------------------------------------------------


def _image(repo: Path, env: str) -> str:
    return (repo / f"dist/{env}/09-deployment-vibeyard.yaml").read_text()


def test_a_release_is_recorded_and_the_next_plain_synth_keeps_it(repo: Path, stubbed: None) -> None:
    others = {env: _image(repo, env) for env in ENVS if env != RELEASED}
    assert quiet_main([RELEASED], {"VIBEYARD_IMAGE_TAG": NEW_TAG}, repo) == (0, [])
    assert json.loads((repo / RECORD).read_text()) == {"tag": NEW_TAG}
    assert _image(repo, RELEASED).endswith(f":{NEW_TAG}\n")
    released = snapshot(repo)
    assert quiet_main([], {}, repo) == (0, [])  # no override: the record decides, no roll-back
    assert snapshot(repo) == released
    assert {env: _image(repo, env) for env in others} == others


def test_a_digest_without_a_tag_is_recorded_with_the_released_tag(repo: Path, stubbed: None) -> None:
    digest = "sha256:" + "5eed" * 16
    assert quiet_main([RELEASED], {"VIBEYARD_IMAGE_DIGEST": digest}, repo) == (0, [])
    assert json.loads((repo / RECORD).read_text()) == {"tag": OLD_TAG, "digest": digest}
    assert _image(repo, RELEASED).endswith(f":{OLD_TAG}@{digest}\n")


def test_placeholder_ciphertext_is_one_warning_per_sealed_file(repo: Path, stubbed: None) -> None:
    """The committed sealed files hold placeholders; the warning names the file and the keys."""
    counts: dict[str, tuple[int, int]] = {}
    for path in sorted((ROOT / "secrets").glob("*.sealed.yaml")):
        data = yaml.safe_load(path.read_text())["spec"]["encryptedData"]
        if placeholders := [k for k, v in data.items() if v.startswith("AgPLACEHOLDER")]:
            counts[path.name] = (len(placeholders), len(data))
    assert counts, "no placeholder left in secrets/: this test can go"
    code, lines = run_main([], {}, repo)
    assert code == 0
    assert len(lines) == len(counts), lines
    for name, (fake, total) in counts.items():
        what = f"secrets/{name} holds placeholder ciphertext (AgPLACEHOLDER-..., {fake} of {total} keys)"
        line = next((line for line in lines if what in line), f"no line says {what!r}: {lines}")
        assert PLACEHOLDER.fullmatch(line) and "reseal it" in line and "docs/release.md" in line, line


# --- every failure: one line, its exit code, dist/ as it was, and the next run works --------------

Setup = Callable[[Path, pytest.MonkeyPatch], None]


@dataclass(frozen=True)
class Probe:
    id: str
    code: int
    lines: Sequence[str]  # a regular expression per stderr line (placeholder warnings aside)
    setup: Setup
    argv: Sequence[str] = ()
    environ: Mapping[str, str] = field(default_factory=dict)
    # False: dist/ stays exactly as it was. True: it is what the command makes of an
    # untouched copy, and the next synth works while the cause is still there.
    published: bool = False


def _nothing(repo: Path, mp: pytest.MonkeyPatch) -> None:
    pass


def _put(rel: str, data: bytes | Callable[[], bytes] | None) -> Setup:
    """Replace ``rel`` with ``data`` (None: a folder; b"|": a FIFO; a callable: its bytes)."""

    def setup(repo: Path, mp: pytest.MonkeyPatch) -> None:
        path = repo / rel
        path.unlink()
        if data is None:
            path.mkdir()
        elif data == b"|":
            os.mkfifo(path)
        else:
            path.write_bytes(data() if callable(data) else data)

    return setup


def _fail(module: Any, name: str, err: int, when: Callable[[Path, list[str]], bool], named: int = 0) -> Setup:
    """``module.name`` fails with ``err`` on the calls whose path arguments ``when`` picks,
    naming the ``named``-th of them as the real function does."""

    def setup(repo: Path, mp: pytest.MonkeyPatch) -> None:
        real = getattr(module, name)

        def fake(*args: Any, **kwargs: Any) -> Any:
            paths = [os.fspath(a) for a in args if isinstance(a, str | os.PathLike)]
            if when(repo, paths):
                raise OSError(err, os.strerror(err), paths[named])
            return real(*args, **kwargs)

        mp.setattr(module, name, fake)

    return setup


def _no_exchange_and(fault: Setup) -> Setup:
    """A platform without ``renameat2(RENAME_EXCHANGE)``: the fallback's renames, and ``fault``."""

    def setup(repo: Path, mp: pytest.MonkeyPatch) -> None:
        mp.setattr(publish, "_exchange", lambda a, b: False)
        fault(repo, mp)

    return setup


def _disk_full(suffix: str) -> Setup:
    """The disk fills up while a file is written: ``write`` fails, without a file name."""

    def setup(repo: Path, mp: pytest.MonkeyPatch) -> None:
        def fake_open(file: Any, *args: Any, **kwargs: Any) -> Any:
            fh = open(file, *args, **kwargs)  # noqa: SIM115 (closed by the caller's ``with``)
            return _Full(fh) if os.fspath(file).endswith(suffix) else fh

        mp.setattr(publish, "open", fake_open, raising=False)  # found before the builtin

    return setup


class _Full:
    def __init__(self, fh: Any) -> None:
        self.fh = fh

    def __enter__(self) -> _Full:
        return self

    def __exit__(self, *exc: object) -> None:
        self.fh.close()

    def write(self, text: str) -> int:
        self.fh.write(text[: len(text) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _setenv(name: str, value: Callable[[Path], Path]) -> Setup:
    def setup(repo: Path, mp: pytest.MonkeyPatch) -> None:
        mp.setenv(name, str(value(repo)))

    return setup


def _unwritable_tmpdir(repo: Path, mp: pytest.MonkeyPatch) -> None:
    (repo / "tmp").mkdir()
    make_immutable(repo / "tmp")
    mp.setenv("TMPDIR", str(repo / "tmp"))


def _immutable(rel: str) -> Setup:
    def setup(repo: Path, mp: pytest.MonkeyPatch) -> None:
        make_immutable(repo / rel)

    return setup


_IMMUTABLE: list[Path] = []
# Setting the flag needs root: through passwordless sudo as a user (GitHub's runners).
_CHATTR = [*_SUDO, "chattr"]


def make_immutable(path: Path) -> None:
    """``chattr +i``: not even root may change, rename or delete ``path`` (undone after the test).
    Without it (not root, or a filesystem without the flag) the probe cannot be made."""
    done = subprocess.run([*_CHATTR, "+i", str(path)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        assert os.environ.get("CI") != "true", f"chattr +i {path}: {done.stderr}"
        pytest.skip(f"needs chattr +i (root or sudo, a filesystem with the flag): {done.stderr.strip()}")
    _IMMUTABLE.append(path)


def undo_immutable() -> None:
    """``chattr -i`` on everything under the repositories ``make_immutable`` touched, wherever
    a synth moved it (into an old tree)."""
    while _IMMUTABLE:
        repo = next(p for p in _IMMUTABLE.pop().parents if (p / "secrets").is_dir())
        subprocess.run([*_CHATTR, "-R", "-i", str(repo)], capture_output=True, check=False)


@pytest.fixture(autouse=True)
def _nothing_immutable_outlives_its_test() -> Iterator[None]:
    yield
    undo_immutable()


class Hung(Exception):  # noqa: N818 (what happened, not a kind of error)
    """A probe that did not end in time (a FIFO opened without a writer)."""


@contextlib.contextmanager
def deadline(seconds: int) -> Iterator[None]:
    def expire(signum: int, frame: object) -> None:
        raise Hung(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _bad_record(why: str) -> str:
    return re.escape(f"config error: {RELEASED}: {RECORD} is invalid: {why}")


UNCHANGED = "; dist/ unchanged"
LEFTOVER = r"\.synth-[\w-]+"
HELP = "; see python main.py --help"
TMP_FIX = "; jsii needs a writable TMPDIR: set it to one"
RELEASE = {"VIBEYARD_IMAGE_TAG": NEW_TAG}
PROBES = [
    # --- the release record: named, never a traceback or a hang, never silently skipped --------
    Probe(
        "record-50MB-tag",
        2,
        [_bad_record("") + r"\d+ bytes, more than an input file can be; restore it from git"],
        _put(RECORD, lambda: b'{"tag": "' + b"a" * 50_000_000 + b'"}\n'),
    ),
    Probe(
        "record-nested-deeply",
        2,
        [_bad_record(f"nested too deeply to be a release record; write {EXAMPLE}")],
        _put(RECORD, lambda: b'{"tag": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n"),
    ),
    Probe(
        "record-is-a-fifo",
        2,
        [_bad_record("not a regular file (a pipe, socket or device); put the file itself there")],
        _put(RECORD, b"|"),
    ),
    Probe("record-is-a-folder", 2, [_bad_record("a folder, not a file")], _put(RECORD, None)),
    Probe(
        "record-binary",
        2,
        [_bad_record("not UTF-8 text (byte 0x89 at offset 0)")],
        _put(RECORD, b"\x89PNG\r\n\x1a\n\x00"),
    ),
    Probe(
        "record-not-an-object",
        2,
        [_bad_record(f"not a JSON object; write {EXAMPLE}")],
        _put(RECORD, b'["1.0.0"]\n'),
    ),
    Probe(
        "record-unknown-key",
        2,
        [_bad_record(f"unknown key 'image': only 'tag' and an optional 'digest', as in {EXAMPLE}")],
        _put(RECORD, b'{"tag": "1.0.0", "image": "x"}\n'),
    ),
    Probe(
        "record-bad-tag",
        2,
        [re.escape(f"config error: {RELEASED}: {RECORD}: tag='latest' is invalid: ") + ".*never 'latest'.*"],
        _put(RECORD, b'{"tag": "latest"}\n'),
    ),
    # --- the command line ------------------------------------------------------------------
    Probe(
        "unknown-option",
        2,
        [re.escape(f"usage error: unrecognized arguments: --frobnicate{HELP}")],
        _nothing,
        argv=("--frobnicate",),
    ),
    Probe(
        "empty-environment-name",
        2,
        [re.escape(f"usage error: an empty environment name: choose one of {', '.join(ENVS)}{HELP}")],
        _nothing,
        argv=(RELEASED, ""),
    ),
    Probe(
        "unknown-environment",
        2,
        [re.escape(f"config error: prdo: unknown environment 'prdo': choose one of {', '.join(ENVS)}")],
        _nothing,
        argv=("prdo",),
    ),
    # --- the transaction ---------------------------------------------------------------------
    Probe(
        "old-tree-cannot-be-deleted",
        0,
        [
            rf"warning: could not delete {LEFTOVER}/{RELEASED}/09-deployment-vibeyard\.yaml: "
            rf"Operation not permitted; delete {LEFTOVER} by hand \(it blocks no synth\)"
        ],
        _immutable(f"dist/{RELEASED}/09-deployment-vibeyard.yaml"),
        argv=(RELEASED,),
        environ=RELEASE,
        published=True,
    ),
    Probe(
        "old-record-cannot-be-deleted",
        0,
        [
            rf"warning: could not delete {LEFTOVER}/releases/{RELEASED}\.json: "
            rf"Operation not permitted; delete {LEFTOVER} by hand \(it blocks no synth\)"
        ],
        _immutable(RECORD),
        argv=(RELEASED,),
        environ=RELEASE,
        published=True,
    ),
    Probe(
        "dist-cannot-be-replaced",
        1,
        [re.escape(f"error: dist: Operation not permitted{UNCHANGED}")],
        _immutable("dist"),
        environ=RELEASE,
    ),
    Probe(
        "exchange-busy",
        1,
        [re.escape(f"error: dist: Device or resource busy{UNCHANGED}")],
        _fail(publish, "_exchange", errno.EBUSY, lambda repo, paths: True, named=1),
        environ=RELEASE,
    ),
    Probe(
        "no-exchange-and-dist-busy",
        1,
        [re.escape(f"error: dist: Device or resource busy{UNCHANGED}")],
        _no_exchange_and(
            _fail(os, "rename", errno.EBUSY, lambda repo, paths: paths[0] == str(repo / "dist"))
        ),
        environ=RELEASE,
    ),
    Probe(
        "disk-full-while-staging",
        1,
        [
            re.escape(
                f"error: dist/{RELEASED}/09-deployment-vibeyard.yaml: No space left on device{UNCHANGED}"
            )
        ],
        _disk_full(f"/{RELEASED}/09-deployment-vibeyard.yaml"),
        argv=(RELEASED,),
        environ=RELEASE,
    ),
    Probe(
        "repository-not-writable",
        1,
        [r"error: /\S+/repo: Permission denied; dist/ unchanged"],
        _fail(os, "mkdir", errno.EACCES, lambda repo, paths: "/.synth-" in paths[0]),
    ),
    # --- the machine -------------------------------------------------------------------------
    Probe(
        "no-node-on-path",
        1,
        [re.escape("error: Node.js is not on PATH; run `make install` (it puts Node 22 in node_modules)")],
        _setenv("PATH", lambda repo: repo / "secrets"),
    ),
    Probe(
        "tmpdir-missing",  # Python's tempfile would pick another folder; Node does not
        1,
        [r"error: /\S+/no-such-folder: No such file or directory" + re.escape(TMP_FIX)],
        _setenv("TMPDIR", lambda repo: repo / "no-such-folder"),
    ),
    Probe(
        "tmpdir-unwritable",
        1,
        [r"error: /\S+/tmp: Operation not permitted" + re.escape(TMP_FIX)],
        _unwritable_tmpdir,
    ),
]


@pytest.mark.parametrize("probe", PROBES, ids=[p.id for p in PROBES])
def test_every_failure_is_one_line_and_the_next_run_works(
    probe: Probe, repo: Path, pristine: Path, stubbed: None
) -> None:
    untouched = snapshot(repo)
    want = clean_run(repo, probe.argv, probe.environ) if probe.published else None
    with pytest.MonkeyPatch.context() as mp:
        probe.setup(repo, mp)
        before = snapshot(repo)
        with deadline(20):
            code, lines = quiet_main(probe.argv, probe.environ, repo)
        assert (code, len(lines)) == (probe.code, len(probe.lines)), lines
        for line, pattern in zip(lines, probe.lines, strict=True):
            assert re.fullmatch(pattern, line), f"{line!r}\ndoes not match\n{pattern!r}"
        if want is None:
            assert snapshot(repo) == before and leftovers(repo) == []
        else:
            assert snapshot(repo) == want
            code, lines = quiet_main(probe.argv, probe.environ, repo)  # the cause is still there
            assert code == 0 and not any("File exists" in line for line in lines), lines
            assert snapshot(repo) == want
    undo_immutable()
    if want is None:  # the cause removed: the damaged file restored
        shutil.rmtree(repo / "dist" / "releases")
        shutil.copytree(pristine / "dist" / "releases", repo / "dist" / "releases")
    assert quiet_main([], {}, repo) == (0, []), "the next synth must work"
    assert snapshot(repo) == (untouched if want is None else want)
    assert leftovers(repo) == []
