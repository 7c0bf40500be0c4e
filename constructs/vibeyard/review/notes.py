"""Upgrade notes: ``upgrades/<yyyy-mm-dd>-<slug>.md``, the hand steps that let a blocking change pass.

YAML front matter with exactly ``title`` and ``objects`` (``kind/namespace/name``, as make diff
prints them), then a body with the ordered commands. Only a note that is new relative to BASE
acknowledges: a note that is already in BASE described an earlier upgrade, and must not wave
through a later change of the same object.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import yaml

from vibeyard.review.errors import ReviewError

_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})-[a-z0-9]+(?:-[a-z0-9]+)*\.md$")
_PART = r"[a-z0-9](?:[-a-z0-9.]*[a-z0-9])?"
_OBJECT = re.compile(rf"^[A-Z][A-Za-z0-9]*/(?:{_PART}/)?{_PART}$")
FORMAT = "upgrades/<yyyy-mm-dd>-<slug>.md"


@dataclass(frozen=True)
class Note:
    path: str
    title: str
    objects: tuple[str, ...]
    # False: the change it orders raises no flag (an app contract change); it names the
    # objects it concerns, is listed for the reviewer, and acknowledges nothing.
    flagged: bool = True


def _fail(path: str, problem: str) -> ReviewError:
    return ReviewError(f"{path}: {problem}")


def _front_matter(path: str, text: str) -> tuple[Any, str]:
    lines = text.splitlines()
    end = next((i for i, line in enumerate(lines[1:], 1) if line.rstrip() == "---"), None)
    if not lines or lines[0].rstrip() != "---" or end is None:
        raise _fail(path, "no front matter; start the file with '---', then title: and objects:, then '---'")
    try:
        return yaml.load("\n".join(lines[1:end]), Loader=yaml.CSafeLoader), "\n".join(lines[end + 1 :])
    except yaml.YAMLError as exc:
        # Where the parser gave up; past the end (an unclosed bracket) it is where that began.
        mark = getattr(exc, "problem_mark", None)
        if mark is not None and mark.line >= end - 1:
            mark = getattr(exc, "context_mark", None) or mark
        where = f" at line {mark.line + 2}" if mark is not None else ""
        raise _fail(path, f"front matter is not valid YAML{where}; fix it") from None


def _objects(path: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise _fail(
            path, "objects: must be a non-empty list of kind/namespace/name (e.g. StatefulSet/dev/redis)"
        )
    for i, item in enumerate(value):
        if not isinstance(item, str) or not _OBJECT.match(item):
            raise _fail(
                path, f"objects[{i}]={item!r} is not kind/namespace/name (kind/name when cluster-scoped)"
            )
    if len(set(value)) != len(value):
        raise _fail(path, "objects: lists an object twice; name each once")
    return tuple(value)


def parse(path: str, data: bytes) -> Note:
    """One note, checked strictly: every mistake is a ReviewError naming the file and the field."""
    match = _NAME.match(PurePosixPath(path).name)
    if match is None:
        raise _fail(path, f"not an upgrade note name; name it {FORMAT}")
    try:
        datetime.date.fromisoformat(match[1])
        text = data.decode("utf-8")
    except ValueError:
        raise _fail(path, f"{match[1]} is not a date, or the file is not UTF-8; name it {FORMAT}") from None
    front, body = _front_matter(path, text)
    if not isinstance(front, dict):
        raise _fail(path, "front matter must be a mapping with title: and objects:")
    unknown = sorted(set(map(str, front)) - {"title", "objects", "flagged"})
    if unknown:
        raise _fail(
            path, f"unknown front matter key {unknown[0]!r}; only title:, objects: and flagged: are allowed"
        )
    flagged = front.get("flagged", True)
    if not isinstance(flagged, bool):
        raise _fail(path, "flagged: must be true or false")
    title = front.get("title")
    if not isinstance(title, str) or not title.strip() or "\n" in title.strip():
        raise _fail(path, "title: must be one non-empty line of text")
    objects = _objects(path, front.get("objects"))
    if "```" not in body:
        raise _fail(path, "the body gives no commands; write the ordered kubectl/argocd steps in ``` blocks")
    return Note(path, title.strip(), objects, flagged)


def new_notes(work: dict[str, bytes], base: dict[str, bytes], known: set[str]) -> list[Note]:
    """Every note in the working tree is checked; those absent at BASE are returned.

    A new note must name at least one object that exists at BASE or now (``known``): a
    note whose names are all misspelt would otherwise leave the change blocking with no
    hint why. A note may also name objects long gone (a hand-applied Application it
    prunes), so that alone is no error.
    """
    notes = []
    for path, data in sorted(work.items()):
        if PurePosixPath(path).name.startswith("."):
            continue  # .gitkeep and the like
        note = parse(path, data)
        if path in base:
            continue
        if note.objects and not any(key in known for key in note.objects):
            raise _fail(
                path,
                f"objects[0]={note.objects[0]!r}: none of its objects is in dist/ at BASE or now; "
                "copy kind/namespace/name from make diff's output",
            )
        notes.append(note)
    return notes
