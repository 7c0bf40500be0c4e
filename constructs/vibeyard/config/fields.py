"""How config classes declare their fields, and how an overlay becomes a checked config.

Each field is declared with ``setting``: its default, its rule (``rules.py``) and a
one-line doc, in one place, the way cdk8s-plus puts ``@default`` on each prop. A
rule that spans fields is a method marked ``@check("<field it blames>")`` beside
them. ``docs/configuration.md``'s field reference is generated from these.

An environment is data (a base plus overlays, ``environments/``); ``build``
turns it into the typed, frozen classes with cattrs, which checks every value
against its annotation, then runs every rule. Nothing stops at the first
mistake: every problem of every environment becomes one line,
``<env>: <field path>=<value> is invalid: <allowed>``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, dataclass_transform, get_args, get_origin

import cattrs
from cattrs.cols import homogenous_tuple_structure_factory
from cattrs.errors import (
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
)

from .rules import Rule

T = TypeVar("T")
INT32 = 2**31 - 1
_VALUE_SHOWN = 60


class ConfigError(ValueError):
    """Config mistakes, each printed as one line by the CLI; ``problems`` are the ones a
    rule found (a slip in a config file has none), so a test can tell which rule spoke."""

    def __init__(self, *lines: str, problems: Iterable[Problem] = ()) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines
        self.problems = tuple(problems)


@dataclass(frozen=True)
class Problem:
    """One mistake: where, what was there, what is allowed, and the rule that says so."""

    path: str
    value: object
    allowed: str
    rule: str

    def line(self, env: str) -> str:
        return f"{env}: {self.path}={shown(self.value)} is invalid: {self.allowed}"


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()


def shown(value: object) -> str:
    """``repr`` cut to a readable length: a pasted 50 MB value must not become the error line."""
    text = repr(value)
    if len(text) <= _VALUE_SHOWN:
        return text
    size = len(value) if isinstance(value, str) else len(text)  # a string's own length, as its rule counts
    return f"{text[:_VALUE_SHOWN]}...({size} characters)"


def setting(
    *,
    default: Any = dataclasses.MISSING,
    doc: str,
    rule: Rule | None = None,
    factory: Callable[[], Any] | Any = dataclasses.MISSING,
) -> Any:
    """A field: its default (or ``factory``), the rule its value must pass, and what it is."""
    return dataclasses.field(default=default, default_factory=factory, metadata={"doc": doc, "rule": rule})


@dataclass_transform(frozen_default=True, kw_only_default=True, field_specifiers=(setting,))
def settings(cls: type[T]) -> type[T]:
    """A frozen, keyword-only dataclass whose fields are ``setting``s."""
    return dataclass(frozen=True, kw_only=True)(cls)


def check(blames: str) -> Callable[[Callable[[Any], str | None]], Callable[[Any], str | None]]:
    """Mark a method as a rule over several fields; a problem is reported on ``blames``."""

    def mark(method: Callable[[Any], str | None]) -> Callable[[Any], str | None]:
        method.__blames__ = blames  # type: ignore[attr-defined]
        return method

    return mark


@functools.cache
def checks_of(cls: Any) -> tuple[tuple[str, str, Callable[[Any], str | None]], ...]:
    """``(rule id, blamed field, method)`` of every ``@check`` on ``cls``."""
    found = []
    for name in sorted(dir(cls)):
        method = getattr(cls, name)
        if callable(method) and hasattr(method, "__blames__"):
            found.append((f"{cls.__name__}.{name}", method.__blames__, method))
    return tuple(found)


def describe(annotation: Any) -> str:
    """What a field accepts, in words, for the error line."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (types.UnionType, typing.Union):
        return " or ".join(describe(a) for a in args if a is not type(None)) + " or None"
    if origin is tuple:
        return f"a list of {describe(args[0]).removeprefix('a ').removeprefix('an ')}s"
    if origin in (Mapping, dict):
        return "a mapping of strings to strings"
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        article = "an" if annotation.__name__[0] in "AEIOU" else "a"
        return f"{article} {annotation.__name__} block"
    words = {
        int: f"an integer up to {INT32} (int32)",
        float: "a finite number",
        str: "a string",
        bool: "True or False",
    }
    return words.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _scalar(kind: type) -> Callable[[Any, Any], Any]:
    def strict(value: Any, _: Any) -> Any:
        ok = type(value) is kind or (kind is float and type(value) is int)
        if ok and kind is int:
            ok = -INT32 - 1 <= value <= INT32
        elif ok and kind is float:  # an inf threshold renders an alert that never fires
            ok = math.isfinite(value)
        if not ok:
            raise TypeError(describe(kind))
        return value

    return strict


def _converter() -> cattrs.Converter:
    """cattrs, strict: no "3" for 3, no True for 1, no str where a tuple belongs."""
    conv = cattrs.Converter(detailed_validation=True, forbid_extra_keys=True)
    for kind in (int, float, str, bool):
        conv.register_structure_hook(kind, _scalar(kind))

    def tuples(annotation: Any) -> Callable[[Any, Any], Any]:
        inner = homogenous_tuple_structure_factory(annotation, conv)

        def strict(value: Any, kind: Any) -> Any:
            if not isinstance(value, list | tuple):
                raise TypeError(describe(kind))
            return inner(value, kind)

        return strict

    is_tuple: Callable[[Any], bool] = lambda t: get_origin(t) is tuple  # noqa: E731
    conv.register_structure_hook_factory(is_tuple, tuples)
    return conv


CONVERTER = _converter()


def _child(data: Any, key: Any) -> Any:
    try:
        return data[key]
    except (KeyError, IndexError, TypeError):
        return MISSING


def _step(key: object, *, field: bool = False) -> str:
    """A key as a step of a path, kept on one line: ``.name``, ``[key]``, or ``[repr]``."""
    if isinstance(key, str) and (key.isidentifier() if field else key.isprintable() and key):
        return f".{key}" if field else f"[{key}]"
    return f"[{key!r}]"


def _type_problems(err: BaseException, path: str, data: Any, annotation: Any) -> Iterator[Problem]:
    """Every leaf of cattrs' exception tree, with its path and the value found there."""
    if isinstance(err, ClassValidationError | IterableValidationError):
        with_notes, rest = err.group_exceptions()
        for sub, note in with_notes:
            if isinstance(note, IterableValidationNote):
                key, step = note.index, _step(note.index)
                if isinstance(data, Mapping) and not isinstance(key, str):  # every config mapping's keys
                    yield Problem(f"{path}{step}", key, "a string as the key", "types")
                    continue
            else:
                key, step = note.name, f".{note.name}"
            yield from _type_problems(sub, f"{path}{step}", _child(data, key), note.type)
        for sub in rest:
            yield from _type_problems(sub, path, data, annotation)
    elif isinstance(err, ForbiddenExtraKeysError):
        known = ", ".join(f.name for f in dataclasses.fields(err.cl))
        for key in sorted(err.extra_fields, key=repr):
            why = f"not a field of {err.cl.__name__}; its fields are {known}"
            yield Problem(f"{path}{_step(key, field=True)}", _child(data, key), why, "types")
    elif isinstance(err, KeyError):
        yield Problem(path, MISSING, "required", "types")
    else:
        allowed = describe(annotation)
        if isinstance(data, str) and any(get_origin(a) is tuple for a in (annotation, *get_args(annotation))):
            allowed += f"; write ({data!r},) with a trailing comma"
        yield Problem(path, data, allowed, "types")


def _rule_problems(obj: Any, path: str) -> Iterator[Problem]:
    """Every field rule of ``obj`` and its blocks, then its ``@check``s if its fields passed."""
    own = False
    for f in dataclasses.fields(obj):
        value, where = getattr(obj, f.name), f"{path}{f.name}"
        rule = f.metadata.get("rule")
        why = rule(value) if rule else None
        if why:
            own = True
            yield Problem(where, value, why, f"{type(obj).__name__}.{f.name}")
        if dataclasses.is_dataclass(value):
            yield from _rule_problems(value, f"{where}.")
        elif isinstance(value, tuple):
            for i, item in enumerate(value):
                if dataclasses.is_dataclass(item):
                    yield from _rule_problems(item, f"{where}[{i}].")
    if not own:
        kind: Any = type(obj)
        for rule_id, blamed, method in checks_of(kind):
            why = method(obj)
            if why:
                yield Problem(f"{path}{blamed}", getattr(obj, blamed), why, rule_id)


def build(data: Mapping[str, Any], cls: type[T]) -> tuple[T | None, list[Problem]]:
    """The typed config from plain data, or None and every problem found."""
    try:
        obj = CONVERTER.structure(data, cls)
    except (ClassValidationError, IterableValidationError) as err:
        return None, [
            dataclasses.replace(p, path=p.path.lstrip(".")) for p in _type_problems(err, "", data, cls)
        ]
    return obj, list(_rule_problems(obj, ""))


def plain(value: Any) -> Any:
    """An overlay value as plain data: typed blocks (an ``Image`` constant) become dicts."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def merge(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """``overlay`` over ``base``: blocks merge key by key, anything else replaces."""
    out = dict(base)
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out
