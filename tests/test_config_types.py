"""Type mistakes anywhere in the config: one line naming the field path and what it takes.

cattrs structures an environment's data into the config classes, strictly. Rather
than a hand-picked list, these tests walk every field of every class reachable from
``EnvConfig`` (``tests/config_walk.py``) and plant each kind of mistake wherever it
can occur: a string where an int belongs, None for a required block, an unknown
key in each class, a string where a list of strings belongs (a missing trailing
comma); and, for every int field at once, a bool, a float and integers beyond
int32. The data is a committed environment's, with the mistake planted
(``load(env, overlay)``). A block absent from that environment is created empty on
the way, so its required fields are reported missing beside the planted line.
"""

from __future__ import annotations

import dataclasses
from typing import Any, get_args, get_origin

import pytest

from tests.config_walk import (
    Path,
    at,
    bare,
    block_of,
    config_classes,
    dotted,
    fields_below,
    first_path,
    optional,
    planted,
    present,
)
from vibeyard.config import ConfigError, load, names
from vibeyard.config.load import data_of
from vibeyard.config.types import Disruption

INT = "an integer up to 2147483647 (int32)"
REQUIRED = " is invalid: required"

FIELDS = list(fields_below())
INT_PATHS = [(p, a) for p, a in FIELDS if bare(a) is int]
# Required blocks and tuples of blocks (an optional one takes None).
BLOCK_PATHS = [(p, a) for p, a in FIELDS if block_of(a) is not None and not optional(a)]
STRING_TUPLES = [(p, a) for p, a in FIELDS if get_origin(bare(a)) is tuple and get_args(bare(a))[0] is str]

# The environment that sets the most of what is walked, so the fewest blocks are created.
ENV = max(names(), key=lambda env: sum(present(data_of(env), p) for p, _ in FIELDS))
DATA = data_of(ENV)


def lines_of(overlay: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(ENV, overlay)
    return list(caught.value.lines)


def planted_lines(plants: list[tuple[Path, Any]]) -> list[str]:
    """The lines of the plants; besides them, only the fields missing from the blocks
    created on the way may be reported."""
    data = DATA
    for path, value in plants:
        data = planted(data, path, value)
    lines = lines_of(data)
    required = [line for line in lines if line.endswith(f"=<missing>{REQUIRED}")]
    created = {dotted(created_block(path)) for path, _ in plants} - {""}
    assert all(any(line.startswith(f"{ENV}: {block}") for block in created) for line in required), required
    return [line for line in lines if line not in required]


def created_block(path: Path) -> Path:
    """The first block on ``path`` that the environment does not set (``()``: none)."""
    for end in range(1, len(path)):
        if not present(DATA, path[:end]):
            return path[:end]
    return ()


def each(paths: list[tuple[Path, Any]]) -> list[Any]:
    return [pytest.param(path, annotation, id=dotted(path)) for path, annotation in paths]


def test_the_walk_reaches_every_kind_of_field() -> None:
    """Guard for the parametrizations below: they must not silently shrink."""
    assert len(INT_PATHS) > 40 and len(BLOCK_PATHS) > 20 and len(STRING_TUPLES) >= 5
    assert any(isinstance(part, int) for path, _ in INT_PATHS for part in path), "a field inside a tuple"
    assert any(optional(a) for _, a in INT_PATHS), "an optional int field"


@pytest.mark.parametrize(("path", "annotation"), each(INT_PATHS))
def test_a_string_where_an_int_belongs(path: Path, annotation: Any) -> None:
    allowed = INT + (" or None" if optional(annotation) else "")
    planted_here = planted_lines([(path, "3")])
    assert planted_here == [f"{ENV}: {dotted(path)}='3' is invalid: {allowed}"]


@pytest.mark.parametrize(
    "value",
    [True, False, 3.0, 2**31, -(2**31) - 1, 2**64, -(2**64), 10**100],
    ids=["True", "False", "float", "2**31", "-2**31-1", "2**64", "-2**64", "10**100"],
)
def test_bools_floats_and_integers_beyond_int32_at_every_int_field_at_once(value: Any) -> None:
    """Also: every mistake of one kind over the whole config is reported in one run."""
    planted_here = planted_lines([(path, value) for path, _ in INT_PATHS])
    shown = repr(value) if len(repr(value)) <= 60 else f"{repr(value)[:60]}...(101 characters)"
    expected = [
        f"{ENV}: {dotted(p)}={shown} is invalid: {INT}{' or None' if optional(a) else ''}"
        for p, a in INT_PATHS
    ]
    assert sorted(planted_here) == sorted(expected)


def test_the_edges_of_int32_are_allowed() -> None:
    load(ENV, at("monitoring.queue_depth_threshold", 2**31 - 1))
    load(ENV, at("web.disruption.max_unavailable", 2**31 - 1))


@pytest.mark.parametrize(("path", "annotation"), each(BLOCK_PATHS))
def test_none_where_a_block_is_required(path: Path, annotation: Any) -> None:
    cls = block_of(annotation)
    assert cls is not None
    article = "an" if cls.__name__[0] in "AEIOU" else "a"
    what = (
        f"a list of {cls.__name__} blocks"
        if get_origin(annotation) is tuple
        else f"{article} {cls.__name__} block"
    )
    planted_here = planted_lines([(path, None)])
    assert planted_here == [f"{ENV}: {dotted(path)}=None is invalid: {what}"]


@pytest.mark.parametrize("cls", config_classes(), ids=lambda c: c.__name__)
def test_an_unknown_key_in_any_config_class(cls: type) -> None:
    path = (*first_path(cls), "colour")
    planted_here = planted_lines([(path, "blue")])
    known = ", ".join(f.name for f in dataclasses.fields(cls))
    assert planted_here == [
        f"{ENV}: {dotted(path)}='blue' is invalid: not a field of {cls.__name__}; its fields are {known}"
    ]


def test_an_unknown_key_names_the_fields_there_are() -> None:
    """One written out in full: the walk above computes its list of fields."""
    assert lines_of(at("web.disruption.max_unavalable", 2)) == [
        f"{ENV}: web.disruption.max_unavalable=2 is invalid: not a field of Disruption; "
        "its fields are max_unavailable"
    ]


@pytest.mark.parametrize(("path", "annotation"), each(STRING_TUPLES))
def test_a_tuple_without_its_trailing_comma(path: Path, annotation: Any) -> None:
    allowed = "a list of strings" + (" or None" if optional(annotation) else "")
    planted_here = planted_lines([(path, "node")])
    assert planted_here == [
        f"{ENV}: {dotted(path)}='node' is invalid: {allowed}; write ('node',) with a trailing comma"
    ]


@pytest.mark.parametrize(
    ("overlay", "expected"),
    [
        (
            at("monitoring.error_rate_threshold", "0.05"),
            "monitoring.error_rate_threshold='0.05' is invalid: a finite number",
        ),
        (
            at("monitoring.latency_p95_seconds", True),
            "monitoring.latency_p95_seconds=True is invalid: a finite number",
        ),
        (
            at("monitoring.latency_p95_seconds", float("inf")),
            "monitoring.latency_p95_seconds=inf is invalid: a finite number",
        ),
        (
            at("monitoring.latency_p95_seconds", float("nan")),
            "monitoring.latency_p95_seconds=nan is invalid: a finite number",
        ),
        (at("postgres.mode", "cloud"), "postgres.mode='cloud' is invalid: one of 'in-cluster', 'managed'"),
        (
            at("image.pull_policy", None),
            "image.pull_policy=None is invalid: one of 'Always', 'IfNotPresent', 'Never'",
        ),
        (at("vpa_enabled", "yes"), "vpa_enabled='yes' is invalid: True or False"),
        (at("vpa_enabled", 1), "vpa_enabled=1 is invalid: True or False"),
        (at("web.health_path", 200), "web.health_path=200 is invalid: a string"),
        (at("extra_env", ["A=1"]), "extra_env=['A=1'] is invalid: a mapping of strings to strings"),
        (at("extra_env", {"A": 1}), "extra_env[A]=1 is invalid: a string"),
        (
            at("web.placement.node_selector", None),
            "web.placement.node_selector=None is invalid: a mapping of strings to strings",
        ),
        (at("web", "big"), "web='big' is invalid: a WebConfig block"),
        (
            at("workers", {"name": "default"}),
            "workers={'name': 'default'} is invalid: a list of WorkerPool blocks",
        ),
        (at("workers", ["default"]), "workers[0]='default' is invalid: a WorkerPool block"),
        (at("workers", [{"name": "default"}]), "workers[0].queues=<missing> is invalid: required"),
        (at("image.tag", 1.0), "image.tag=1.0 is invalid: a string"),
        # A key is named so that the line stays one line.
        (at("extra_env", {1: "on"}), "extra_env[1]=1 is invalid: a string as the key"),
        (at("extra_env", {"A\nB": 1}), "extra_env['A\\nB']=1 is invalid: a string"),
        (at("extra_env", {"": 1}), "extra_env['']=1 is invalid: a string"),
    ],
    ids=lambda x: "" if isinstance(x, str) else repr(x)[:40],
)
def test_what_each_kind_of_field_takes(overlay: dict[str, Any], expected: str) -> None:
    assert lines_of(overlay) == [f"{ENV}: {expected}"]


def test_unknown_keys_of_any_kind_each_on_one_line() -> None:
    known = ", ".join(f.name for f in dataclasses.fields(Disruption))
    why = f"is invalid: not a field of Disruption; its fields are {known}"
    assert lines_of(at("web.disruption", {1: "a", "max\nunavailable": 1, "colour": 2})) == [
        f"{ENV}: web.disruption.colour=2 {why}",
        f"{ENV}: web.disruption['max\\nunavailable']=1 {why}",
        f"{ENV}: web.disruption[1]='a' {why}",
    ]


def test_a_huge_value_is_cut_in_its_line() -> None:
    """A pasted 1 MB value must not become a 1 MB error line."""
    assert lines_of(at("web.replicas", "3" * 10**6)) == [
        f"{ENV}: web.replicas='{'3' * 59}...(1000000 characters) is invalid: {INT}"
    ]
