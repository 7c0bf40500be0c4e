#!/usr/bin/env python3
"""The image a release ships, and how deploy.yml must check it.

    release-image.py ENV [--dist DIR]

Reads the app image from the rendered output (every container of the web, worker and
migration workloads in ``dist/ENV/``: they must all run one reference), and whether to
verify its signature, and whose, from ``dist/environments.json`` (``signatures``); appends
``key=value`` lines to $GITHUB_OUTPUT (stdout when that is not set):

    reference  repository@sha256:... (what is scanned and verified: exactly what the pods pull),
               or repository:tag for a release without a digest where that is allowed
    digest     the digest, or empty
    verify     true when the environment's signatures.verify is on
    identity   the signer's certificate identity (a regular expression), issuer its OIDC issuer

An environment that verifies signatures must be released by digest: a signature is over a
digest, and a tag can be pushed again after the check. Such a release without one is
refused with one line (exit 1); usage mistakes exit 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
# libyaml's safe loader where it is built in: the pure-Python one is several times slower.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


APP_COMPONENTS = {"web", "worker", "migration"}
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "Job", "CronJob", "DaemonSet"}


class RefusedError(Exception):
    pass


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    spec = doc.get("spec") or {}
    if doc.get("kind") == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    found: dict[str, Any] = (spec.get("template") or {}).get("spec") or {}
    return found


def app_images(folder: Path) -> dict[str, list[str]]:
    """Image reference -> the files whose app containers run it."""
    images: dict[str, list[str]] = {}
    for path in sorted(folder.glob("*.yaml")):
        for doc in yaml.load_all(path.read_text(encoding="utf-8"), Loader=LOADER):
            if not isinstance(doc, dict) or doc.get("kind") not in WORKLOAD_KINDS:
                continue
            labels = (doc.get("metadata") or {}).get("labels") or {}
            if labels.get("app.kubernetes.io/component") not in APP_COMPONENTS:
                continue
            spec = pod_spec(doc)
            for container in [*spec.get("initContainers", []), *spec.get("containers", [])]:
                images.setdefault(str(container["image"]), []).append(path.name)
    return images


def split(image: str) -> tuple[str, str, str]:
    """``repo[:tag][@digest]`` -> (repo, tag, digest); a port in the registry is not a tag."""
    rest, _, digest = image.partition("@")
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        return rest[:colon], rest[colon + 1 :], digest
    return rest, "", digest


def _environment(env: str, dist: Path) -> dict[str, Any]:
    """The environment's entry in dist/environments.json (what the synth decided)."""
    environments = json.loads((dist / "environments.json").read_text(encoding="utf-8"))
    if env not in environments:
        raise RefusedError(f"unknown environment '{env}': valid names are {', '.join(sorted(environments))}")
    entry: dict[str, Any] = environments[env]
    return entry


def resolve(env: str, dist: Path) -> dict[str, str]:
    folder = dist / env
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} does not exist: run `make synth ENV={env}`")
    images = app_images(folder)
    if len(images) != 1:
        found = "; ".join(f"{image} ({', '.join(files)})" for image, files in sorted(images.items()))
        raise RefusedError(
            f"{folder}: the app workloads must run exactly one image, found: {found or 'none'}"
        )
    (image,) = images
    repository, tag, digest = split(image)
    signatures = _environment(env, dist).get("signatures")
    verify = signatures is not None
    if verify and not digest:
        promoted = os.environ.get("PROMOTE_FROM")
        how = (
            f"release {promoted} with image_digest=sha256:<64 hex> first, then promote it"
            if promoted
            else "deploy again with image_digest=sha256:<64 hex> (the digest the app's build pushed)"
        )
        raise RefusedError(
            f"{env}: the release {image} has no digest, and {env} verifies signatures "
            f"(signatures.verify in its config), so it must be released by digest: {how}"
        )
    return {
        "reference": f"{repository}@{digest}" if digest else f"{repository}:{tag or 'latest'}",
        "digest": digest,
        "verify": "true" if verify else "false",
        "identity": signatures["identity"] if signatures else "",
        "issuer": signatures["issuer"] if signatures else "",
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("env")
    parser.add_argument(
        "--dist", type=Path, default=ROOT / "dist", help="the rendered output (default: dist/)"
    )
    args = parser.parse_args(argv)
    try:
        outputs = resolve(args.env, args.dist)
    except RefusedError as err:
        print(f"::error title=deploy::{err}")
        return 1
    except (OSError, ValueError, yaml.YAMLError) as err:
        print(f"release-image.py: {err}", file=sys.stderr)
        return 2
    lines = [f"{key}={value}\n" for key, value in outputs.items()]
    if os.environ.get("GITHUB_OUTPUT"):
        with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as out:
            out.writelines(lines)
        verify = "verify its signature" if outputs["verify"] == "true" else "no signature check"
        print(f"{args.env} ships {outputs['reference']} ({verify})")
    else:
        sys.stdout.writelines(lines)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
