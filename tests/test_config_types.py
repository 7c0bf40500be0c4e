"""Type mistakes in any config field: one line naming the environment, the field path and the value.

Rather than a hand-picked list, these tests walk every field of the committed
production config and plant each kind of mistake the issue names at every
place it can occur: a string where an int belongs, None where a block is
required, an unknown keyword in any config class (through ``replace``, as an
overlay in ``environments.py`` would write it), and a one-element tuple written
without its trailing comma. Each must fail at ``validate`` with the same
one-line format, before any construct exists.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterator
from typing import Any, get_args, get_origin

import pytest

from vibeyard.config import ENVIRONMENTS, ConfigError, EnvConfig, validate
from vibeyard.config.base import MISSING, describe
from vibeyard.config.types import Resources

PROD = ENVIRONMENTS["prod"]
Path = tuple[str | int, ...]


def fields_of(obj: Any, path: Path = ()) -> Iterator[tuple[Path, Any, Any]]:
    """Every field below ``obj``: its path, its annotation and its value."""
    hints = typing.get_type_hints(type(obj))
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        here = (*path, f.name)
        yield here, hints[f.name], value
        if dataclasses.is_dataclass(value):
            yield from fields_of(value, here)
        elif isinstance(value, tuple):
            for i, item in enumerate(value):
                if dataclasses.is_dataclass(item):
                    yield from fields_of(item, (*here, i))


def set_at(obj: Any, path: Path, value: Any) -> Any:
    """``obj`` with the field at ``path`` replaced, rebuilt with ``dataclasses.replace``."""
    head, *rest = path
    if isinstance(head, int):
        items = list(obj)
        items[head] = set_at(items[head], tuple(rest), value) if rest else value
        return tuple(items)
    inner = set_at(getattr(obj, head), tuple(rest), value) if rest else value
    return dataclasses.replace(obj, **{head: inner})


def dotted(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def error_of(cfg: EnvConfig) -> str:
    with pytest.raises(ConfigError) as err:
        validate(cfg, "prod")
    return str(err.value)


def _bare(annotation: Any) -> Any:
    """The annotation without ``| None``."""
    args = [a for a in get_args(annotation) if a is not type(None)]
    return args[0] if get_origin(annotation) in (typing.Union, types.UnionType) else annotation


INT_FIELDS = [(p, ann) for p, ann, _ in fields_of(PROD) if _bare(ann) is int]
BLOCK_FIELDS = [
    (p, ann) for p, ann, v in fields_of(PROD) if dataclasses.is_dataclass(ann) and dataclasses.is_dataclass(v)
]
BLOCKS = [(p, v) for p, _, v in [((), EnvConfig, PROD), *fields_of(PROD)] if dataclasses.is_dataclass(v)]
STRING_TUPLES = [
    (p, ann)
    for p, ann, _ in fields_of(PROD)
    if get_origin(_bare(ann)) is tuple and get_args(_bare(ann))[0] is str
]


def test_the_walk_reaches_every_kind_of_field() -> None:
    """Guard for the parametrizations below: they must not silently shrink to nothing."""
    assert len(INT_FIELDS) > 30 and len(BLOCK_FIELDS) > 15 and len(STRING_TUPLES) >= 3
    assert ("workers", 1, "resources") in [p for p, _ in BLOCK_FIELDS]
    assert any(ann is not int for _, ann in INT_FIELDS), "an optional int field"


def _ids(x: Any) -> str:
    return dotted(x) or "top" if isinstance(x, tuple) else ""


@pytest.mark.parametrize(("path", "annotation"), INT_FIELDS, ids=_ids)
def test_a_string_where_an_int_belongs(path: Path, annotation: Any) -> None:
    allowed = "an integer" if annotation is int else "an integer or None"
    assert error_of(set_at(PROD, path, "3")) == f"prod: {dotted(path)}='3' is invalid: {allowed}"


@pytest.mark.parametrize(("path", "annotation"), BLOCK_FIELDS, ids=_ids)
def test_none_where_a_block_is_required(path: Path, annotation: Any) -> None:
    expected = f"prod: {dotted(path)}=None is invalid: a {annotation.__name__} block"
    assert error_of(set_at(PROD, path, None)) == expected


@pytest.mark.parametrize(("path", "block"), BLOCKS, ids=_ids)
def test_an_unknown_keyword_in_any_config_class_through_replace(path: Path, block: Any) -> None:
    typo = dataclasses.replace(block, colour="blue")  # what an overlay in environments.py would write
    cfg = set_at(PROD, path, typo) if path else typo
    known = ", ".join(f.name for f in dataclasses.fields(block))
    where = f"{dotted(path)}.colour" if path else "colour"
    assert (
        error_of(cfg)
        == f"prod: {where}='blue' is invalid: not a field of {type(block).__name__}; its fields are {known}"
    )


@pytest.mark.parametrize(("path", "annotation"), STRING_TUPLES, ids=_ids)
def test_a_tuple_without_its_trailing_comma(path: Path, annotation: Any) -> None:
    allowed = "a tuple of strings" + ("" if get_origin(annotation) is tuple else " or None")
    expected = f"prod: {dotted(path)}='node' is invalid: {allowed}; write ('node',) with a trailing comma"
    assert error_of(set_at(PROD, path, "node")) == expected


def test_a_missing_keyword_is_reported_not_raised() -> None:
    partial = Resources(cpu_request="100m", memory_request="128Mi")  # type: ignore[call-arg]
    assert partial.memory_limit is MISSING
    cfg = set_at(PROD, ("web", "resources"), partial)
    assert error_of(cfg) == "prod: web.resources.memory_limit=<missing> is invalid: required in Resources"


def test_literals_and_optional_values_are_described() -> None:
    cfg = set_at(PROD, ("postgres", "mode"), "cloud")
    assert error_of(cfg) == "prod: postgres.mode='cloud' is invalid: one of 'in-cluster', 'managed'"
    assert describe(int | None) == "an integer or None"


@pytest.mark.parametrize("env", list(ENVIRONMENTS))
def test_the_committed_environments_have_no_type_mistakes(env: str) -> None:
    validate(ENVIRONMENTS[env], env)
