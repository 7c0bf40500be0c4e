"""The config's shape, read from the classes themselves, for the config tests.

Walking the annotations from ``EnvConfig`` (rather than listing classes and
fields) means that a class or field added to the config is covered by the
walking tests without a test edit.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import types
import typing
from collections.abc import Iterator
from typing import Any, get_args, get_origin

from vibeyard.config import EnvConfig

Path = tuple[str | int, ...]


def bare(annotation: Any) -> Any:
    """The annotation without its ``| None``."""
    if get_origin(annotation) in (types.UnionType, typing.Union):
        rest = [a for a in get_args(annotation) if a is not type(None)]
        return rest[0] if len(rest) == 1 else annotation
    return annotation


def optional(annotation: Any) -> bool:
    return type(None) in get_args(annotation)


def block_of(annotation: Any) -> type | None:
    """The config class a field holds: itself, ``| None``, or a tuple of them."""
    inner = bare(annotation)
    if get_origin(inner) is tuple:
        inner = get_args(inner)[0]
    return inner if isinstance(inner, type) and dataclasses.is_dataclass(inner) else None


def hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def config_classes() -> list[type]:
    """Every config class reachable from ``EnvConfig`` through field annotations, ``EnvConfig`` first."""
    found: list[type] = []

    def visit(cls: type) -> None:
        if cls in found:
            return
        found.append(cls)
        for annotation in hints(cls).values():
            if (inner := block_of(annotation)) is not None:
                visit(inner)

    visit(EnvConfig)
    return found


def fields_below(cls: type = EnvConfig, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every field below ``cls``, at every place it occurs (item 0 of a tuple of blocks),
    with its annotation."""
    annotations = hints(cls)
    for f in dataclasses.fields(cls):
        here = (*path, f.name)
        annotation = annotations[f.name]
        yield here, annotation
        inner = block_of(annotation)
        if inner is not None:
            tuple_of = get_origin(bare(annotation)) is tuple
            yield from fields_below(inner, (*here, 0) if tuple_of else here)


def first_path(cls: type) -> Path:
    """Where a block of class ``cls`` first occurs below ``EnvConfig`` (``()``: the top)."""
    if cls is EnvConfig:
        return ()
    for path, annotation in fields_below():
        if block_of(annotation) is cls:
            return (*path, 0) if get_origin(bare(annotation)) is tuple else path
    raise AssertionError(f"{cls.__name__} is not below EnvConfig")


def dotted(path: Path) -> str:
    """``workers[0].resources``: how an error line names a path."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def present(data: Any, path: Path) -> bool:
    """``data`` holds something (not None, not an empty tuple) at every step of ``path``."""
    for key in path:
        if isinstance(key, int):
            if not isinstance(data, list) or len(data) <= key:
                return False
        elif not isinstance(data, dict) or data.get(key) is None:
            return False
        data = data[key]
    return True


def planted(data: dict[str, Any], path: Path, value: Any) -> dict[str, Any]:
    """A copy of ``data`` with ``value`` at ``path``. A block missing on the way (absent,
    None, an empty tuple) is created empty, so its required fields are reported missing."""
    root = copy.deepcopy(data)
    node: Any = root
    for key, following in itertools.pairwise(path):
        child = node[key] if present(node, (key,)) else None
        if not child:
            child = [{}] if isinstance(following, int) else {}
            node[key] = child
        node = child
    node[path[-1]] = value
    return root


def at(path: str, value: Any) -> dict[str, Any]:
    """The overlay that sets the dotted ``path`` (blocks only, no tuple items) to ``value``."""
    out: Any = value
    for key in reversed(path.split(".")):
        out = {key: out}
    result: dict[str, Any] = out
    return result
