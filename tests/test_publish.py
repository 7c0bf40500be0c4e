"""``publish``: dist/ is replaced whole or not at all, and only what was asked for.

Unit tests of ``vibeyard.publish`` on small hand-made trees, no jsii: each one
pre-populates a ``dist/``, publishes (often failing on purpose halfway) and
compares the tree byte for byte with what was there before.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from vibeyard.synth import publish as pub

Snapshot = dict[str, bytes | str | None]


def snapshot(folder: Path) -> Snapshot:
    """Every entry under ``folder``: file bytes, symlink target, or None for a folder."""
    result: Snapshot = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            result[rel] = f"-> {os.readlink(path)}"
        elif path.is_dir():
            result[rel] = None
        else:
            result[rel] = path.read_bytes()
    return result


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if "staging" in p.name or p.name.endswith("-old"))


def as_snapshot(trees: dict[str, dict[str, str]]) -> Snapshot:
    result: Snapshot = {}
    for rel, files in trees.items():
        result[rel] = None
        for name, text in files.items():
            result[f"{rel}/{name}"] = text.encode()
    return result


NEW = {
    "dev": {"00-namespace-dev.yaml": "kind: Namespace\n", "09-deployment-web.yaml": "kind: Deployment\n"},
    "prod": {"00-namespace-production.yaml": "kind: Namespace\nname: production\n"},
}


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    """A previous synth's output, with things a synth would never write."""
    d = tmp_path / "repo" / "dist"
    for rel, text in {
        "dev/00-namespace-dev.yaml": "old dev\n",
        "prod/00-namespace-production.yaml": "old prod\n",
        "prod/99-removed-object.yaml": "stale\n",
        "staging/00-namespace-staging.yaml": "old staging\n",
        "staging/nested/notes.txt": "kept\n",
        "oldenv/00-namespace-oldenv.yaml": "deleted environment\n",
        "README.md": "loose file\n",
        ".gitattributes": "*.yaml linguist-generated\n",
    }.items():
        (d / rel).parent.mkdir(parents=True, exist_ok=True)
        (d / rel).write_text(text)
    (d / "latest").symlink_to("prod")
    return d


def test_full_publish_makes_dist_exactly_the_new_trees(dist: Path) -> None:
    pub.publish(dist, NEW, replace_all=True)
    assert snapshot(dist) == as_snapshot(NEW)  # stale files, folders, links: all gone
    assert leftovers(dist.parent) == []


def test_partial_publish_replaces_only_the_named_folders(dist: Path) -> None:
    before = snapshot(dist)
    inode = (dist / "staging/00-namespace-staging.yaml").stat().st_ino
    pub.publish(dist, {"prod": NEW["prod"]}, replace_all=False)
    after = snapshot(dist)
    expected = {k: v for k, v in before.items() if not k.startswith("prod")} | as_snapshot(
        {"prod": NEW["prod"]}
    )
    assert after == expected  # prod/99-removed-object.yaml is gone, every other byte kept
    # Untouched files are the very same files (hard links), not copies.
    assert (dist / "staging/00-namespace-staging.yaml").stat().st_ino == inode
    assert leftovers(dist.parent) == []


def test_publish_into_a_missing_dist_creates_it_readable(tmp_path: Path) -> None:
    dist = tmp_path / "fresh" / "dist"
    pub.publish(dist, NEW, replace_all=False)
    assert snapshot(dist) == as_snapshot(NEW)
    # mkdtemp's 0700 must not leak into the published folder.
    assert stat.S_IMODE(dist.stat().st_mode) & 0o055 == 0o055 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fail_after_first_file(real: Callable[[Path, pub.Trees], None]) -> Callable[[Path, pub.Trees], None]:
    def write(root: Path, trees: pub.Trees) -> None:
        first_rel = next(iter(trees))
        first_name = next(iter(trees[first_rel]))
        real(root, {first_rel: {first_name: trees[first_rel][first_name]}})
        raise RuntimeError("disk full, on purpose")

    return write


@pytest.mark.parametrize("replace_all", [True, False], ids=["full", "per-env"])
def test_failure_while_writing_leaves_dist_byte_identical(
    dist: Path, monkeypatch: pytest.MonkeyPatch, replace_all: bool
) -> None:
    before = snapshot(dist)
    monkeypatch.setattr(pub, "_write", _fail_after_first_file(pub._write))
    with pytest.raises(RuntimeError, match="on purpose"):
        pub.publish(dist, NEW, replace_all=replace_all)
    assert snapshot(dist) == before
    assert leftovers(dist.parent) == []


def test_failure_while_carrying_over_leaves_dist_byte_identical(
    dist: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(dist)
    calls = 0

    def link(src: str, dst: str) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("interrupted, on purpose")
        os.link(src, dst)

    monkeypatch.setattr(pub, "_link_or_copy", link)
    with pytest.raises(RuntimeError, match="on purpose"):
        pub.publish(dist, {"prod": NEW["prod"]}, replace_all=False)
    assert snapshot(dist) == before
    assert leftovers(dist.parent) == []


def test_without_an_atomic_exchange_two_renames_give_the_same_result(
    dist: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pub, "_rename_exchange", lambda a, b: False)
    pub.publish(dist, NEW, replace_all=True)
    assert snapshot(dist) == as_snapshot(NEW)
    assert leftovers(dist.parent) == []


def test_a_failed_swap_rolls_back(dist: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fallback path: dist is renamed aside, then the second rename fails."""
    before = snapshot(dist)
    monkeypatch.setattr(pub, "_rename_exchange", lambda a, b: False)
    real_rename = os.rename

    def rename(src: str | Path, dst: str | Path) -> None:
        if Path(dst) == dist and Path(src).name == "new":  # the staged tree going into place
            raise OSError("rename failed, on purpose")
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(OSError, match="on purpose"):
        pub.publish(dist, NEW, replace_all=True)
    monkeypatch.undo()
    assert snapshot(dist) == before
    assert leftovers(dist.parent) == []


@pytest.mark.parametrize("bad", ["../escape", "a/b", "", ".."])
def test_unsafe_names_are_refused_before_anything_is_written(dist: Path, bad: str) -> None:
    before = snapshot(dist)
    with pytest.raises(ValueError, match="unsafe path component"):
        pub.publish(dist, {"prod": {bad: "x"}}, replace_all=False)
    with pytest.raises(ValueError, match="unsafe path component"):
        pub.publish(dist, {bad: {"x.yaml": "x"}}, replace_all=False)
    assert snapshot(dist) == before
    assert leftovers(dist.parent) == []


def test_the_source_tree_is_never_replaced(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "main.py").write_text("print()\n")
    with pytest.raises(ValueError, match="holds the source tree"):
        pub.mirror(tmp_path, NEW)
    assert (tmp_path / "main.py").read_text() == "print()\n"
    # The guard itself, called directly: publishing onto the repository would delete it.
    with pytest.raises(ValueError, match="holds the source tree"):
        pub._check_target(Path(pub.__file__).resolve().parents[2])


def test_mirror_replaces_the_cli_scratch_folder(tmp_path: Path) -> None:
    out = tmp_path / ".cdk8s.out"
    (out / "stale").mkdir(parents=True)
    (out / "stale" / "x.yaml").write_text("stale\n")
    pub.mirror(out, NEW)
    assert snapshot(out) == as_snapshot(NEW)


def test_stage_files_replaces_named_files_and_links_the_rest(tmp_path: Path) -> None:
    """``releases/`` staging: the untouched release records are the very same files."""
    current = tmp_path / "releases"
    current.mkdir()
    (current / "staging.json").write_text('{"tag": "1.0.0"}\n')
    (current / "prod.json").write_text('{"tag": "1.0.0"}\n')
    staged = tmp_path / "staged"
    pub.stage_files(current, staged, {"prod.json": '{"tag": "7.7.7"}\n'})
    assert snapshot(staged) == {"prod.json": b'{"tag": "7.7.7"}\n', "staging.json": b'{"tag": "1.0.0"}\n'}
    assert (staged / "staging.json").stat().st_ino == (current / "staging.json").stat().st_ino
    assert (current / "prod.json").read_text() == '{"tag": "1.0.0"}\n'


def test_a_carry_over_failure_names_the_first_file_that_failed(
    dist: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not ``shutil.copytree``'s list of every failure: one OSError with one path, for one line."""

    def fail(src: str, dst: str) -> None:
        raise OSError(5, "Input/output error", dst)

    monkeypatch.setattr(pub, "_link_or_copy", fail)
    with pytest.raises(OSError) as err:
        pub.stage(dist, dist.parent / "staged", {"prod": NEW["prod"]}, replace_all=False)
    assert type(err.value) is OSError
    assert err.value.filename == str(dist.parent / "staged" / ".gitattributes")  # sorted: the first entry


def test_a_full_disk_while_writing_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``write()`` failing with ENOSPC carries no file name; ``write_file`` adds it."""

    class Full:
        def __enter__(self) -> Full:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

        def write(self, text: str) -> int:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr("builtins.open", lambda *args, **kwargs: Full())
    with pytest.raises(OSError) as err:
        pub.write_file(tmp_path / "x.yaml", "data")
    assert (err.value.errno, err.value.filename) == (28, str(tmp_path / "x.yaml"))
