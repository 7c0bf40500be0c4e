"""make diff's output, as text (the terminal) or Markdown (the CI job summary): risk flags first."""

from __future__ import annotations

import re

from vibeyard.review.compare import FolderDiff, Review
from vibeyard.review.risks import Flag

MAX_FIELDS = 25  # changed fields shown per object; the rest are counted


def _flag(flag: Flag) -> str:
    where = f"{flag.folder or 'dist/'}: "
    return f"{where}{flag.key}: {flag.text}" if flag.key else f"{where}{flag.text}"


def _flag_lines(review: Review) -> list[str]:
    lines = []
    for flag, note in review.blocking:
        if note is None:
            lines.append(f"BLOCKING      {_flag(flag)}")
        else:
            lines.append(f"acknowledged  {_flag(flag)}")
            lines.append(f"              upgrade note: {note.title} ({note.path})")
    lines += [f"info          {_flag(flag)}" for flag in review.info]
    return lines


def _folder_lines(folder: FolderDiff) -> list[str]:
    lines = []
    if folder.release:
        lines.append(f"release: {folder.release[0]} → {folder.release[1]}")
    lines += [f"+ {obj.key}  ({obj.path})" for obj in folder.added]
    lines += [f"- {obj.key}  ({obj.path})" for obj in folder.removed]
    for obj, found in folder.changed:
        lines.append(f"~ {obj.key}")
        for change in found[:MAX_FIELDS]:
            lines += ["    " + line for line in change.lines()]
        if len(found) > MAX_FIELDS:
            lines.append(f"    … {len(found) - MAX_FIELDS} more changed fields")
    for sign, path, diff in folder.files:
        head, *rest = diff.lines() if diff else [path]
        lines += [f"{sign} {head}", *("    " + line for line in rest)]
    return lines


def _totals(review: Review) -> str:
    acknowledged = len(review.blocking) - len(review.unacknowledged)
    return (
        f"{len(review.unacknowledged)} blocking without an upgrade note, "
        f"{acknowledged} acknowledged, {len(review.info)} informational"
    )


def text(review: Review) -> str:
    out = [f"make diff: dist/ at {review.base[:12]} ({review.how}) → the working tree", ""]
    flags = _flag_lines(review)
    out += ["Risk flags: " + _totals(review), *("  " + line for line in flags), ""]
    if review.notes:
        out += [f"Upgrade notes new in this change: {len(review.notes)}"]
        out += [f"  upgrade note: {note.title} ({note.path})" for note in review.notes] + [""]
    for folder in review.folders:
        body = _folder_lines(folder)
        if body:
            out += [f"== {folder.name or 'dist/'}", *("  " + line for line in body)]
        out.append(folder.summary())
        out.append("")
    return "\n".join(out).rstrip() + "\n"


_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def _md(value: str) -> str:
    return _SPECIAL.sub(r"\\\1", value)


def _fenced(lines: list[str], info: str) -> list[str]:
    """A code block whose fence is longer than any run of backticks inside (dashboards hold some)."""
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + info, *lines, fence]


def markdown(review: Review) -> str:
    out = [f"## Rendered changes: `dist/` at `{review.base[:12]}` ({_md(review.how)}) → this change", ""]
    out += [f"**Risk flags:** {_totals(review)}", ""]
    groups = (
        ("Blocking, no upgrade note: CI fails until an upgrade note names the object", False),
        ("Blocking, acknowledged by an upgrade note", True),
    )
    for heading, acknowledged in groups:
        items = [(f, n) for f, n in review.blocking if (n is not None) == acknowledged]
        if items:
            out += [f"### {heading}", ""]
            for flag, note in items:
                line = f"- **{_md(flag.folder or 'dist/')}** `{flag.key}`: {_md(flag.text)}"
                out.append(line + (f" (upgrade note: *{_md(note.title)}*, `{note.path}`)" if note else ""))
            out.append("")
    if review.info:
        out += ["### Informational", "", *_fenced([_flag(flag) for flag in review.info], "text"), ""]
    if review.notes:
        out += ["### Upgrade notes new in this change", ""]
        out += [f"- *{_md(note.title)}* (`{note.path}`)" for note in review.notes] + [""]
    out += ["### Objects per environment", ""]
    out += [f"- {_md(folder.summary())}" for folder in review.folders]
    for folder in review.folders:
        body = _folder_lines(folder)
        if body:
            out += ["", f"#### {_md(folder.name or 'dist/')}", "", *_fenced(body, "diff")]
    return "\n".join(out).rstrip() + "\n"
