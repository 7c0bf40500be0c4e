"""Custom resources against their upstream CRDs' OpenAPI schemas, strictly.

kubernetes-validate bundles only the built-in kinds. The API server validates a
custom resource against its CRD's ``openAPIV3Schema`` and silently *prunes*
fields the schema does not declare, so a misspelt ``pollingIntervall`` in a
ScaledObject would apply cleanly and do nothing. Here every object whose kind
has a CRD in ``crds/`` (the upstream files ``imports/`` was generated
from) is validated with that schema, with unknown fields made errors wherever
the CRD does not preserve them.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema

from .manifests import Manifest, load_yaml_all, violation

CRD_DIR = Path(__file__).resolve().parents[2] / "crds"


def _strict(schema: Any) -> Any:
    """The schema with ``additionalProperties: false`` where the API server would prune, and
    Kubernetes' own keywords turned into JSON Schema."""
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _strict(v) for k, v in schema.items()}
    if out.pop("x-kubernetes-int-or-string", False):
        out.pop("type", None)
        out.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
    if out.pop("nullable", False) and "type" in out:
        out["type"] = [out["type"], "null"]
    preserve = out.pop("x-kubernetes-preserve-unknown-fields", False)
    if (
        out.get("type") == "object"
        and "properties" in out
        and "additionalProperties" not in out
        and not preserve
    ):
        out["additionalProperties"] = False
    return out


def _documents() -> Iterator[dict[str, Any]]:
    for path in sorted(CRD_DIR.glob("*.yaml")):
        for doc in load_yaml_all(path.read_text(encoding="utf-8")):
            if doc and doc.get("kind") == "CustomResourceDefinition":
                yield doc


@functools.cache
def schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """``(apiVersion, kind)`` to the strict schema of that served version."""
    out = {}
    for crd in _documents():
        spec = crd["spec"]
        for version in spec["versions"]:
            if not version.get("served", True):
                continue
            schema = copy.deepcopy(version["schema"]["openAPIV3Schema"])
            # metadata is the API server's ObjectMeta, validated there, not by the CRD; and
            # the server takes apiVersion and kind from every object, whether or not the
            # CRD declares them (policy-controller's declares only spec and status).
            schema.get("properties", {}).pop("metadata", None)
            props = schema.setdefault("properties", {})
            props["metadata"] = {"type": "object"}
            props.setdefault("apiVersion", {"type": "string"})
            props.setdefault("kind", {"type": "string"})
            out[(f"{spec['group']}/{version['name']}", spec["names"]["kind"])] = _strict(schema)
    return out


def crd_violations(env: str, objects: list[Manifest]) -> tuple[int, list[str]]:
    """How many objects had a CRD schema, and one line per problem."""
    checked, problems = 0, []
    for obj in objects:
        schema = schemas().get((obj.get("apiVersion", ""), obj.get("kind", "")))
        if schema is None:
            continue
        checked += 1
        validator = jsonschema.Draft7Validator(schema)
        for err in sorted(validator.iter_errors(obj), key=lambda e: list(e.path)):
            where = ".".join(str(p) for p in err.path) or "(root)"
            problems.append(violation(env, obj, "CRD schema", f"at {where}: {err.message}"))
    return checked, problems
