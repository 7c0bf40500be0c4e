"""How config classes are declared, and how their fields are type-checked.

Config is edited by hand in ``environments.py``, so every mistake in it must end
as one line naming the environment, the field path and the value, never as a
traceback from deep inside a construct. Two kinds of mistake need help beyond
plain dataclasses:

- An unknown or missing keyword (``WebConfig(replica=3)``, or the same inside a
  ``dataclasses.replace`` overlay) raises ``TypeError`` while ``environments.py``
  is being imported, when neither the environment nor the field path is known.
  ``@settings`` classes therefore *record* such keywords instead of raising, and
  ``check_types`` reports them later with the full path.
- A value of the wrong type (``"3"`` for an int, ``None`` for a block, ``("a")``
  for a tuple) is accepted by a dataclass at run time. ``check_types`` walks the
  tree against the annotations first, so the semantic checks in ``validate.py``
  can rely on the types.

Why not pydantic: its ``model_copy(update=...)`` skips validation, which is the
base-plus-overlay style this config is written in, and its errors are multi-line
reports. See docs/configuration.md.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar, dataclass_transform, get_args, get_origin

T = TypeVar("T")

UNKNOWN_FIELDS = "__unknown_fields__"
MISSING_FIELDS = "__missing_fields__"


class ConfigError(ValueError):
    """A config mistake, printed as a single line by the CLI."""


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()


@dataclass_transform(frozen_default=True, kw_only_default=True)
def settings(cls: type[T]) -> type[T]:
    """A frozen, keyword-only dataclass that records unknown and missing keywords.

    The record is checked by ``check_types`` with the field's full path, so an
    overlay typo is reported as ``web.replica=3 is invalid: ...`` instead of an
    import-time ``TypeError``.
    """
    made: Any = dataclasses.dataclass(frozen=True, kw_only=True)(cls)
    names = frozenset(f.name for f in dataclasses.fields(made) if f.init)
    required = tuple(
        f.name
        for f in dataclasses.fields(made)
        if f.init and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    )
    init = made.__init__

    def init_recording(self: Any, **kwargs: Any) -> None:
        unknown = {k: kwargs.pop(k) for k in list(kwargs) if k not in names}
        missing = tuple(n for n in required if n not in kwargs)
        init(self, **kwargs, **dict.fromkeys(missing, MISSING))
        object.__setattr__(self, UNKNOWN_FIELDS, unknown)
        object.__setattr__(self, MISSING_FIELDS, missing)

    init_recording.__name__ = init_recording.__qualname__ = "__init__"
    made.__init__ = init_recording
    result: type[T] = made
    return result


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _is_union(annotation: Any) -> bool:
    return get_origin(annotation) in (types.UnionType, typing.Union)


def describe(annotation: Any) -> str:
    """What a field accepts, in words, for the error line."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if _is_union(annotation):
        rest = [a for a in args if a is not type(None)]
        return " or ".join(describe(a) for a in rest) + " or None"
    if origin is tuple:
        return f"a tuple of {describe(args[0]).removeprefix('a ').removeprefix('an ')}s"
    if origin in (Mapping, dict) or annotation is Mapping:
        return "a mapping of strings to strings"
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        return f"a {annotation.__name__} block"
    return {int: "an integer", float: "a number", str: "a string", bool: "True or False"}.get(
        annotation, getattr(annotation, "__name__", str(annotation))
    )


def _fits(value: object, annotation: Any) -> bool:  # noqa: PLR0911 - one return per kind of annotation
    """Whether ``value`` has the shape of ``annotation``, one level deep."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return any(value == a and type(value) is type(a) for a in args)
    if _is_union(annotation):
        return any(_fits(value, a) for a in args)
    if annotation is type(None):
        return value is None
    if origin is tuple:
        return isinstance(value, tuple)
    if origin in (Mapping, dict) or annotation is Mapping:
        return isinstance(value, Mapping) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        )
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(annotation, type):
        return isinstance(value, annotation)
    return True


Fail = Callable[[str, object, str], None]


def check_types(value: object, annotation: Any, path: str, fail: Fail) -> None:
    """Report the first field of ``value`` (at ``path``) that does not fit its annotation."""
    if not _fits(value, annotation):
        allowed = describe(annotation)
        arms = get_args(annotation) if _is_union(annotation) else (annotation,)
        if isinstance(value, str) and any(get_origin(a) is tuple for a in arms):
            allowed += f"; write ({value!r},) with a trailing comma"
        fail(path, value, allowed)
        return
    origin, args = get_origin(annotation), get_args(annotation)
    if _is_union(annotation):
        for arg in args:
            if arg is not type(None) and _fits(value, arg):
                check_types(value, arg, path, fail)
                return
        return
    if origin is tuple:
        assert isinstance(value, tuple)
        for i, item in enumerate(value):
            check_types(item, args[0], f"{path}[{i}]", fail)
        return
    if dataclasses.is_dataclass(value):
        _check_fields(value, path, fail)


def _check_fields(obj: Any, path: str, fail: Fail) -> None:
    cls = type(obj)
    prefix = f"{path}." if path else ""
    known = ", ".join(f.name for f in dataclasses.fields(cls) if f.init)
    for name, value in getattr(obj, UNKNOWN_FIELDS, {}).items():
        fail(f"{prefix}{name}", value, f"not a field of {cls.__name__}; its fields are {known}")
    for name in getattr(obj, MISSING_FIELDS, ()):
        fail(f"{prefix}{name}", MISSING, f"required in {cls.__name__}")
    hints = _hints(cls)
    for f in dataclasses.fields(cls):
        check_types(getattr(obj, f.name), hints[f.name], f"{prefix}{f.name}", fail)
