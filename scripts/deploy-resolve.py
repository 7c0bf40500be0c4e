#!/usr/bin/env python3
"""deploy.yml's resolve job: which environment a run deploys, and which image.

    deploy-resolve.py environment   the environment, from the event and dist/environments.json
    deploy-resolve.py image         the image tag and digest: the request's, or for a promotion
                                    the release record of the environment it promotes from

Only the standard library: the resolve job runs the runner's python3 on a sparse checkout,
before any install. Every value arrives through the environment (the workflow's ``env:``),
because a caller-supplied string must never become workflow syntax. Outputs are
``key=value`` lines appended to $GITHUB_OUTPUT; a refused request is one
``::error title=deploy::`` line and exit 1.

The environments are data (``dist/environments.json``, written by the synth): an
environment with a ``gitops`` entry is deployable, its branch is the one its Argo CD
Applications track, and its GitHub environment is its namespace.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

ENVIRONMENTS_FILE = Path(os.environ.get("ENVIRONMENTS_FILE", "dist/environments.json"))
TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")

Environments = dict[str, dict[str, Any]]


class RefusedError(Exception):
    """A request this workflow will not run; the message is the one line the run page shows."""


def env(name: str) -> str:
    return os.environ.get(name, "")


def load_environments() -> Environments:
    try:
        data = json.loads(ENVIRONMENTS_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise RefusedError(
            f"{ENVIRONMENTS_FILE}: cannot read the environments ({err}); run `make synth`"
        ) from err
    if not isinstance(data, dict):
        raise RefusedError(f"{ENVIRONMENTS_FILE}: expected an object of environments; run `make synth`")
    return {name: spec for name, spec in data.items() if isinstance(spec, dict) and spec.get("gitops")}


def by_branch(envs: Environments, branch: str) -> str:
    found = [name for name, spec in envs.items() if spec["gitops"]["branch"] == branch]
    if len(found) != 1:
        pairs = ", ".join(f"{spec['gitops']['branch']} -> {name}" for name, spec in sorted(envs.items()))
        what = "deploys nothing" if not found else f"is tracked by several environments ({', '.join(found)})"
        raise RefusedError(f"push to '{branch}' {what} ({pairs}; {ENVIRONMENTS_FILE})")
    return found[0]


def first_stage(envs: Environments) -> str:
    """An image-published event without an environment goes to the start of the promotion chain."""
    sources = {
        str(spec["gitops"]["promote_from"]) for spec in envs.values() if spec["gitops"].get("promote_from")
    }
    starts = sorted(name for name in sources if name in envs and not envs[name]["gitops"].get("promote_from"))
    if len(starts) != 1:
        raise RefusedError(
            "image-published needs client_payload.environment (no single first stage to default to)"
        )
    return starts[0]


def chosen(envs: Environments) -> str:
    event = env("EVENT_NAME")
    if event == "push":
        return by_branch(envs, env("REF_NAME"))
    if event == "workflow_dispatch":
        name = env("INPUT_ENVIRONMENT").strip()
    elif event == "repository_dispatch":
        if not env("PAYLOAD_TAG"):
            raise RefusedError("image-published needs client_payload.image_tag")
        name = env("PAYLOAD_ENVIRONMENT").strip() or first_stage(envs)
    else:
        raise RefusedError(f"unexpected event {event}")
    if name not in envs:
        valid = ", ".join(sorted(envs))
        raise RefusedError(f"unknown environment '{name}': valid names are {valid} ({ENVIRONMENTS_FILE})")
    return name


def environment() -> dict[str, str]:
    envs = load_environments()
    name = chosen(envs)
    spec, gitops = envs[name], envs[name]["gitops"]
    promote = env("EVENT_NAME") == "workflow_dispatch" and env("INPUT_PROMOTE") == "true"
    source = gitops.get("promote_from") or ""
    if promote and not source:
        froms = sorted(n for n, s in envs.items() if s["gitops"].get("promote_from"))
        raise RefusedError(
            f"{name} is promoted from nothing; promote=true works for: {', '.join(froms) or 'none'}"
        )
    if promote and (env("INPUT_TAG") or env("INPUT_DIGEST")):
        raise RefusedError(
            f"promote takes the image from {source}'s release: leave image_tag and image_digest empty"
        )
    apps = gitops.get("applications") or [f"vibeyard-{name}"]
    return {
        "environment": name,
        "namespace": spec["namespace"],
        "branch": gitops["branch"],
        "github_environment": spec["namespace"],
        "auto_sync": "true" if gitops.get("auto_sync") else "false",
        "applications": " ".join(apps),
        "kube_config_secret": "KUBE_CONFIG_" + re.sub(r"[^A-Z0-9]", "_", name.upper()),
        "promote_from": source if promote else "",
        "promote_branch": envs[source]["gitops"]["branch"] if promote and source in envs else "",
    }


def promoted_release() -> tuple[str, str]:
    """The tag and digest recorded for the environment a promotion takes its image from."""
    source, branch = env("PROMOTE_FROM"), env("PROMOTE_BRANCH")
    record = Path(env("PROMOTED_RELEASES") or "releases") / f"{source}.json"
    if not record.is_file():
        raise RefusedError(
            f"{branch} has no {record.name} in its releases: nothing was released to {source} yet"
        )
    try:
        data = json.loads(record.read_text(encoding="utf-8"))
        tag, digest = str(data["tag"]), str(data.get("digest") or "")
    except (ValueError, KeyError, TypeError) as err:
        raise RefusedError(f"{record.name} on {branch} is not a release record ({err})") from err
    print(f"Promoting the {source} release: {tag}{'@' + digest if digest else ''}")
    return tag, digest


def image() -> dict[str, str]:
    event = env("EVENT_NAME")
    if env("PROMOTE_FROM"):
        tag, digest = promoted_release()
    elif event == "workflow_dispatch":
        tag, digest = env("INPUT_TAG").strip(), env("INPUT_DIGEST").strip()
    elif event == "repository_dispatch":
        tag, digest = env("PAYLOAD_TAG").strip(), env("PAYLOAD_DIGEST").strip()
    else:
        tag, digest = "", ""
    if tag and not TAG.match(tag):
        raise RefusedError(f"image tag '{tag}' is not a valid OCI tag")
    if digest and not DIGEST.match(digest):
        raise RefusedError("image digest must be sha256:<64 hex>")
    if digest and not tag:
        raise RefusedError("an image digest needs its image tag (the tag labels the release)")
    return {"image_tag": tag, "image_digest": digest}


def main(argv: list[str]) -> int:
    steps = {"environment": environment, "image": image}
    if len(argv) != 1 or argv[0] not in steps:
        print(f"usage: deploy-resolve.py {{{'|'.join(steps)}}}", file=sys.stderr)
        return 2
    try:
        outputs = steps[argv[0]]()
    except RefusedError as err:
        print(f"::error title=deploy::{err}")
        return 1
    with open(env("GITHUB_OUTPUT") or os.devnull, "a", encoding="utf-8") as out:
        out.writelines(f"{key}={value}\n" for key, value in outputs.items())
    print(", ".join(f"{key}: {value or '-'}" for key, value in outputs.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
