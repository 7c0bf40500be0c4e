"""cert-manager objects, checked with the models published from cert-manager's CRDs.

cert-manager's CRDs are not vendored in crds/ (no byte-exact upstream copy reaches
this machine: its repository keeps them as Helm templates), so the openAPI and CEL
checks cannot read them. ``@kubernetes-models/cert-manager`` (npm) is generated
from those CRDs: it checks types, required fields and enums, though not unknown
fields.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from .manifests import Manifest

ROOT = Path(__file__).resolve().parents[2]
NODE = ROOT / "node_modules" / ".bin" / "node"
SCRIPT = Path(__file__).with_suffix(".mjs")
GROUP = "cert-manager.io/"


def is_cert_manager(obj: Manifest) -> bool:
    return str(obj.get("apiVersion", "")).startswith(GROUP)


def violations(env: str, objects: list[Manifest]) -> tuple[int, list[str]]:
    """(objects checked, one ``<env>: <kind>/<name>: <path> <message>`` line per mistake)."""
    chosen = [o for o in objects if is_cert_manager(o)]
    if not chosen:
        return 0, []
    if not NODE.exists():
        raise FileNotFoundError(f"{NODE} is missing: run `make install`")
    proc = subprocess.run(
        [str(NODE), str(SCRIPT)],
        input=json.dumps(chosen),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{SCRIPT.name} failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")
    return len(chosen), [f"{env}: {p}" for p in json.loads(proc.stdout)]
