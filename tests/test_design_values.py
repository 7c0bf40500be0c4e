"""The rendered output holds every design value of tests/design_values.py.

One test per row, named after it, so a changed default fails once, here, with the row
to edit if the change is meant.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.design_values import ALL, PINS, Pin, Setting
from tests.support import Manifest, Output

_STEP = re.compile(r'\.?([A-Za-z_][\w-]*)|\["([^"]+)"\]|\[([\w.]+)=([^\]]+)\]')


def steps(path: str) -> list[str | tuple[str, str]]:
    """``a.b["c.d"][e.f=g]`` as ["a", "b", "c.d", ("e.f", "g")]."""
    out: list[str | tuple[str, str]] = []
    at = 0
    while at < len(path):
        m = _STEP.match(path, at)
        if not m or m.end() == at:
            raise ValueError(f"bad path {path!r} at {path[at:]!r}")
        key, quoted, field, value = m.groups()
        out.append((field, value) if field else key or quoted)
        at = m.end()
    return out


def lookup(node: Any, path: str) -> Any:
    """The value at ``path``; KeyError names the step that is missing."""
    for step in steps(path):
        if isinstance(step, tuple):
            field, value = step
            found = [item for item in node if str(_get(item, field)) == value]
            if len(found) != 1:
                raise KeyError(f"{len(found)} items with {field}={value}")
            node = found[0]
        elif not isinstance(node, dict) or step not in node:
            raise KeyError(step)
        else:
            node = node[step]
    return node


def _get(node: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        node = node.get(key) if isinstance(node, dict) else None
    return node


def setting(text: str, key: str) -> str | None:
    """The last ``key value`` or ``key = value`` line of a config file, as Redis and PgBouncer read it."""
    found = None
    for line in text.splitlines():
        m = re.match(rf"\s*{re.escape(key)}(?:\s*=\s*|\s+)(.*?)\s*$", line)
        if m:
            found = m.group(1)
    return found


def targets(pin: Pin, outputs: dict[str, Output], variants: dict[str, Output]) -> list[tuple[str, Manifest]]:
    kind, name = pin.obj.split("/", 1)
    scope = outputs if pin.env == ALL else {pin.env: {**outputs, **variants}[pin.env]}
    return [
        (env, obj)
        for env, out in scope.items()
        for obj in out.of_kind(kind)
        if name == "*" or obj["metadata"]["name"] == name
    ]


@pytest.mark.parametrize("pin", PINS, ids=str)
def test_the_rendered_output_holds_the_design_value(
    pin: Pin, outputs: dict[str, Output], variants: dict[str, Output]
) -> None:
    found = targets(pin, outputs, variants)
    assert found, f"{pin}: no environment renders {pin.obj}"
    for env, obj in found:
        where = f"{env}: {obj['kind']}/{obj['metadata']['name']} {pin.path}"
        try:
            value = lookup(obj, pin.path)
        except KeyError as missing:
            pytest.fail(f"{where}: not set ({missing}); the design value is {pin.value!r}")
        expected: object = pin.value
        if isinstance(pin.value, Setting):
            value = setting(value, pin.value.key)
            where, expected = f"{where} {pin.value.key}", pin.value.value
        assert value == expected, (
            f"{where} is {value!r}, the design value is {expected!r}; "
            "if the change is meant, edit its row in tests/design_values.py"
        )


def test_each_design_value_is_pinned_once() -> None:
    names = [str(pin) for pin in PINS]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("spec.a", 1),
        ('metadata["x.io/y"]', "z"),
        ("spec.list[k.n=two].v", 2),
    ],
)
def test_a_path_reads_what_it_says(path: str, expected: object) -> None:
    obj = {
        "spec": {"a": 1, "list": [{"k": {"n": "one"}, "v": 1}, {"k": {"n": "two"}, "v": 2}]},
        "metadata": {"x.io/y": "z"},
    }
    assert lookup(obj, path) == expected


@pytest.mark.parametrize("path", ["spec.b", "spec.list[k.n=three].v", "spec.a.c"])
def test_a_path_that_is_not_there_is_a_key_error(path: str) -> None:
    with pytest.raises(KeyError):
        lookup({"spec": {"a": 1, "list": [{"k": {"n": "one"}}]}}, path)


def test_the_last_setting_wins() -> None:
    text = "maxmemory-policy noeviction\nappendonly yes\nmaxmemory-policy allkeys-lru\npool_mode = session\n"
    assert setting(text, "maxmemory-policy") == "allkeys-lru"
    assert setting(text, "pool_mode") == "session"
    assert setting(text, "appendfsync") is None
