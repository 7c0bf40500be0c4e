"""deploy.yml executed: its resolve, render and publish jobs, step by step, against a local bare remote.

Each job gets a fresh clone (as on a runner); step ``env:``, ``if:`` and job outputs are
wired by evaluating the workflow's own expressions, so a miswired output fails here. The
workflow's ``uses:`` steps are left out, except ``actions/checkout`` with a ``path`` (a
clone of that ref) and the artifact pair (a shared folder). On PATH, stand-ins:

* ``make``: ``synth`` resolves the image with the real config code (``vibeyard.synth.inputs``)
  and writes it into a one-Deployment ``dist/<env>/``; ``test`` records the commit it tested;
  ``check-ready`` runs the real ``scripts/check-ready.py``;
* ``trivy``: writes the JSON report the test chose and records the reference it scanned;
* ``cosign``: records its arguments and fails when told to;
* ``gh``: records its arguments;
* ``python3`` (the resolve job's, the runner's own): the interpreter running these tests, not
  whatever PATH holds (a version manager's shim costs more than the script it starts).

The scripts the steps call (deploy-resolve, release-image, image-gate, check-ready) and
``dist/environments.json`` are the real ones, committed into the remote. The remote and the
stand-ins are built once per module; each test gets its own copy of the remote.

What is proven: a release is tested before anyone can approve it and published as exactly
that commit; never pushed over a moved branch; a run that renders nothing new asks no
approval and checks nothing; the image gate fails on a fixable finding at the threshold,
passes one below it or accepted until a future date, and fails on an expired acceptance
(its cases: tests/test_image_gate.py, on the inputs this step gives the script; here, a
pass and a promotion's failure prove the wiring: the threshold variable and its default, the
deployed branch's ignore file, the summary, no ``make test`` after a failed gate, SARIF); an
environment that verifies signatures refuses a release without a digest (also a promotion)
and a failed signature check blocks publishing, and one that does not runs no cosign; a
promotion scans the staged digest again; a template value left in dist/ blocks publishing.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.test_image_gate import accept, ignore_file, vuln
from tests.test_release_flow import git
from vibeyard.config import all_configs
from vibeyard.config.organisation import ORG

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / ".github" / "workflows" / "deploy.yml"
ENVIRONMENTS = json.loads((ROOT / "dist" / "environments.json").read_text(encoding="utf-8"))
WORKFLOW: dict[str, Any] = yaml.safe_load(DEPLOY.read_text("utf-8"))
RELEASES = WORKFLOW["env"]["RELEASES"]  # where the records live
DIGEST = "sha256:" + "5eed" * 16
STAGED = "sha256:" + "57a9" * 16
SEEDED = (
    "scripts/deploy-resolve.py",
    "scripts/release-image.py",
    "scripts/image-gate.py",
    "scripts/check-ready.py",
    ".trivyignore.yaml",
    "dist/environments.json",
)
PAYLOAD = ("environment", "image_tag", "image_digest")
_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_COMPARE = re.compile(r"^([\w.-]+) (==|!=) '([^']*)'$")


def deployed() -> dict[str, dict[str, Any]]:
    return {name: spec for name, spec in ENVIRONMENTS.items() if spec.get("gitops")}


def verifying() -> str:
    """A deployed environment whose releases are signature-checked (prod in the template)."""
    found = [name for name in deployed() if all_configs()[name].signatures.verify]
    assert found, "no deployed environment verifies signatures (signatures.verify)"
    return found[0]


def promotion() -> tuple[str, str]:
    """(target, source) of a promotion in dist/environments.json."""
    found = [
        (n, s["gitops"]["promote_from"]) for n, s in deployed().items() if s["gitops"].get("promote_from")
    ]
    assert found, "dist/environments.json promotes nothing"
    return found[0]


def plain() -> str:
    """A deployed environment that neither verifies signatures nor needs a digest."""
    found = [name for name in deployed() if not all_configs()[name].signatures.verify]
    assert found, (
        "every deployed environment verifies signatures; the plain-release tests need one that does not"
    )
    return found[0]


# Stands in for `make synth ENV=<env>`: the image exactly as cli.main resolves it (override,
# then the release record, then the code's default), written as one app Deployment with a
# filled-in registry, plus dist/<env>/image.txt and the signer filled in; records the release
# when VIBEYARD_IMAGE_TAG is set.
_FAKE_SYNTH = """
import os, sys
from pathlib import Path
sys.path.insert(0, os.environ["CONSTRUCTS"])
from vibeyard.synth.inputs import IMAGE_TAG_VAR, release_rel, release_text, resolve
root, env = Path.cwd(), sys.argv[1]
(cfg,), _ = resolve([env], os.environ, root)
out = root / "dist" / env
out.mkdir(parents=True, exist_ok=True)
(out / "image.txt").write_text(f"{cfg.image.tag} {cfg.image.digest or ''}\\n")
envs = root / "dist" / "environments.json"  # the signer too, as a filled-in organisation's
envs.write_text(envs.read_text().replace("your-org", "acme-robotics"))
pin = f"@{cfg.image.digest}" if cfg.image.digest else ""
image = f"ghcr.io/acme-robotics/vibeyard:{cfg.image.tag}{pin}"
(out / "09-deployment-vibeyard.yaml").write_text(
    "apiVersion: apps/v1\\nkind: Deployment\\nmetadata:\\n  name: vibeyard\\n  labels:\\n"
    "    app.kubernetes.io/component: web\\nspec:\\n  template:\\n    spec:\\n      containers:\\n"
    f"      - name: vibeyard\\n        image: {image}\\n        imagePullPolicy: IfNotPresent\\n"
)
if os.environ.get(IMAGE_TAG_VAR):
    (root / release_rel(env)).parent.mkdir(parents=True, exist_ok=True)
    (root / release_rel(env)).write_text(release_text(cfg.image.tag, cfg.image.digest))
"""
_FAKE_MAKE = """#!/usr/bin/env bash
set -eu
case "$1" in
  install) ;;
  --no-print-directory) shift; exec "$0" "$@" ;;
  synth)
    [[ "$2" == ENV=* ]] || { echo "unexpected make $*" >&2; exit 2; }
    printf '%s\\n' "${VIBEYARD_IMAGE_TAG-<unset>} ${VIBEYARD_IMAGE_DIGEST-<unset>} $*" >> "$MAKE_LOG"
    exec "$FAKE_PYTHON" -c "$FAKE_SYNTH" "${2#ENV=}" ;;
  check-ready)
    printf 'check-ready %s\\n' "${2#ENV=}" >> "$MAKE_LOG"
    exec "$FAKE_PYTHON" scripts/check-ready.py "${2#ENV=}" ;;
  test)
    printf 'test %s %s\\n' "$(git rev-parse HEAD)" "$(git status --porcelain | wc -l)" >> "$MAKE_LOG"
    [ -z "${FAIL_TESTS:-}" ] ;;
  *) echo "unexpected make $*" >&2; exit 2 ;;
esac
"""
# Trivy: `image --format json --output FILE REF` writes the report the test chose (a Trivy
# JSON report of REF); `convert --format sarif --output FILE REPORT` writes a SARIF stub.
# Anything else fails. Bash, as the other stand-ins: a Python start per call costs more.
_FAKE_TRIVY = """#!/usr/bin/env bash
printf '%s\\n' "$*" >> "$TRIVY_LOG"
command=$1 format= output=
while [ $# -gt 1 ]; do  # leaves the last argument in $1
  case "$1" in --format) format=$2 ;; --output) output=$2 ;; esac
  shift
done
case "$command $format" in
  "image json")
    {
      printf '{"SchemaVersion": 2, "ArtifactName": "%s", "ArtifactType": "container_image",\\n' "$1"
      printf ' "Results": [{"Target": "app (alpine 3.22)", "Class": "os-pkgs", "Vulnerabilities": %s}]}\\n' \\
        "${FAKE_TRIVY_VULNS:-[]}"
    } > "$output" ;;
  "convert sarif")
    [ -s "$1" ] || { echo "fake trivy: no report at $1" >&2; exit 1; }
    echo '{"version": "2.1.0", "runs": []}' > "$output" ;;
  *) echo "fake trivy: unexpected arguments" >&2; exit 2 ;;
esac
"""
_FAKE_COSIGN = """#!/usr/bin/env bash
printf '%s\\n' "$*" >> "$COSIGN_LOG"
case "$1" in
  verify) [ -z "${FAKE_COSIGN_UNSIGNED:-}" ] || { echo "Error: no matching signatures" >&2; exit 1; } ;;
  verify-attestation) [ -z "${FAKE_COSIGN_NO_PROVENANCE:-}" ] || { echo "Error: none found" >&2; exit 1; } ;;
  *) echo "fake cosign: unexpected $*" >&2; exit 2 ;;
esac
echo '[{"critical": {"image": {"docker-manifest-digest": "checked"}}}]'
"""
_FAKE_GH = """#!/usr/bin/env bash
printf '%s\\n' "$*" >> "$GH_LOG"
"""


class Condition:
    """The few ``if:`` forms deploy.yml uses; anything else fails the test, so it is noticed."""

    def __init__(self, lookup: Callable[[str], str]) -> None:
        self.lookup = lookup

    def holds(self, raw: object) -> bool:
        if raw is None:
            return True
        found = _EXPR.fullmatch(str(raw).strip())
        text = found[1] if found else str(raw)
        return all(self.term(part.strip()) for part in text.split("&&"))

    def term(self, term: str) -> bool:
        if term in ("!cancelled()", "!failure()", "always()"):
            return True
        found = _COMPARE.match(term)
        assert found, f"the deploy rig cannot evaluate `if: {term}`: teach tests/test_deploy_run.py"
        value = self.lookup(found[1])
        return (value == found[3]) is (found[2] == "==")


class DeployRig:
    """A bare remote with the environments' branches, and deploy.yml's jobs run against it."""

    def __init__(self, tmp_path: Path, template: Path) -> None:
        self.doc = WORKFLOW
        self.tmp = tmp_path
        self.remote, self.bin = tmp_path / "remote.git", template / "bin"
        shutil.copytree(template / "remote.git", self.remote, symlinks=True)
        self.logs = {name: tmp_path / f"{name}.log" for name in ("make", "gh", "trivy", "cosign")}
        self.runs = 0
        self.summaries: dict[str, str] = {}
        self.context = {"github.token": "t0ken", "github.repository": "your-org/vibeyard-deploy"}

    @staticmethod
    def template(path: Path) -> Path:
        """The remote as the tests start from it, and the stand-ins: built once, copied per test."""
        assert shutil.which("git"), "git is required to execute the deploy workflow"
        remote, seed, stand_ins = path / "remote.git", path / "seed", path / "bin"
        git(path, "init", "--quiet", "--bare", "--template=", "--initial-branch=main", str(remote))
        seed.mkdir()
        git(seed, "init", "--quiet", "--initial-branch=main")
        (seed / "README").write_text("deploy repo\n", encoding="utf-8")
        for rel in SEEDED:
            (seed / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, seed / rel)
        (seed / ".trivyignore.yaml").write_text(ignore_file(""), encoding="utf-8")
        (seed / "constructs").symlink_to(ROOT / "constructs")
        git(seed, "add", "-A")
        git(seed, "commit", "--quiet", "-m", "init")
        for spec in deployed().values():
            git(seed, "push", "--quiet", str(remote), f"HEAD:refs/heads/{spec['gitops']['branch']}")
        git(seed, "push", "--quiet", str(remote), "HEAD:refs/heads/main")
        stand_ins.mkdir()
        for name, text in (
            ("make", _FAKE_MAKE),
            ("gh", _FAKE_GH),
            ("trivy", _FAKE_TRIVY),
            ("cosign", _FAKE_COSIGN),
            ("python3", f'#!/bin/sh\nexec {shlex.quote(sys.executable)} "$@"\n'),
        ):
            (stand_ins / name).write_text(text, "utf-8")
            (stand_ins / name).chmod(0o755)
        return path

    def clone(self, work: Path, branch: str) -> Path:
        """A working copy of the branch, borrowing the remote's objects (and without sample hooks)."""
        options = ("--quiet", "--shared", "--template=", "--branch", branch)
        git(self.tmp, "clone", *options, str(self.remote), str(work))
        return work

    def head(self, branch: str) -> str:
        return git(self.remote, "rev-parse", branch).strip()

    def human_push(self, branch: str, change: Callable[[Path], object], message: str) -> str:
        """Someone pushes to the branch; returns github.event.before of that push."""
        before = self.head(branch)
        self.runs += 1
        work = self.clone(self.tmp / f"human-{self.runs}", branch)
        change(work)
        git(work, "add", "-A")
        git(work, "commit", "--quiet", "-m", message)
        git(work, "push", "--quiet", "origin", f"HEAD:refs/heads/{branch}")
        return before

    def base_env(self, runner_temp: Path) -> dict[str, str]:
        return {
            "PATH": f"{self.bin}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(self.tmp),
            "GIT_CONFIG_NOSYSTEM": "1",
            "RUNNER_TEMP": str(runner_temp),
            "GITHUB_WORKFLOW": "Deploy",
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_REPOSITORY": "your-org/vibeyard-deploy",
            "GITHUB_RUN_ID": "1",
            **{f"{name.upper()}_LOG": str(path) for name, path in self.logs.items()},
            "FAKE_PYTHON": sys.executable,
            "FAKE_SYNTH": _FAKE_SYNTH,
            "CONSTRUCTS": str(ROOT / "constructs"),
        }

    def evaluate(self, raw: object, scopes: dict[str, Any]) -> str:
        """``${{ ... }}`` in a value: context paths, and ``a || 'default'``."""

        def one(expr: str) -> str:
            for part in expr.split("||"):
                alternative = part.strip()
                if alternative.startswith("'"):
                    return alternative.strip("'")
                if value := self.lookup(alternative, scopes):
                    return value
            return ""

        return _EXPR.sub(lambda m: one(m[1]), str(raw))

    def lookup(self, path: str, scopes: dict[str, Any]) -> str:
        scope, _, rest = path.partition(".")
        if scope == "steps" and rest.endswith(".outcome"):
            return str(scopes["outcomes"].get(rest.removesuffix(".outcome"), ""))
        if scope in ("steps", "needs"):
            owner, _, key = rest.partition(".outputs.")
            return str(scopes["outputs"].get(f"{scope}.{owner}", {}).get(key, ""))
        if scope == "env":
            return str(scopes["env"].get(rest, ""))
        if scope in ("secrets", "vars", "inputs"):
            return str({**self.context, **scopes["context"]}.get(path, ""))
        return str({**self.context, **scopes["context"]}[path])

    def checkout(self, step: dict[str, Any], work: Path, scopes: dict[str, Any]) -> None:
        """actions/checkout into a sub-folder: a clone of the ref (sparse-checkout is not needed here)."""
        ref = self.evaluate(step["with"]["ref"], scopes)
        self.clone(work / step["with"]["path"], ref)

    def workspace(self, job_id: str, branch: str) -> Path:
        """A fresh clone of ``branch`` for one job, as a runner checks out."""
        self.runs += 1
        work = self.clone(self.tmp / f"{job_id}-{self.runs}", branch)
        (work / ".venv").symlink_to(ROOT / ".venv")  # the project's venv, as `make install` leaves it
        (work / ".git" / "info").mkdir(exist_ok=True)
        (work / ".git" / "info" / "exclude").write_text("/.venv\n", encoding="utf-8")
        return work

    def run_job(
        self,
        job_id: str,
        branch: str,
        context: dict[str, str],
        outputs: dict[str, dict[str, str]],
        extra: dict[str, str],
    ) -> tuple[bool, dict[str, dict[str, str]], str]:
        """Run a job's steps in order, stopping at the first failure, as Actions does."""
        job = self.doc["jobs"][job_id]
        work = self.workspace(job_id, branch)
        runner_temp = self.tmp / "artifact"  # upload-artifact here, download-artifact there
        runner_temp.mkdir(exist_ok=True)
        summary = self.tmp / f"summary-{job_id}-{self.runs}.md"
        scopes: dict[str, Any] = {"outputs": outputs, "context": context, "env": {}, "outcomes": {}}
        scopes["env"] = {k: self.evaluate(v, scopes) for k, v in self.doc.get("env", {}).items()}
        scopes["env"].update({k: self.evaluate(v, scopes) for k, v in job.get("env", {}).items()})
        condition = Condition(lambda path: self.lookup(path, scopes))
        log = ""
        for step in job["steps"]:
            if not condition.holds(step.get("if")):
                continue
            if str(step.get("uses", "")).startswith("actions/checkout@") and "path" in step.get("with", {}):
                self.checkout(step, work, scopes)
            if "run" not in step:
                continue
            out = self.tmp / "github_output"
            out.write_text("", encoding="utf-8")
            step_env = {k: self.evaluate(v, scopes) for k, v in step.get("env", {}).items()}
            proc = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                env={
                    **self.base_env(runner_temp),
                    **scopes["env"],
                    **step_env,
                    **extra,
                    "GITHUB_OUTPUT": str(out),
                    "GITHUB_STEP_SUMMARY": str(summary),
                },
                cwd=work,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            log += f"--- {step.get('name')}\n{proc.stdout}{proc.stderr}"
            if "id" in step:
                outputs[f"steps.{step['id']}"] = dict(
                    line.split("=", 1) for line in out.read_text("utf-8").splitlines()
                )
                scopes["outcomes"][step["id"]] = "success" if proc.returncode == 0 else "failure"
            if proc.returncode != 0:
                self.summaries[job_id] = summary.read_text("utf-8") if summary.exists() else ""
                return False, outputs, log
        outputs[f"needs.{job_id}"] = {k: self.evaluate(v, scopes) for k, v in job.get("outputs", {}).items()}
        self.summaries[job_id] = summary.read_text("utf-8") if summary.exists() else ""
        return True, outputs, log

    def deploy(self, event: str, before: str = "", **request: str) -> tuple[str, dict[str, str], str]:
        """resolve, render, then publish if its condition holds.

        ``request``: ref (a push's branch), environment, tag, digest, promote, and the
        stand-ins' switches (FAIL_TESTS, FAKE_TRIVY_VULNS, FAKE_COSIGN_UNSIGNED, ...).
        """
        for path in self.logs.values():
            path.write_text("", encoding="utf-8")
        shutil.rmtree(self.tmp / "artifact", ignore_errors=True)
        ref = request.pop("ref", "main")
        context = {
            "github.event_name": event,
            "github.event.before": before,
            "github.ref_name": ref,
            "inputs.environment": request.pop("environment", ""),
            "inputs.image_tag": request.pop("tag", "") if event == "workflow_dispatch" else "",
            "inputs.image_digest": request.pop("digest", "") if event == "workflow_dispatch" else "",
            "inputs.promote": request.pop("promote", "false"),
            **{f"github.event.client_payload.{key}": request.pop(f"payload_{key}", "") for key in PAYLOAD},
        }
        extra = {"GITHUB_EVENT_NAME": event, **request}
        ok, outputs, log = self.run_job("resolve", ref, context, {}, extra)
        if not ok:
            return "resolve failed", {}, log
        branch = outputs["needs.resolve"]["branch"]
        ok, outputs, more = self.run_job("render", branch, context, outputs, extra)
        log += more
        if not ok:
            return "render failed", outputs.get("needs.render", {}), log
        render = outputs["needs.render"]
        if not Condition(lambda path: self.lookup(path, {"outputs": outputs})).holds(
            self.doc["jobs"]["publish"]["if"]
        ):
            return "published nothing", render, log
        ok, outputs, more = self.run_job("publish", branch, context, outputs, {})
        return ("published" if ok else "publish failed"), render, log + more

    def calls(self, tool: str) -> list[str]:
        return self.logs[tool].read_text("utf-8").splitlines()

    def remote_file(self, branch: str, path: str) -> str:
        return git(self.remote, "show", f"{branch}:{path}")


def branch_of(env: str) -> str:
    branch: str = deployed()[env]["gitops"]["branch"]
    return branch


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return DeployRig.template(tmp_path_factory.mktemp("deploy"))


@pytest.fixture
def rig(tmp_path: Path, template: Path) -> DeployRig:
    return DeployRig(tmp_path, template)


# --------------------------------------------------------------------------- the release path


def test_deploy_renders_checks_tests_then_publishes_the_tested_commit(rig: DeployRig) -> None:
    env = plain()
    branch = branch_of(env)
    start = rig.head(branch)
    _first_release(rig, env, branch, start)
    _push_without_rendered_change(rig, env, branch)
    second = _tag_only_release(rig, env, branch)
    _revert(rig, branch, second)


def _first_release(rig: DeployRig, env: str, branch: str, start: str) -> None:

    # No release recorded yet: a push has nothing to reproduce and must say so.
    result, _, log = rig.deploy("push", before=start, ref=branch)
    assert result == "render failed" and "::error" in log and f"{RELEASES}/{env}.json" in log, log
    assert rig.calls("make") == [], "deploy.yml: a push without a release must not render the default tag"

    # A dispatch with tag and digest: commit, checks, `make test` on exactly that commit, publish.
    result, render, log = rig.deploy("workflow_dispatch", environment=env, tag="sha-0f3c9e1", digest=DIGEST)
    assert result == "published", log
    commit = render["commit"]
    assert render["changed"] == "true" and render["deployable"] == "true" and render["base"] == start
    assert rig.calls("make") == [
        f"sha-0f3c9e1 {DIGEST} synth ENV={env}",
        f"check-ready {env}",
        f"test {commit} 0",
    ], "deploy.yml: check-ready, then `make test` once, on the release commit, in a clean tree"
    assert rig.calls("trivy")[0].endswith(f" ghcr.io/acme-robotics/vibeyard@{DIGEST}"), (
        "deploy.yml: the scan must be of repository@digest, exactly what the pods pull"
    )
    assert rig.calls("cosign") == [], f"deploy.yml: {env} verifies no signature, so no cosign runs"
    assert rig.head(branch) == commit, "deploy.yml: publish pushed something other than the tested commit"
    assert json.loads(rig.remote_file(branch, f"{RELEASES}/{env}.json")) == {
        "tag": "sha-0f3c9e1",
        "digest": DIGEST,
    }
    subject = git(rig.remote, "log", "-1", "--format=%s", branch).strip()
    assert subject == f"deploy({env}): vibeyard sha-0f3c9e1@{DIGEST}", subject
    assert f"+sha-0f3c9e1 {DIGEST}" in rig.summaries["render"].splitlines(), "the approver sees the new image"
    assert "## Image gate: passed" in rig.summaries["render"], "the approver sees the scan"
    assert f"pushed `{commit}` to `{branch}`" in rig.summaries["publish"]
    assert rig.calls("gh") == [f"workflow run ci.yml --ref {branch}"]


def _push_without_rendered_change(rig: DeployRig, env: str, branch: str) -> None:
    # A push that changes no rendered output: nothing to commit, check, approve or apply.
    before = rig.human_push(branch, lambda w: (w / "README").write_text("docs only\n", "utf-8"), "docs")
    result, render, log = rig.deploy("push", before=before, ref=branch)
    assert result == "published nothing", log
    assert (render["changed"], render["deployable"]) == ("false", "false"), render
    assert [c for c in rig.calls("make") if not c.endswith(f"synth ENV={env}")] == [], "nothing new to check"
    assert rig.calls("trivy") == [], "nothing new to scan"
    assert "no approval is requested" in rig.summaries["render"]


def _tag_only_release(rig: DeployRig, env: str, branch: str) -> str:
    # A tag-only release (allowed where no signature is checked) replaces the record whole.
    result, render, log = rig.deploy("workflow_dispatch", environment=env, tag="sha-1a2b3c4")
    assert result == "published", log
    assert json.loads(rig.remote_file(branch, f"{RELEASES}/{env}.json")) == {"tag": "sha-1a2b3c4"}
    assert rig.remote_file(branch, f"dist/{env}/image.txt") == "sha-1a2b3c4 \n", (
        "deploy.yml: a release without a digest kept the previous release's digest (the old image)"
    )
    assert rig.calls("trivy")[0].endswith(" ghcr.io/acme-robotics/vibeyard:sha-1a2b3c4")
    return str(render["commit"])


def _revert(rig: DeployRig, branch: str, second: str) -> None:
    # Rollback, a human revert of that release: already rendered (nothing to commit or
    # approve), but dist/ changed, so it is checked again and the summary shows it.
    before = rig.human_push(branch, lambda w: git(w, "revert", "--no-commit", second), "revert the release")
    result, render, log = rig.deploy("push", before=before, ref=branch)
    assert result == "published nothing" and render["deployable"] == "true", (result, render, log)
    lines = rig.summaries["render"].splitlines()
    assert "-sha-1a2b3c4 " in lines and f"+sha-0f3c9e1 {DIGEST}" in lines, "show the rollback's image change"
    assert rig.calls("trivy")[0].endswith(f" ghcr.io/acme-robotics/vibeyard@{DIGEST}"), (
        "the rollback is scanned"
    )


def test_deploy_never_pushes_an_untested_or_stale_commit(rig: DeployRig) -> None:
    env = plain()
    branch = branch_of(env)
    start = rig.head(branch)

    result, _, log = rig.deploy("workflow_dispatch", environment=env, tag="sha-0f3c9e1", FAIL_TESTS="1")
    assert result == "render failed" and rig.head(branch) == start, (
        f"a commit failing `make test` was pushed: {log}"
    )

    # The branch moves while the release waits for approval: the approved diff is stale.
    context = {
        "github.event_name": "workflow_dispatch",
        "github.ref_name": "main",
        "github.event.before": "",
        "inputs.environment": env,
        "inputs.image_tag": "sha-0f3c9e1",
        **{f"github.event.client_payload.{key}": "" for key in PAYLOAD},
    }
    ok, outputs, log = rig.run_job("resolve", "main", context, {}, {})
    assert ok, log
    ok, outputs, log = rig.run_job("render", branch, context, outputs, {})
    assert ok, log
    moved = rig.human_push(branch, lambda w: (w / "README").write_text("meanwhile\n", "utf-8"), "meanwhile")
    ok, _, log = rig.run_job("publish", branch, context, outputs, {})
    assert not ok and f"{branch} moved since the render" in log, log
    assert git(rig.remote, "rev-parse", f"{branch}~1").strip() == moved, "publish pushed over the new commit"


def test_a_template_value_left_in_dist_blocks_publishing(rig: DeployRig) -> None:
    env = plain()
    branch = branch_of(env)
    sealed = f"dist/{env}/04-sealedsecret-vibeyard-secrets.yaml"

    def plant(work: Path) -> None:
        (work / sealed).parent.mkdir(parents=True, exist_ok=True)
        (work / sealed).write_text(
            "kind: SealedSecret\nspec:\n  encryptedData:\n    redis-password: AgPLACEHOLDER-reseal-me\n",
            "utf-8",
        )

    rig.human_push(branch, plant, "an unsealed secret")
    start = rig.head(branch)
    result, _, log = rig.deploy("workflow_dispatch", environment=env, tag="sha-0f3c9e1")
    assert result == "render failed" and rig.head(branch) == start, log
    assert f"{sealed}: spec.encryptedData.redis-password = AgPLACEHOLDER-reseal-me" in log, log
    assert f"seal-secrets.sh {env}" in log and "::error title=deploy::" in log, log
    assert [c for c in rig.calls("make") if c.startswith("test")] == [], "checked before testing"


# --------------------------------------------------------------------------- the image gate


def test_the_image_gate_runs_before_the_approval(rig: DeployRig) -> None:
    """The gate's wiring, passing: the threshold variable and the deployed branch's ignore file
    reach it, its table is in the summary. Failing, at the default threshold: the promotion
    test. Its cases, on the inputs this step gives it: tests/test_image_gate.py."""
    env = plain()
    branch = branch_of(env)
    accepted = ignore_file(accept("CVE-2026-0005", 30))
    rig.human_push(branch, lambda w: (w / ".trivyignore.yaml").write_text(accepted, "utf-8"), "accept a risk")
    rig.context["vars.IMAGE_SCAN_SEVERITY"] = "CRITICAL"
    findings = [vuln("CVE-2026-0001", "HIGH", "3.5.2-r0"), vuln("CVE-2026-0005", "CRITICAL", "3.5.2-r0")]
    result, _, log = rig.deploy(
        "workflow_dispatch", environment=env, tag="sha-0f3c9e1", FAKE_TRIVY_VULNS=json.dumps(findings)
    )
    summary = rig.summaries["render"]
    assert result == "published" and "## Image gate: passed" in summary, (log, summary)
    assert "| HIGH | CVE-2026-0001 |" in summary and "below the threshold" in summary, summary
    assert "| CRITICAL | CVE-2026-0005 |" in summary and "accepted until" in summary, summary
    assert any(c.startswith("convert --format sarif") for c in rig.calls("trivy")), "SARIF for code scanning"


# --------------------------------------------------------------------------- signatures and digests


def test_an_environment_that_verifies_signatures_refuses_a_release_without_a_digest(rig: DeployRig) -> None:
    env = verifying()
    branch = branch_of(env)
    start = rig.head(branch)
    result, _, log = rig.deploy("workflow_dispatch", environment=env, tag="v1.4.2")
    assert result == "render failed" and rig.head(branch) == start, log
    errors = [line for line in log.splitlines() if line.startswith("::error")]
    assert len(errors) == 1 and "has no digest" in errors[0] and "image_digest=" in errors[0], errors
    assert rig.calls("trivy") == [] and rig.calls("cosign") == [], (
        "nothing is scanned or verified without a digest"
    )


def test_a_failed_signature_check_blocks_publishing(rig: DeployRig) -> None:
    env = verifying()
    branch = branch_of(env)
    start = rig.head(branch)
    result, _, log = rig.deploy(
        "workflow_dispatch", environment=env, tag="v1.4.2", digest=DIGEST, FAKE_COSIGN_UNSIGNED="1"
    )
    assert result == "render failed" and rig.head(branch) == start, log
    assert "::error title=signature::" in log and "no valid cosign signature" in log, log
    (call,) = rig.calls("cosign")
    signer = ORG.image_signer_identity.replace("your-org", "acme-robotics")
    assert call == (
        f"verify --certificate-identity-regexp {signer} "
        f"--certificate-oidc-issuer {ORG.image_signer_issuer} ghcr.io/acme-robotics/vibeyard@{DIGEST}"
    ), call

    # Signed: published, and the summary says what was verified.
    result, _, log = rig.deploy("workflow_dispatch", environment=env, tag="v1.4.2", digest=DIGEST)
    assert result == "published", log
    assert "## Image signature: verified" in rig.summaries["render"]


def test_missing_provenance_blocks_publishing_where_it_is_required(rig: DeployRig) -> None:
    env = verifying()
    rig.context["vars.IMAGE_PROVENANCE_TYPE"] = "slsaprovenance1"
    result, _, log = rig.deploy(
        "workflow_dispatch", environment=env, tag="v1.4.2", digest=DIGEST, FAKE_COSIGN_NO_PROVENANCE="1"
    )
    assert result == "render failed" and "no valid slsaprovenance1 attestation" in log, log
    assert rig.calls("cosign")[1].startswith("verify-attestation --type slsaprovenance1 "), rig.calls(
        "cosign"
    )


# --------------------------------------------------------------------------- promotion


def released(rig: DeployRig, env: str, record: dict[str, str]) -> None:
    """The release record a deploy to ``env`` leaves on its branch, pushed as it is: all a
    promotion reads of it. (Such a deploy and its exact record: the release path test.)"""

    def write(work: Path) -> None:
        (work / RELEASES).mkdir(parents=True, exist_ok=True)
        (work / RELEASES / f"{env}.json").write_text(json.dumps(record), "utf-8")

    rig.human_push(branch_of(env), write, f"release {env}")


def test_promotion_rescans_and_verifies_the_staged_digest(rig: DeployRig) -> None:
    target, source = promotion()
    released(rig, source, {"tag": "sha-0f3c9e1", "digest": STAGED})

    # A CVE published since the staging release: the promotion scans the same digest again,
    # and the gate (HIGH without the variable) stops it before `make test`.
    cves = json.dumps(
        [vuln("CVE-2026-0003", "MEDIUM", "3.5.3-r0"), vuln("CVE-2026-0009", "HIGH", "3.5.3-r0")]
    )
    start = rig.head(branch_of(target))
    result, _, log = rig.deploy(
        "workflow_dispatch", environment=target, promote="true", FAKE_TRIVY_VULNS=cves
    )
    summary = rig.summaries["render"]
    assert result == "render failed" and rig.head(branch_of(target)) == start, log
    assert f"Promoting the {source} release: sha-0f3c9e1@{STAGED}" in log
    assert rig.calls("trivy")[0].endswith(f" ghcr.io/acme-robotics/vibeyard@{STAGED}"), rig.calls("trivy")
    errors = [line for line in log.splitlines() if line.startswith("::error title=image gate::")]
    assert "## Image gate: FAILED" in summary and any("(severity HIGH," in e for e in errors), (log, summary)
    assert any("CVE-2026-0009" in e for e in errors), errors
    assert "| MEDIUM | CVE-2026-0003 |" in summary and "below the threshold" in summary, summary
    assert [c for c in rig.calls("make") if c.startswith("test")] == [], "the gate stops the run before tests"
    assert any(c.startswith("convert --format sarif") for c in rig.calls("trivy")), "SARIF for code scanning"

    result, _, log = rig.deploy("workflow_dispatch", environment=target, promote="true")
    assert result == "published", log
    assert json.loads(rig.remote_file(branch_of(target), f"{RELEASES}/{target}.json")) == {
        "tag": "sha-0f3c9e1",
        "digest": STAGED,
    }


def test_a_promotion_without_a_staged_digest_is_refused(rig: DeployRig) -> None:
    target, source = promotion()
    released(rig, source, {"tag": "sha-0f3c9e1"})
    result, _, log = rig.deploy("workflow_dispatch", environment=target, promote="true")
    assert f"Promoting the {source} release: sha-0f3c9e1\n" in log, log
    if all_configs()[target].signatures.verify:
        assert result == "render failed", log
        errors = [line for line in log.splitlines() if line.startswith("::error")]
        assert len(errors) == 1 and f"release {source} with image_digest=" in errors[0], errors
    else:
        assert result == "published", log
