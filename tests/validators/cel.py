"""Custom resources against their CRDs' CEL rules (``x-kubernetes-validations``).

The openAPI schema (``crd_schema``) cannot say "a RequestRedirect filter must not sit next to a
backendRef" or "backendRequest must not exceed request"; the Gateway API CRDs say it in CEL,
which the API server runs on every create and update. A rendered HTTPRoute that breaks one
would fail ``kubectl apply`` (or sit OutOfSync in Argo CD), so the rules are run here on the
rendered objects, by Google's CEL runtime (cel-expr-python, the C++ implementation), the way
the API server runs them (see "Validation rules" in the Kubernetes CustomResourceDefinition
docs and the ``ValidationRule`` API reference):

- Each rule belongs to a schema node and runs with ``self`` bound to the object's value there,
  once per value: for every item of an array and every value of a map. A node whose value is
  absent or null is not checked.
- Defaults from the schema are applied first (the API server defaults before it validates),
  so ``self.group`` of a backendRef without ``group`` reads ``""`` as on a cluster.
- Property names are escaped as CEL sees them (``namespace`` is ``__namespace__``, ``x-y`` is
  ``x__dash__y``), null fields are absent, fields the schema does not declare are invisible,
  ``format: byte`` strings are bytes, and at the root (or an embedded resource) only
  ``apiVersion``, ``kind``, ``metadata.name`` and ``metadata.generateName`` are visible.
- Transition rules, those that read ``oldSelf``, are skipped: they run only on update, against
  the stored object, and a rendered object is checked as a create. A rule with
  ``optionalOldSelf: true`` would also run on create; none of ours has one, and such a rule
  is reported as unsupported rather than silently skipped.
- The failure text is ``messageExpression`` when it yields a one-line, non-blank string, else
  ``message``, else ``failed rule: <rule>``. ``fieldPath`` is appended to the node's path (a
  property as ``.name``, a map key as ``[key]``), and a ``reason`` other than FieldValueInvalid
  prefixes the text with the API server's error type (``Forbidden:``, ``Required value:``,
  ``Duplicate value:``; for the last the server prints the value, here the message stays).
  A rule that fails to run reads ``<error> evaluating rule: <message or rule>``, as there.

Rules are compiled once (type-checked with ``self`` as ``dyn``: the API server also checks them
against the schema's types, but only when the CRD is installed, which upstream already did).
A rule that does not compile with this runtime, for instance one calling a Kubernetes library
function the runtime lacks, is reported on every object it applies to unless
``UNCOMPILABLE`` lists it with the reason; tests/test_gateway_validation.py fails on any
unlisted one and on any stale entry. Rules nested in ``allOf`` (which the API server also
runs) are not walked; that test fails if a vendored CRD has one.

Kubernetes' CEL environment and this one. The standard library and macros (``has``, ``all``,
``exists``, ``exists_one``, ``filter``, ``map``, ``size``, ``matches`` with RE2 syntax as Go's
regexp, ``startsWith``, ``endsWith``, ``contains``, ``duration``, ``timestamp``) are cel-cpp's
own. Kubernetes loads cel-go's strings extension (``split``, ``join``, ``replace``,
``substring``, ``trim``, ``lowerAscii``, ``upperAscii``, ``charAt``, ``indexOf``,
``lastIndexOf``, ``format``, ``strings.quote``, ``reverse``); cel-cpp's strings extension
(``ext_strings.ExtStrings``) has the same functions with the same signatures. The
Kubernetes-only libraries of k8s.io/apiserver/pkg/cel/library (lists ``isSorted``/``sum``/
``indexOf``, regex ``find``/``findAll``, ``url``/``isURL``, ``quantity``, ``ip``/``cidr``,
named ``format.*`` validators, ``semver``, authz) are not implemented: no vendored rule calls
one (the Gateway API ones call ``split`` and the standard library only), and a CRD that
starts to fails the compile test until the function is added as a custom function here.
Values of ``format: date-time``, ``date`` or ``duration`` reach rules as strings (the API server
gives timestamps and durations; cel-expr-python 0.1.3 takes those only as protobuf messages):
no vendored rule reads one, and the tests fail if one starts to.

Rules per CRD (each served version carries the same rules; ``rule_nodes`` finds them):
HTTPRoute 89 (v1 and v1beta1 each), Gateway 16 (v1 and v1beta1 each), GatewayClass 1 (a
transition rule, skipped), VerticalPodAutoscaler 4, ScaledObject 1; ReferenceGrant,
SealedSecret, ExternalSecret, TriggerAuthentication, ServiceMonitor, PrometheusRule,
Application and AppProject none.
"""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cel_expr_python import cel  # type: ignore[import-untyped]
from cel_expr_python.ext import ext_strings  # type: ignore[import-untyped]

from .manifests import Manifest, load_yaml_all, violation

CRD_DIR = Path(__file__).resolve().parents[2] / "crds"
Schema = Mapping[str, Any]

# Rule text -> why this runtime cannot run it. These rules, and only these, are skipped.
UNCOMPILABLE: dict[str, str] = {}

# k8s.io/apiserver/pkg/cel/escaping.go: property names that are CEL reserved words.
_RESERVED = frozenset(
    {"true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function"}
    | {"if", "import", "let", "loop", "package", "namespace", "return", "var", "void", "while"}
)
_ESCAPES = {"__": "__underscores__", ".": "__dot__", "-": "__dash__", "/": "__slash__"}
_ESCAPABLE = re.compile(r"[a-zA-Z_.\-/][a-zA-Z0-9_.\-/]*")
_REASONS = {
    "FieldValueForbidden": "Forbidden: ",
    "FieldValueRequired": "Required value: ",
    "FieldValueDuplicate": "Duplicate value: ",
}


def escape(name: str) -> str | None:
    """The CEL field name of a property, or None where CEL cannot reach it."""
    if not _ESCAPABLE.fullmatch(name):
        return None
    if name in _RESERVED:
        return f"__{name}__"
    return re.sub(r"__|[.\-/]", lambda m: _ESCAPES[m.group()], name)


@functools.cache
def _env(old_self: bool) -> Any:
    variables = {"self": cel.Type.DYN} | ({"oldSelf": cel.Type.DYN} if old_self else {})
    return cel.NewEnv(variables=variables, extensions=[ext_strings.ExtStrings()])


@dataclass(frozen=True)
class Compiled:
    program: Any = None
    message: Any = None
    error: str | None = None
    transition: bool = False


def _compile_error(err: Exception) -> str:
    return " ".join(str(err).split())


@functools.cache
def _compile(rule: str, message_expression: str | None, optional_old_self: bool) -> Compiled:
    try:
        program = _env(False).compile(rule)
    except RuntimeError as err:
        try:
            _env(True).compile(rule)
        except RuntimeError:
            return Compiled(error=_compile_error(err))
        if optional_old_self:
            return Compiled(error="optionalOldSelf: the rule also runs on create; not implemented")
        return Compiled(transition=True)
    try:
        message = _env(False).compile(message_expression) if message_expression else None
    except RuntimeError as err:
        return Compiled(error=f"messageExpression: {_compile_error(err)}")
    return Compiled(program=program, message=message)


def compile_rule(rule: Mapping[str, Any]) -> Compiled:
    """One ``x-kubernetes-validations`` entry, compiled (once per distinct text)."""
    return _compile(rule["rule"], rule.get("messageExpression"), bool(rule.get("optionalOldSelf")))


def crd_documents(folder: Path = CRD_DIR) -> list[dict[str, Any]]:
    docs = []
    for path in sorted(folder.glob("*.yaml")):
        docs += [d for d in load_yaml_all(path.read_text(encoding="utf-8")) if d]
    return [d for d in docs if d.get("kind") == "CustomResourceDefinition"]


def served_schemas(crds: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], Schema]:
    """``(apiVersion, kind)`` to the ``openAPIV3Schema`` of each served version."""
    out = {}
    for crd in crds:
        spec = crd["spec"]
        for version in spec["versions"]:
            if version.get("served", True):
                key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
                out[key] = version["schema"]["openAPIV3Schema"]
    return out


@functools.cache
def vendored() -> dict[tuple[str, str], Schema]:
    return served_schemas(crd_documents())


def rule_nodes(schema: Schema, path: str = "") -> Iterator[tuple[str, Schema]]:
    """Every schema node that has rules, with its path (``[*]``: each item or map value)."""
    if schema.get("x-kubernetes-validations"):
        yield path or "(root)", schema
    for name, prop in (schema.get("properties") or {}).items():
        yield from rule_nodes(prop, f"{path}.{name}" if path else name)
    for child in ("items", "additionalProperties"):
        if isinstance(schema.get(child), dict):
            yield from rule_nodes(schema[child], f"{path}[*]")


def apply_defaults(value: Any, schema: Schema) -> None:
    """The API server's structural defaulting, in place (apiextensions' defaulting algorithm)."""
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for name, prop in props.items():
            absent = name not in value or (value[name] is None and not prop.get("nullable"))
            if "default" in prop and absent:
                value[name] = copy.deepcopy(prop["default"])
        extra = schema.get("additionalProperties")
        for name, child in value.items():
            if name in props:
                apply_defaults(child, props[name])
            elif isinstance(extra, dict):
                apply_defaults(child, extra)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            apply_defaults(item, schema["items"])


def _object_to_cel(value: dict[str, Any], schema: Schema, embedded: bool) -> dict[str, Any]:
    props = schema.get("properties") or {}
    out = {}
    for name, child in value.items():
        field = escape(name)
        if child is None or field is None:
            continue
        if embedded and name in ("apiVersion", "kind"):
            out[field] = child
        elif embedded and name == "metadata":
            out[field] = {k: v for k, v in child.items() if k in ("name", "generateName")}
        elif name in props:
            out[field] = to_cel(child, props[name])
    return out


def _scalar_to_cel(value: Any, schema: Schema) -> Any:
    if schema.get("type") == "number" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if schema.get("format") == "byte" and isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except binascii.Error:
            return value
    return value


def to_cel(value: Any, schema: Schema, embedded: bool = False) -> Any:
    """``value`` as the API server hands it to CEL under ``schema``."""
    embedded = embedded or bool(schema.get("x-kubernetes-embedded-resource"))
    extra = schema.get("additionalProperties")
    if isinstance(value, dict) and isinstance(extra, dict) and "properties" not in schema:
        return {k: to_cel(v, extra) for k, v in value.items()}
    if isinstance(value, dict):
        return _object_to_cel(value, schema, embedded)
    if isinstance(value, list):
        items = schema.get("items")
        return [to_cel(v, items) for v in value] if isinstance(items, dict) else []
    return _scalar_to_cel(value, schema)


_FIELD_PATH_STEP = re.compile(r"\.([^.\[]+)|\['((?:[^'\\]|\\.)*)'\]")


def _located(path: str, schema: Schema, field_path: str) -> str:
    """``fieldPath`` (``.a.b``, ``['a.b']``) appended as the API server prints it: a property as
    ``.name``, a map key as ``[key]``."""
    for step in _FIELD_PATH_STEP.finditer(field_path):
        name = step.group(1) or step.group(2).replace("\\'", "'")
        if name in (schema.get("properties") or {}):
            path, schema = f"{path}.{name}" if path else name, schema["properties"][name]
        else:
            path, schema = f"{path}[{name}]", schema.get("additionalProperties") or {}
    return path or "(root)"


def _message(rule: Mapping[str, Any], compiled: Compiled, activation: Any) -> str:
    text = (rule.get("message") or "").strip() or f"failed rule: {rule['rule'].strip()}"
    if compiled.message is not None:
        result = compiled.message.eval(activation)
        custom = result.value().strip() if result.type() == cel.Type.STRING else ""
        if custom and "\n" not in custom:
            text = custom
    return _REASONS.get(rule.get("reason", ""), "") + text


def _node_problems(value: Any, schema: Schema, path: str) -> Iterator[tuple[str, str]]:
    """(field path, message) for each rule of this node that ``value`` breaks."""
    activation = _env(False).Activation({"self": to_cel(value, schema, embedded=not path)})
    for rule in schema["x-kubernetes-validations"]:
        compiled = compile_rule(rule)
        if compiled.transition or rule["rule"] in UNCOMPILABLE:
            continue
        where = path or "(root)"
        if compiled.error is not None:
            yield where, f"rule does not compile ({compiled.error}): {rule['rule']}"
            continue
        result = compiled.program.eval(activation)
        if result.type() == cel.Type.ERROR:
            yield where, f"{result.value()} evaluating rule: {(rule.get('message') or rule['rule']).strip()}"
        elif result.type() != cel.Type.BOOL:
            yield where, f"rule returned {result.type().name()}, not a bool: {rule['rule']}"
        elif not result.value():
            yield _located(path, schema, rule.get("fieldPath") or ""), _message(rule, compiled, activation)


def _walk(value: Any, schema: Schema, path: str) -> Iterator[tuple[str, str]]:
    if value is None:
        return
    if schema.get("x-kubernetes-validations"):
        yield from _node_problems(value, schema, path)
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for name, child in value.items():
            if name in props:
                yield from _walk(child, props[name], f"{path}.{name}" if path else name)
            elif isinstance(extra, dict):
                yield from _walk(child, extra, f"{path}[{name}]")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            yield from _walk(item, schema["items"], f"{path}[{index}]")


def cel_violations(
    env: str,
    objects: Iterable[Manifest],
    schemas: Mapping[tuple[str, str], Schema] | None = None,
) -> tuple[int, list[str]]:
    """How many objects had a CRD (``crds/`` unless ``schemas``), and one line per broken rule:
    ``<env>: <Kind>/<name>: <field path>: <message>``."""
    schemas = vendored() if schemas is None else schemas
    checked, problems = 0, []
    for obj in objects:
        schema = schemas.get((obj.get("apiVersion", ""), obj.get("kind", "")))
        if schema is None:
            continue
        checked += 1
        defaulted = copy.deepcopy(obj)
        apply_defaults(defaulted, schema)
        problems += [violation(env, obj, where, text) for where, text in _walk(defaulted, schema, "")]
    return checked, problems
