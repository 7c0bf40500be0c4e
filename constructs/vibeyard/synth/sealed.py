"""Reading a committed file of kubeseal output, strictly.

The ciphertext can only be checked by the controller in the cluster, so what we
can check here we check at synth: the file exists and parses, it is scoped to
this environment's Secret, and it holds every key the chosen modes need. A
missing key would otherwise surface as ``CreateContainerConfigError`` mid-rollout.

The committed files hold placeholders (``AgPLACEHOLDER-...``), because real
ciphertext needs the cluster's sealing certificate. They render fine, so the
synth cannot refuse them; ``placeholder_keys`` lets it warn on every publish
until someone reseals.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from ..config import ConfigError, EnvConfig, Topology
from .files import read_text

KUBESEAL_HINT = "see docs/release.md 'Seal or rotate secret keys' for the kubeseal commands"
PLACEHOLDER_PREFIX = "AgPLACEHOLDER"


def load_sealed(cfg: EnvConfig, root: Path) -> dict[str, str]:
    """The ``encryptedData`` for ``cfg``'s Secret, or a one-line ``ConfigError``."""
    rel = cfg.secrets.sealed_file or ""
    field = "secrets.sealed_file"

    def fail(why: str) -> ConfigError:
        return ConfigError(f"{cfg.name}: {field}={rel!r} is invalid: {why}")

    text = read_text(root / rel, rel, fail) if rel else None
    if text is None:
        raise fail(f"no such file; {KUBESEAL_HINT}")
    try:
        doc: Any = yaml.load(text, Loader=yaml.CSafeLoader)  # libyaml: the same result, 10x faster
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise fail(f"not valid YAML{where}") from None
    if not isinstance(doc, Mapping):
        raise fail("expected a mapping with 'encryptedData' (or a SealedSecret manifest)")
    if doc.get("kind") == "SealedSecret":
        meta = doc.get("metadata") or {}
        if not isinstance(meta, Mapping) or not isinstance(doc.get("spec") or {}, Mapping):
            raise fail("a SealedSecret manifest needs mapping 'metadata' and 'spec'")
        if meta.get("name") != cfg.secrets.name or meta.get("namespace") != cfg.namespace:
            raise fail(
                f"sealed for {meta.get('namespace')}/{meta.get('name')}, "
                f"but strict scope needs {cfg.namespace}/{cfg.secrets.name}"
            )
        doc = doc.get("spec") or {}
    encrypted = doc.get("encryptedData")
    if not isinstance(encrypted, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in encrypted.items()
    ):
        raise fail("'encryptedData' must map each key to a non-empty kubeseal ciphertext string")
    for key in Topology.of(cfg).secret_keys:
        if key not in encrypted:
            raise fail(f"it lacks the required key {key!r}; {KUBESEAL_HINT}")
    return dict(sorted(encrypted.items()))


def placeholder_keys(encrypted: Mapping[str, str]) -> list[str]:
    """The keys whose value is a committed placeholder rather than kubeseal output."""
    return [key for key, value in encrypted.items() if value.startswith(PLACEHOLDER_PREFIX)]
