"""Shared helpers for tests: parsed output of one environment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from tests.validators.manifests import load_yaml
from vibeyard.config import EnvConfig

ROOT = Path(__file__).resolve().parents[1]
Manifest = dict[str, Any]


class Output:
    """The rendered files and parsed objects of one environment."""

    def __init__(self, cfg: EnvConfig, files: dict[str, str]) -> None:
        self.cfg = cfg
        self.files = files
        self.objects: list[Manifest] = [load_yaml(text) for text in files.values()]

    def of_kind(self, kind: str) -> list[Manifest]:
        return [o for o in self.objects if o["kind"] == kind]

    def get(self, kind: str, name: str) -> Manifest:
        found = [o for o in self.of_kind(kind) if o["metadata"]["name"] == name]
        assert found, (
            f"{self.cfg.name}: no {kind}/{name}; have {[o['metadata']['name'] for o in self.of_kind(kind)]}"
        )
        return found[0]

    def has(self, kind: str, name: str) -> bool:
        return any(o["metadata"]["name"] == name for o in self.of_kind(kind))

    def workloads(self) -> Iterator[Manifest]:
        for o in self.objects:
            if o["kind"] in ("Deployment", "StatefulSet", "Job"):
                yield o


def pod_spec(workload: Manifest) -> Manifest:
    spec: Manifest = workload["spec"]["template"]["spec"]
    return spec


KUBESEAL_HINT = "see docs/release.md 'Seal or rotate secret keys' for the kubeseal commands"


def placeholder_warning(env: str) -> str:
    """The line a synth prints for ``env`` while its committed sealed file is all placeholders.

    The key count is read from the committed file, so adding a secret key changes no test.
    """
    sealed = yaml.safe_load((ROOT / "secrets" / f"{env}.sealed.yaml").read_text(encoding="utf-8"))
    keys = len(sealed["spec"]["encryptedData"])
    return (
        f"warning: {env}: secrets/{env}.sealed.yaml holds placeholder ciphertext (AgPLACEHOLDER-..., "
        f"{keys} of {keys} keys), not kubeseal output: reseal it before the first sync; {KUBESEAL_HINT}"
    )
