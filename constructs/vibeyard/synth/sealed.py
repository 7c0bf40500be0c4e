"""Reading a committed file of kubeseal output, strictly.

The ciphertext can only be checked by the controller in the cluster, so what we
can check here we check at synth: the file exists and parses, it is scoped to
this environment's Secret, and it holds every key the chosen modes need. A
missing key would otherwise surface as ``CreateContainerConfigError`` mid-rollout.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from ..config import ConfigError, EnvConfig, Topology

KUBESEAL_HINT = "see README 'Data stores and secrets' for the kubeseal commands"


def load_sealed(cfg: EnvConfig, root: Path) -> dict[str, str]:
    """The ``encryptedData`` for ``cfg``'s Secret, or a one-line ``ConfigError``."""
    rel = cfg.secrets.sealed_file or ""
    field = "secrets.sealed_file"

    def fail(why: str) -> ConfigError:
        return ConfigError(f"{cfg.name}: {field}={rel!r} is invalid: {why}")

    path = root / rel
    if not rel or not path.is_file():
        raise fail(f"no such file; {KUBESEAL_HINT}")
    try:
        doc: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
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
