"""Shared helpers for tests: parsed output of one environment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from vibeyard.config import EnvConfig

ROOT = Path(__file__).resolve().parents[1]
Manifest = dict[str, Any]


class Output:
    """The rendered files and parsed objects of one environment."""

    def __init__(self, cfg: EnvConfig, files: dict[str, str]) -> None:
        self.cfg = cfg
        self.files = files
        self.objects: list[Manifest] = [yaml.safe_load(text) for text in files.values()]

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
