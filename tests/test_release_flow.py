"""A release commit, made the way the deploy workflow makes it, passes the checks; its revert is clean.

The tests must never depend on the release pins, or the first real release turns the
next pull request red. So this test does what ``deploy.yml`` does, in a throw-away git
repository holding this working tree: ``VIBEYARD_IMAGE_TAG/VIBEYARD_IMAGE_DIGEST make
synth ENV=staging`` (``main.py``'s code, in-process), a commit of ``dist/`` and
its release record, then pytest *inside that repository* on the checks a release can break
(the committed-``dist/`` freshness check and the output snapshots). Then ``git revert``
and a synth of that environment must leave git clean.

Then the rest of the release process, each where it can break:

* key rotation with ``scripts/seal-secrets.sh``: a stand-in ``kubeseal`` on PATH checks
  the flags and the Secret it receives, and does what ``kubeseal --merge-into`` does to
  the file (replace the given keys, keep the rest);
* ``deploy.yml``'s jobs, executed step by step, are in ``test_deploy_run.py``;
* ``docs/release.md``: its commands use inputs, scripts, make targets and kubeseal flags
  that exist.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from vibeyard.config import Topology, all_configs, names
from vibeyard.config.inputs import load_sealed
from vibeyard.synth import cli
from vibeyard.synth.inputs import release_rel

ROOT = Path(__file__).resolve().parents[1]
RELEASE_ENV = "staging"
DIGEST = "sha256:" + "5eed" * 16
# The checks a release commit could break; the rest of the suite reads no repository state.
CHECKS = ("tests/test_foundation.py::test_committed_dist_matches_a_fresh_synth", "tests/test_variants.py")


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", *args],
        cwd=repo,
        env={
            **os.environ,
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(repo.parent),
            "GIT_AUTHOR_NAME": "github-actions[bot]",
            "GIT_AUTHOR_EMAIL": "41898282+github-actions[bot]@users.noreply.github.com",
            "GIT_COMMITTER_NAME": "github-actions[bot]",
            "GIT_COMMITTER_EMAIL": "41898282+github-actions[bot]@users.noreply.github.com",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr}"
    return proc.stdout


def status(repo: Path) -> str:
    return git(repo, "status", "--porcelain", "--untracked-files=all")


def clone_worktree(dest: Path) -> Path:
    """A new repository whose first commit is this working tree (committed or not, never ignored)."""
    listed = git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    dest.mkdir()
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file() and not src.is_symlink():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    (dest / "node_modules").symlink_to(ROOT / "node_modules")  # the pinned Node for jsii
    # Bytecode of the generated CRD bindings (5.6 MB of Python), which git ignores: with the
    # sources' times kept, the checks' pytest need not compile them again.
    for cache in (ROOT / "imports").glob("**/__pycache__"):
        shutil.copytree(cache, dest / cache.relative_to(ROOT), copy_function=shutil.copy2)
    git(dest, "init", "--quiet", "--initial-branch=develop")
    (dest / ".git" / "info" / "exclude").write_text("/node_modules\n", encoding="utf-8")
    git(dest, "-c", "core.looseCompression=0", "add", "-A")  # a scratch repository: speed over size
    git(dest, "commit", "--quiet", "-m", "the working tree")
    assert status(dest) == "", "the copied working tree is not clean in git"
    return dest


def make_synth(repo: Path, **environ: str) -> None:
    """``make synth [ENV=..]``: the ``--check`` pass, then what ``cdk8s synth`` runs (``main.py``)."""
    env = {"CDK8S_OUTDIR": str(repo / ".cdk8s.out"), **environ}
    chosen = [env["VIBEYARD_ENV"]] if env.get("VIBEYARD_ENV") else []
    assert cli.main(["--check", *chosen], env, repo) == 0, "make synth: the --check pass failed"
    assert cli.main([], env, repo) == 0, "make synth failed"


def release_tag(repo: Path) -> str:
    """2.3.4, unless that is already the released tag (then the release would change nothing)."""
    current = repo / release_rel(RELEASE_ENV)
    released = json.loads(current.read_text(encoding="utf-8")).get("tag") if current.is_file() else None
    return "2.3.5" if released == "2.3.4" else "2.3.4"


def run_checks(repo: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIBEYARD_", "CDK8S_", "PYTEST_"))}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *CHECKS],
        cwd=repo,
        env={**env, "CDK8S_CHECK_UPGRADE": "false"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_release_commit_passes_the_checks_and_its_revert_synthesizes_clean(tmp_path: Path) -> None:
    repo = clone_worktree(tmp_path / "repo")
    base = git(repo, "rev-parse", "HEAD").strip()
    tag = release_tag(repo)

    # deploy.yml's render step: the image overrides, one environment, then commit.
    make_synth(repo, VIBEYARD_ENV=RELEASE_ENV, VIBEYARD_IMAGE_TAG=tag, VIBEYARD_IMAGE_DIGEST=DIGEST)
    git(repo, "add", "-A", "--", "dist/")
    git(repo, "commit", "--quiet", "-m", f"deploy({RELEASE_ENV}): vibeyard {tag}@{DIGEST}")
    assert status(repo) == "", f"the release synth wrote files outside dist/:\n{status(repo)}"
    changed = git(repo, "diff", "--name-only", base, "HEAD").split()
    assert release_rel(RELEASE_ENV) in changed, "the release recorded no image"
    assert any(p.startswith(f"dist/{RELEASE_ENV}/") for p in changed), "the release rendered nothing"
    assert all(p.startswith(f"dist/{RELEASE_ENV}/") or p == release_rel(RELEASE_ENV) for p in changed), (
        f"a {RELEASE_ENV} release touched other environments: {changed}"
    )
    record = repo / release_rel(RELEASE_ENV)
    assert record.is_file(), f"the release synth did not record {release_rel(RELEASE_ENV)}"
    assert json.loads(record.read_text(encoding="utf-8")) == {"tag": tag, "digest": DIGEST}

    checks = run_checks(repo)
    assert checks.returncode == 0, (
        f"on a release commit, pytest {' '.join(CHECKS)} failed: the tests depend on the release pins\n"
        + checks.stdout[-4000:]
        + checks.stderr[-2000:]
    )

    # Rollback: revert the release commit, then a synth must change nothing. Only the released
    # environment is rendered again: the release changed no file of the others (asserted above),
    # and that the base's dist/ is fresh is test_foundation's check.
    git(repo, "revert", "--no-edit", "HEAD")
    make_synth(repo, VIBEYARD_ENV=RELEASE_ENV)
    assert status(repo) == "", f"after reverting the release, `make synth` changed:\n{status(repo)}"
    assert git(repo, "diff", "--name-only", base, "HEAD") == "", "the revert did not restore the base"


# --------------------------------------------------------------------------- key rotation

SEALED_ENVS = tuple(name for name, cfg in all_configs().items() if cfg.secrets.provider == "sealed")

# Stands in for kubeseal v0.36.6: accepts only the flags seal-secrets.sh must pass, reads the
# Secret from stdin, and merges its keys into the --merge-into file like SealMergingInto does
# (the file's own name and namespace win; every other key stays). The fake "ciphertext" names
# the value's hash, so the test can tell which value went to which key.
_FAKE_KUBESEAL = """
import base64, hashlib, json, os, sys
import yaml
args = sys.argv[1:]
with open(os.environ["KUBESEAL_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")
opts = dict(zip(args[::2], args[1::2]))
expected = {"--cert", "--scope", "--format", "--merge-into"}
if len(args) != 8 or set(opts) != expected or opts["--scope"] != "strict" or opts["--format"] != "yaml":
    sys.exit(f"fake kubeseal: unexpected arguments {args}")
open(opts["--cert"]).close()
secret = json.load(sys.stdin)
path = opts["--merge-into"]
with open(path) as f:
    sealed = yaml.safe_load(f)
if sealed.get("kind") != "SealedSecret":
    sys.exit("fake kubeseal: the --merge-into file is no SealedSecret manifest")
for key, value in secret["data"].items():
    if key == os.environ.get("KUBESEAL_FAIL_ON"):
        sys.exit(f"fake kubeseal: cannot seal {key}")
    digest = hashlib.sha256(base64.b64decode(value)).hexdigest()[:16]
    sealed["spec"]["encryptedData"][key] = f"AgFAKE{digest}"
with open(path, "w") as f:
    yaml.safe_dump(sealed, f)
"""


@functools.cache
def secret_keys() -> ModuleType:
    path = ROOT / "scripts" / "secret-keys.py"
    spec = importlib.util.spec_from_file_location("secret_keys", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def sealed_value(plain: str) -> str:
    return "AgFAKE" + hashlib.sha256(plain.encode()).hexdigest()[:16]


class SealRig:
    """seal-secrets.sh and secret-keys.py in a scratch repository, with a stand-in kubeseal."""

    def __init__(self, tmp_path: Path) -> None:
        self.root = tmp_path / "repo"
        (self.root / "scripts").mkdir(parents=True)
        for name in ("seal-secrets.sh", "secret-keys.py"):
            shutil.copy2(ROOT / "scripts" / name, self.root / "scripts" / name)
        (self.root / "constructs").symlink_to(ROOT / "constructs")
        shutil.copytree(ROOT / "secrets", self.root / "secrets")
        self.bin, self.log, self.cert = tmp_path / "bin", tmp_path / "kubeseal.log", tmp_path / "pub-cert.pem"
        self.bin.mkdir()
        kubeseal = self.bin / "kubeseal"
        kubeseal.write_text(f"#!{sys.executable}\n{textwrap.dedent(_FAKE_KUBESEAL)}", encoding="utf-8")
        kubeseal.chmod(0o755)
        self.cert.write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
        self.log.write_text("", encoding="utf-8")

    def file(self, env: str) -> Path:
        return self.root / "secrets" / f"{env}.sealed.yaml"

    def data(self, env: str) -> dict[str, str]:
        doc: Any = yaml.safe_load(self.file(env).read_text(encoding="utf-8"))
        encrypted: dict[str, str] = doc["spec"]["encryptedData"]
        return encrypted

    def leftovers(self) -> list[str]:
        return sorted(
            {p.name for p in (self.root / "secrets").iterdir()} - {f"{e}.sealed.yaml" for e in SEALED_ENVS}
        )

    def keys(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(self.root / "scripts" / "secret-keys.py"), *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def calls(self) -> list[list[str]]:
        return [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines()]

    def run(self, *args: str, stdin: str = "", **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(self.root / "scripts" / "seal-secrets.sh"), *args],
            input=stdin,
            env={
                "PATH": f"{self.bin}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
                "PYTHON": sys.executable,
                "KUBESEAL_LOG": str(self.log),
                **extra,
            },
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


def test_rotating_one_key_reseals_only_that_key(tmp_path: Path) -> None:
    rig = SealRig(tmp_path)
    before = rig.data("prod")
    done = rig.run("prod", str(rig.cert), "redis-password", stdin="n3w-redis-pa55\n")
    assert done.returncode == 0, done.stderr

    assert rig.data("prod") == {**before, "redis-password": sealed_value("n3w-redis-pa55")}, (
        "rotating redis-password changed other keys, or sealed the wrong value"
    )
    (call,) = rig.calls()
    assert call[:7] == ["--cert", str(rig.cert), "--scope", "strict", "--format", "yaml", "--merge-into"]
    assert all("n3w-redis-pa55" not in arg for arg in call), "the value leaked into argv"
    cfg = all_configs()["prod"]
    assert load_sealed(cfg, rig.root)["redis-password"] == sealed_value("n3w-redis-pa55"), (
        "the synth no longer accepts the rotated file"
    )
    meta = yaml.safe_load(rig.file("prod").read_text(encoding="utf-8"))["metadata"]
    assert meta == {"name": cfg.secrets.name, "namespace": cfg.namespace}
    assert rig.leftovers() == [], "temporary files left in secrets/"


def test_a_failure_halfway_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    rig = SealRig(tmp_path)
    before = rig.file("prod").read_bytes()
    done = rig.run(
        "prod",
        str(rig.cert),
        "redis-password",
        "database-url",
        stdin="a\nb\n",
        KUBESEAL_FAIL_ON="database-url",
    )
    assert done.returncode != 0 and len(rig.calls()) == 2
    assert rig.file("prod").read_bytes() == before, "a failed rotation half-wrote the sealed file"
    assert rig.leftovers() == [], "temporary files left in secrets/"


@pytest.mark.parametrize("env", SEALED_ENVS)
def test_without_keys_every_required_key_is_sealed(env: str, tmp_path: Path) -> None:
    """The dry run shows the plan: one merge per key the config requires, none sealed for real."""
    rig = SealRig(tmp_path)
    before = rig.file(env).read_bytes()
    done = rig.run("--dry-run", env, "pub-cert.pem")
    assert done.returncode == 0, done.stderr
    cfg = all_configs()[env]
    rel = f"secrets/{env}.sealed.yaml"
    seal = f"kubeseal --cert pub-cert.pem --scope strict --format yaml --merge-into {rel}.new"
    assert done.stdout.splitlines()[1:] == [
        f"scripts/secret-keys.py {env} --manifest {rel} > {rel}.new",
        *(
            f"<Secret {cfg.namespace}/{cfg.secrets.name} with {key}> | {seal}"
            for key in Topology.of(cfg).secret_keys
        ),
        f"mv {rel}.new {rel}",
    ]
    assert rig.calls() == [] and rig.file(env).read_bytes() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("prod", "pub-cert.pem", "redis-pasword"), "seal-secrets.sh: prod needs no key 'redis-pasword': "),
        (
            ("no_such_env", "pub-cert.pem"),  # no environment can be named so: names are DNS labels
            f"secret-keys.py: unknown environment 'no_such_env': choose one of {', '.join(names())}",
        ),
        (("dev", "pub-cert.pem"), "secret-keys.py: dev does not use sealed secrets"),
        (("prod",), "seal-secrets.sh: usage: seal-secrets.sh [--dry-run] ENV CERT.pem [KEY ...]"),
    ],
    ids=["unknown-key", "unknown-env", "unsealed-env", "no-cert"],
)
def test_mistakes_are_one_line(args: tuple[str, ...], message: str, tmp_path: Path) -> None:
    rig = SealRig(tmp_path)
    done = rig.run(*args)
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith(message), done.stderr
    assert rig.calls() == []


def test_an_encrypted_data_only_file_becomes_a_full_manifest(tmp_path: Path) -> None:
    """Files sealed before the manifest format keep every value; another Secret's manifest is refused.

    The refusal runs the script; the conversion calls its ``main`` in this process (the
    rotation above runs ``--manifest`` end to end)."""
    rig = SealRig(tmp_path)
    done = rig.keys("prod", "--manifest", str(rig.file("staging")))
    assert done.returncode == 2, "a staging manifest was accepted for prod"
    assert done.stderr.startswith("secret-keys.py: ") and "sealed for staging/vibeyard-secrets" in done.stderr

    old = {key: f"AgOLD-{key}" for key in rig.data("staging")}
    rig.file("staging").write_text(yaml.safe_dump({"encryptedData": old}), encoding="utf-8")
    doc = yaml.safe_load(secret_keys().main(["staging", "--manifest", str(rig.file("staging"))]))
    assert (doc["kind"], doc["metadata"]["namespace"], doc["spec"]["encryptedData"]) == (
        "SealedSecret",
        "staging",
        old,
    )


@pytest.mark.parametrize("env", SEALED_ENVS)
def test_committed_sealed_files_are_full_manifests_labelled_as_placeholders(env: str) -> None:
    """kubeseal --merge-into needs a SealedSecret manifest; a placeholder must say so and look like one."""
    cfg = all_configs()[env]
    path = ROOT / (cfg.secrets.sealed_file or "")
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert doc["kind"] == "SealedSecret" and doc["apiVersion"] == "bitnami.com/v1alpha1"
    assert doc["metadata"] == {"name": cfg.secrets.name, "namespace": cfg.namespace}
    placeholders = [k for k, v in doc["spec"]["encryptedData"].items() if "PLACEHOLDER" in v]
    if placeholders:
        assert path.read_text(encoding="utf-8").startswith("# PLACEHOLDERS"), f"{path.name}: label it"
        assert all(doc["spec"]["encryptedData"][k].startswith("AgPLACEHOLDER") for k in placeholders)


# deploy.yml's jobs, executed step by step against a local bare remote: tests/test_deploy_run.py.

DEPLOY = ROOT / ".github" / "workflows" / "deploy.yml"


# --------------------------------------------------------------------------- docs/release.md

RELEASE_DOC = ROOT / "docs" / "release.md"
# kubeseal v0.36.6's own flags (cmd/kubeseal/main.go at that tag) plus the kubeconfig flags
# it inherits; a documented flag outside this set would fail for the reader.
KUBESEAL_FLAGS = {
    *("cert", "controller-namespace", "controller-name", "format", "sealed-secret-file", "secret-file"),
    *("fetch-cert", "allow-empty-data", "validate", "merge-into", "raw", "name", "from-file", "scope"),
    *("rotate", "re-encrypt", "recovery-unseal", "recovery-private-key", "kubeconfig", "namespace"),
}


def doc_commands(prefix: str) -> list[str]:
    """Command lines in the doc's code blocks (continuations joined) that start with ``prefix``."""
    text = RELEASE_DOC.read_text("utf-8")
    blocks = re.findall(r"^```sh\n(.*?)^```", text, re.M | re.S)
    lines = [line.strip() for block in blocks for line in block.replace("\\\n", " ").splitlines()]
    inline = [" ".join(span.split()) for span in re.findall(r"(?<!`)`([^`]+)`(?!`)", text)]
    return [c for c in [*lines, *inline] if re.search(rf"(^|\| ){re.escape(prefix)}", c)]


def test_release_doc_dispatches_only_inputs_the_deploy_workflow_accepts() -> None:
    inputs = yaml.safe_load(DEPLOY.read_text("utf-8"))[True]["workflow_dispatch"]["inputs"]
    commands = [c for c in doc_commands("gh workflow run") if "deploy.yml" in c]
    assert len(commands) >= 3, f"docs/release.md should show release, promote and re-release: {commands}"
    for command in commands:
        for name, val in re.findall(r"-f (\w+)=(\S+)", command):
            assert name in inputs, f"docs/release.md: deploy.yml has no input {name!r}: {command}"
            if "options" in inputs[name]:
                assert val in inputs[name]["options"], (
                    f"docs/release.md: {name}={val} is no option: {command}"
                )
    assert any("-f promote=true" in c and "environment=prod" in c for c in commands), "document promotion"


def test_release_doc_uses_existing_scripts_make_targets_and_kubeseal_flags() -> None:
    for command in doc_commands("scripts/"):
        script_path = ROOT / re.search(r"scripts/[\w.-]+", command)[0]  # type: ignore[index]
        assert script_path.is_file() and os.access(script_path, os.X_OK), f"docs/release.md: {command}"
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text("utf-8"), re.M))
    made = [(m[1], c) for c in doc_commands("") for m in re.finditer(r"(?:^|\s)make ([\w-]+)", c)]
    assert {"synth", "test"} <= {target for target, _ in made}, made
    for target, command in made:
        assert target in targets, f"docs/release.md: no make target {target!r}: {command}"
    kubeseal = doc_commands("kubeseal")
    assert kubeseal, "docs/release.md: show the kubeseal commands"
    for command in kubeseal:
        used = set(re.findall(r"--([\w-]+)", command.split("kubeseal", 1)[1]))
        assert used <= KUBESEAL_FLAGS, f"docs/release.md: kubeseal v0.36.6 has no {used - KUBESEAL_FLAGS}"
    assert any("--merge-into" in c for c in kubeseal), "key rotation uses kubeseal --merge-into"
