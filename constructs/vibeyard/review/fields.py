"""Field-level differences between two versions of an object, printed compactly.

In the spirit of dyff and ``argocd app diff``: one line per changed leaf, ``path: before → after``.
Lists of named items (containers, env, ports, volumes) are matched by name, and other lists
(policy rules, args) by content, so inserting one item does not show every later one as
changed. Long or multi-line strings (dashboards,
redis.conf, pgbouncer.ini) show a few changed lines, not the blob.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from typing import Any

import yaml

MISSING: Any = object()
SHORT = 80  # longer values are cut (scalars) or line-diffed (strings)
SHOWN_LINES = 6  # changed lines shown for a long string
LINE_WIDTH = 120
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class Change:
    path: str
    before: Any
    after: Any

    def lines(self) -> list[str]:
        """The change as text: one line, or a head line and a short line diff below it."""
        long_text = [v for v in (self.before, self.after) if isinstance(v, str) and _is_long(v)]
        if not long_text:
            return [f"{self.path}: {flow(self.before)} → {flow(self.after)}"]
        if all(isinstance(v, str) and "\n" not in v.rstrip("\n") for v in (self.before, self.after)):
            return _one_line(self.path, self.before, self.after)
        return [
            f"{self.path}: {_text_summary(self.before, self.after)}",
            *_line_diff(self.before, self.after),
        ]


def _is_long(text: str) -> bool:
    return "\n" in text.rstrip("\n") or len(text) > SHORT


def flow(value: Any) -> str:
    """A value on one line, as YAML flow (so ``'1'`` and ``1`` differ), cut at SHORT characters."""
    if value is MISSING:
        return "(none)"
    text = yaml.dump(value, Dumper=yaml.CSafeDumper, default_flow_style=True, width=10**9, allow_unicode=True)
    text = text.removesuffix("\n...\n").strip()
    return text if len(text) <= SHORT else text[: SHORT - 1] + "…"


def _parting(before: str, after: str) -> int:
    """Where two strings first differ (the shorter one's length if one begins the other)."""
    same = next((i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b), None)
    return min(len(before), len(after)) if same is None else same


def _window(text: str, start: int, width: int) -> str:
    cut = ("…" if start else "") + text[start:]
    return cut if len(cut) <= width else cut[: width - 1] + "…"


def _one_line(path: str, before: str, after: str) -> list[str]:
    """Two long one-line strings: where they part, and both from a little before that point."""
    same = _parting(before, after)
    start = max(0, same - 20)
    head = f"{path}: text from character {same + 1} ({len(before)} → {len(after)} characters)"
    return [head, f"  -{_window(before, start, LINE_WIDTH)}", f"  +{_window(after, start, LINE_WIDTH)}"]


def _text_lines(value: Any) -> list[str]:
    return value.splitlines() if isinstance(value, str) else []


def _text_summary(before: Any, after: Any) -> str:
    if before is MISSING or after is MISSING:
        present = after if before is MISSING else before
        word = "added" if before is MISSING else "removed"
        return f"{word} ({len(_text_lines(present))} lines)"
    old, new = _text_lines(before), _text_lines(after)
    diff = [
        line
        for line in difflib.unified_diff(old, new, lineterm="", n=0)
        if not line.startswith(("---", "+++", "@@"))
    ]
    plus = sum(line.startswith("+") for line in diff)
    return f"{len(old)} → {len(new)} lines, +{plus} -{len(diff) - plus}"


def _hunk(minus: list[str], plus: list[str]) -> list[str]:
    """A replaced block's lines; a long line and the one replacing it are both shown from a
    little before where they part, so a late change in a long line stays visible."""
    starts = [
        max(0, _parting(a, b) - 20) if max(len(a), len(b)) >= LINE_WIDTH - 1 else 0
        for a, b in zip(minus, plus, strict=False)
    ]

    def shown(sign: str, lines: list[str]) -> list[str]:
        return [
            f"  {sign}{_window(line, starts[k] if k < len(starts) else 0, LINE_WIDTH - 1)}"
            for k, line in enumerate(lines)
        ]

    return [*shown("-", minus), *shown("+", plus)]


def _line_diff(before: Any, after: Any) -> list[str]:
    if before is MISSING or after is MISSING or not isinstance(before, str) or not isinstance(after, str):
        return []
    old, new = before.splitlines(), after.splitlines()
    changed: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag != "equal":
            changed += _hunk(old[i1:i2], new[j1:j2])
    shown = changed[:SHOWN_LINES]
    if len(changed) > SHOWN_LINES:
        shown.append(f"  … {len(changed) - SHOWN_LINES} more changed lines")
    return shown


def _key(key: Any) -> str:
    text = str(key)
    return f".{text}" if _PLAIN_KEY.match(text) else f'["{text}"]'


def _named(items: list[Any]) -> dict[str, Any] | None:
    """The items by their ``name`` when every item is a mapping with a distinct one."""
    named = {
        item["name"]: item for item in items if isinstance(item, dict) and isinstance(item.get("name"), str)
    }
    return named if len(named) == len(items) else None


def _compare_lists(path: str, old: list[Any], new: list[Any], out: list[Change]) -> None:
    old_named, new_named = _named(old), _named(new)
    if old_named is not None and new_named is not None and (old or new):
        for name in [*old_named, *(n for n in new_named if n not in old_named)]:
            compare(f"{path}[name={name}]", old_named.get(name, MISSING), new_named.get(name, MISSING), out)
        return
    scalars = not any(isinstance(item, dict | list) for item in [*old, *new])
    if scalars and len(flow(old)) < SHORT and len(flow(new)) < SHORT:
        out.append(Change(path, old, new))
        return
    _aligned(path, old, new, out)


def _aligned(path: str, old: list[Any], new: list[Any], out: list[Change]) -> None:
    """Unnamed items (policy rules, args) matched by content, so an inserted one is one
    change; a changed item is compared field by field where it replaces one. An added or
    changed item is numbered as in the new list, a removed one as in the old."""

    def key(item: Any) -> str:
        return json.dumps(item, sort_keys=True, default=str)

    same = difflib.SequenceMatcher(None, [key(i) for i in old], [key(i) for i in new], autojunk=False)
    for tag, i1, i2, j1, j2 in same.get_opcodes():
        if tag == "equal":
            continue
        pairs = min(i2 - i1, j2 - j1)
        for k in range(pairs):
            compare(f"{path}[{j1 + k}]", old[i1 + k], new[j1 + k], out)
        for k in range(i1 + pairs, i2):
            compare(f"{path}[{k}]", old[k], MISSING, out)
        for k in range(j1 + pairs, j2):
            compare(f"{path}[{k}]", MISSING, new[k], out)


def compare(path: str, old: Any, new: Any, out: list[Change]) -> None:
    """Append to ``out`` every leaf where ``old`` and ``new`` differ, by path."""
    if old == new and type(old) is type(new):
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in [*old, *(k for k in new if k not in old)]:
            compare(path + _key(key), old.get(key, MISSING), new.get(key, MISSING), out)
    elif isinstance(old, list) and isinstance(new, list):
        _compare_lists(path, old, new, out)
    else:
        out.append(Change(path, old, new))


def changes(old: Any, new: Any) -> list[Change]:
    out: list[Change] = []
    compare("", old, new, out)
    return [Change(c.path.removeprefix("."), c.before, c.after) for c in out]
