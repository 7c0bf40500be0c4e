"""``make check-ready ENV=<env>``: every template value left in what an environment deploys.

Run as the user runs it (``scripts/check-ready.py``, the script behind the make target, in
its own interpreter) on the first case; the others call the script's ``main`` in this process:

* the committed template: every environment Argo CD deploys lists its placeholders, one
  line each, and fails; what it must list is found here independently, by a plain text
  search of the same files for the template's markers;
* a filled-in copy: the same output with every organisation value replaced by a realistic
  one and every secret sealed; it passes. ``filled_in`` builds that copy; once a rendered
  filled-in variant exists, point it there instead (the rest does not change);
* planted defects in the filled-in copy (a local image, a leftover placeholder), each
  reported on its own line with how to fix it.

The environments come from ``dist/environments.json``, never from a list here.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"
SCRIPT = ROOT / "scripts" / "check-ready.py"
ENVIRONMENTS: dict[str, Any] = json.loads((DIST / "environments.json").read_text(encoding="utf-8"))
DEPLOYED = tuple(sorted(name for name, spec in ENVIRONMENTS.items() if spec.get("gitops")))
LOCAL = tuple(sorted(name for name, spec in ENVIRONMENTS.items() if not spec.get("gitops")))

# What the template ships with, as a reader would grep for it. Independent of the script's table.
MARKERS = ("your-org", "example.com", "AgPLACEHOLDER", "cluster-abc123")

# A realistic organisation, replacing the template's values in the rendered text.
FILLED_IN = {
    "github.com/your-org/": "github.com/acme-robotics/",
    "github\\\\.com/your-org/": "github\\\\.com/acme-robotics/",  # the signer's regexp, as JSON
    "ghcr.io/your-org": "ghcr.io/acme-robotics",
    "prod-eu-west-1.k8s.example.com": "4F1C2D3E5A6B7C8D9E0F1A2B3C4D5E6F.gr7.eu-west-1.eks.amazonaws.com",
    "vibeyard.example.com": "vibeyard.acme-robotics.io",
    "cluster-abc123": "cluster-c9x2k4m1q7zt",
}
SEALED = re.compile(r"AgPLACEHOLDER-[\w-]+")


@functools.cache
def committed(env: str) -> subprocess.CompletedProcess[str]:
    """End to end: the script in its own interpreter on the committed dist/, once per environment."""
    return subprocess.run(
        [sys.executable, str(SCRIPT), env, "--dist", str(DIST)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@functools.cache
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_ready", SCRIPT)
    assert spec is not None and spec.loader is not None, SCRIPT
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # where dataclasses look a class's module up
    spec.loader.exec_module(module)
    return module


def check_ready(env: str, dist: Path = DIST) -> subprocess.CompletedProcess[str]:
    """The script's ``main`` called in this process: the cases without an interpreter each."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = script().main([env, "--dist", str(dist)])
    return subprocess.CompletedProcess([str(SCRIPT), env], status, out.getvalue(), err.getvalue())


def applications(env: str, dist: Path = DIST) -> list[Path]:
    names = set((ENVIRONMENTS[env].get("gitops") or {}).get("applications") or [])
    return [
        path
        for path in sorted((dist / "argocd").glob("*.yaml"))
        if (doc := yaml.safe_load(path.read_text("utf-8")))["kind"] == "Application"
        and doc["metadata"]["name"] in names
    ]


def deployed_files(env: str, dist: Path = DIST) -> list[Path]:
    return [*sorted((dist / env).glob("*.yaml")), *applications(env, dist)]


def filled_in(env: str, dest: Path) -> Path:
    """A copy of dist/ (this environment and dist/argocd) as a real organisation would render it."""
    out = dest / "dist"
    (out / "argocd").mkdir(parents=True)
    shutil.copy2(DIST / "environments.json", out / "environments.json")
    shutil.copytree(DIST / env, out / env)
    for path in [
        out / "environments.json",
        *sorted((out / env).glob("*.yaml")),
        *sorted((DIST / "argocd").glob("*.yaml")),
    ]:
        target = path if path.is_relative_to(out) else out / "argocd" / path.name
        text = path.read_text("utf-8")
        for template, real in FILLED_IN.items():
            text = text.replace(template, real)
        text = SEALED.sub(lambda m: "AgB" + f"{abs(hash(m[0])):x}" * 12, text)
        target.write_text(text, "utf-8")
    files = [*out.rglob("*.yaml"), out / "environments.json"]
    left = [(p.name, m) for p in files for m in MARKERS if m in p.read_text("utf-8")]
    assert not left, f"the filled-in copy still holds template values: {left}"
    return out


def lines(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in proc.stdout.splitlines() if not line.startswith("check-ready:")]


@pytest.mark.parametrize("env", DEPLOYED)
def test_the_template_is_not_ready_and_every_placeholder_is_listed(env: str) -> None:
    proc = committed(env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    found = lines(proc)
    for path in deployed_files(env):
        text = path.read_text("utf-8")
        shown = path.relative_to(ROOT).as_posix()
        mine = [line for line in found if line.startswith(f"{shown}: ")]
        for marker in MARKERS:
            # Each occurrence of a marker is one value; a value is listed once.
            expected = len(re.findall(rf"[^\s'\"]*{re.escape(marker)}[^\s'\"]*", text))
            listed = sum(1 for line in mine if marker in line.split(": ", 2)[1])
            assert listed == expected, (
                f"{shown}: {expected} value(s) with {marker!r}, listed {listed}:\n{mine}"
            )
    signer = ENVIRONMENTS[env].get("signatures")
    if signer and "your-org" in signer["identity"]:
        # deploy.yml checks a release against the signer in dist/environments.json.
        (line,) = [f for f in found if f.startswith(f"dist/environments.json: {env}.signatures.identity = ")]
        assert "set image_signer_identity in" in line, line
    for line in found:
        file, where, what, fix = line.split(": ", 3)
        assert (ROOT / file).is_file() and " = " in where and what, line
        assert "organisation.py" in fix or "seal-secrets.sh" in fix or "environments.py" in fix, line
    assert proc.stdout.splitlines()[
        -1
    ] == f"check-ready: {env} still has {len(found)} template value(s); " + ("fix them before deploying")


@pytest.mark.parametrize("env", DEPLOYED)
def test_each_placeholder_names_the_field_or_the_file_that_fixes_it(env: str) -> None:
    found = lines(committed(env))
    for line in found:
        _, where, _, fix = line.split(": ", 3)
        value = where.split(" = ", 1)[1]
        if value.startswith("AgPLACEHOLDER"):
            key = where.split(" = ")[0].rsplit(".", 1)[1]
            assert f"scripts/seal-secrets.sh {env} pub-cert.pem {key}" in fix, line
        elif "your-org" in value:
            field = where.split(" = ")[0]
            wanted = (
                "set registry in"
                if field.endswith(".image")
                else "set image_signer_identity in"
                if field == f"{env}.signatures.identity"
                else "set repo_url in"
            )
            assert wanted in fix, line
        elif "cluster-abc123" in value:
            assert "set managed_database_host in" in fix, line


@pytest.mark.parametrize("env", LOCAL)
def test_a_local_environment_may_run_a_local_image(env: str) -> None:
    """Applied by hand to a local cluster (dev): a locally built image and a .localhost host are fine."""
    text = "".join(p.read_text("utf-8") for p in deployed_files(env))
    assert not any(marker in text for marker in MARKERS), f"dist/{env} holds a template marker"
    proc = check_ready(env)
    assert proc.returncode == 0 and lines(proc) == [], proc.stdout + proc.stderr


@pytest.mark.parametrize("env", DEPLOYED)
def test_a_filled_in_organisation_is_ready(env: str, tmp_path: Path) -> None:
    proc = check_ready(env, filled_in(env, tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == f"check-ready: {env} has no template values left"


def test_a_local_image_outside_a_local_environment_is_reported(tmp_path: Path) -> None:
    env = DEPLOYED[0]
    dist = filled_in(env, tmp_path)
    web = next(p for p in sorted((dist / env).glob("*-deployment-vibeyard.yaml")))
    doc = yaml.safe_load(web.read_text("utf-8"))
    container = doc["spec"]["template"]["spec"]["containers"][0]
    container["image"], container["imagePullPolicy"] = "vibeyard:local", "Never"
    web.write_text(yaml.safe_dump(doc), "utf-8")
    proc = check_ready(env, dist)
    assert proc.returncode == 1, proc.stdout
    (line,) = lines(proc)
    assert "vibeyard:local (imagePullPolicy Never): a local-only image: " in line and web.name in line, line


def test_a_placeholder_left_in_a_filled_in_copy_is_the_only_line(tmp_path: Path) -> None:
    env = DEPLOYED[0]
    dist = filled_in(env, tmp_path)
    config = next(p for p in sorted((dist / env).glob("*-httproute-vibeyard.yaml")))
    text = config.read_text("utf-8")
    host = FILLED_IN["vibeyard.example.com"]
    config.write_text(text.replace(host, "vibeyard.example.org", 1), "utf-8")
    proc = check_ready(env, dist)
    assert proc.returncode == 1
    (line,) = lines(proc)
    assert "vibeyard.example.org: a reserved example domain: set base_domain in" in line, line


def test_usage_mistakes_are_one_line_and_exit_2(tmp_path: Path) -> None:
    proc = check_ready("no_such_env")  # no environment can be named so: names are DNS labels
    assert proc.returncode == 2 and proc.stdout == "", proc.stdout
    assert (
        proc.stderr.count("\n") == 1 and "unknown environment 'no_such_env': valid names are" in proc.stderr
    )
    assert all(name in proc.stderr for name in ENVIRONMENTS)
    proc = check_ready(DEPLOYED[0], tmp_path / "nothing")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "run `make synth`" in proc.stderr
