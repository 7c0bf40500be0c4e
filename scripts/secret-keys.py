#!/usr/bin/env python3
"""The Python half of seal-secrets.sh: what an environment's Secret is, as kubeseal needs it.

    secret-keys.py ENV                  namespace and Secret name, then one required key a line
    secret-keys.py ENV --manifest FILE  FILE as a full SealedSecret manifest (a skeleton if FILE
                                        does not exist), for ``kubeseal --merge-into``

The names come from the typed config, so the shell script never spells a namespace or a
key itself. Expected mistakes exit 2 with one line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "constructs"))

from vibeyard.config import EnvConfig, Topology, all_configs

API_VERSION = "bitnami.com/v1alpha1"


class UsageError(Exception):
    pass


def env_config(name: str) -> EnvConfig:
    every = all_configs()
    if name not in every:
        raise UsageError(f"unknown environment {name!r}: choose one of {', '.join(sorted(every))}")
    cfg = every[name]
    if cfg.secrets.provider != "sealed":
        raise UsageError(f"{name} does not use sealed secrets (secrets.provider={cfg.secrets.provider!r})")
    return cfg


def required_keys(cfg: EnvConfig) -> list[str]:
    return list(Topology.of(cfg).secret_keys)


def listing(cfg: EnvConfig) -> str:
    return "\n".join([f"{cfg.namespace} {cfg.secrets.name}", *required_keys(cfg)]) + "\n"


def manifest(cfg: EnvConfig, path: Path) -> dict[str, Any]:
    """The SealedSecret ``kubeseal --merge-into`` can update, keeping every sealed value.

    A file that holds only ``encryptedData`` (the old format) is wrapped; a manifest
    for another namespace or Secret name is refused, since strict-scope values from
    it could never be decrypted here.
    """
    meta = {"name": cfg.secrets.name, "namespace": cfg.namespace}
    encrypted: dict[str, str] = {}
    if path.is_file():
        try:
            doc: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError:
            raise UsageError(f"{path}: not valid YAML") from None
        if isinstance(doc, dict) and doc.get("kind") == "SealedSecret":
            found = doc.get("metadata") or {}
            if found.get("name") != meta["name"] or found.get("namespace") != meta["namespace"]:
                raise UsageError(
                    f"{path}: sealed for {found.get('namespace')}/{found.get('name')}, "
                    f"not {meta['namespace']}/{meta['name']}"
                )
            return dict(doc)
        if not isinstance(doc, dict) or not isinstance(doc.get("encryptedData"), dict):
            raise UsageError(f"{path}: neither a SealedSecret manifest nor an 'encryptedData' mapping")
        encrypted = {str(k): str(v) for k, v in doc["encryptedData"].items()}
    return {
        "apiVersion": API_VERSION,
        "kind": "SealedSecret",
        "metadata": dict(meta),
        "spec": {"encryptedData": encrypted, "template": {"metadata": dict(meta), "type": "Opaque"}},
    }


def main(argv: list[str]) -> str:
    parser = argparse.ArgumentParser(prog="secret-keys.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", metavar="FILE", type=Path, help="print FILE as a SealedSecret manifest")
    parser.add_argument("env")
    args = parser.parse_args(argv)
    cfg = env_config(args.env)
    if args.manifest is not None:
        return yaml.safe_dump(manifest(cfg, args.manifest), sort_keys=False)
    return listing(cfg)


if __name__ == "__main__":
    try:
        sys.stdout.write(main(sys.argv[1:]))
    except UsageError as err:
        print(f"secret-keys.py: {err}", file=sys.stderr)
        sys.exit(2)
