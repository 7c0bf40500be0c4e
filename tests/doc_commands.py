"""Every kubectl, argocd and kubeseal command in the Markdown docs, checked against the tool.

Commands are taken from fenced shell blocks (``sh``, ``bash``, ``shell``, ``console`` or
none; lines ending in ``\\`` joined) and from inline code. A small shell reader splits
each line into simple commands at ``|``, ``&&``, ``||``, ``;`` and parentheses, reads
quotes, and follows every ``$(...)``, so a command inside a substitution or after a pipe
is found too. A word whose value the doc leaves open (``$VAR``, ``$(...)``, ``<name>``,
``...``) is "opaque". Comments are read as well, but a tool named in one counts as a
command only if a flag or a real subcommand follows it (``# kubeseal CLI v0.36`` is prose).

The check walks the words as the tool's own parser (cobra/pflag) does: each literal word
where the command has subcommands must be one of them (or an alias); every flag, before
or after the subcommand, must be one the final command takes, and a flag that takes a
value consumes the next word. Words after ``--`` belong to another program.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.cli_help import Command, Tool

TOOLS = ("kubectl", "argocd", "kubeseal")
SHELL_FENCES = {"", "sh", "bash", "shell", "console", "zsh"}
# Words that may stand before the command itself.
_PREFIXES = {"sudo", "time", "env", "exec", "command", "nohup", "watch", "xargs", "!", "{", "}"}
_KEYWORDS = {"do", "then", "else", "elif", "if", "while", "until"}
_ASSIGNMENT = re.compile(r"[A-Za-z_]\w*=")
_PLACEHOLDER = re.compile(r"<[A-Za-z][^<>\n]*>")
_VARIABLE = re.compile(r"\$(?:\{[^}]*\}|\w+|.)?")
_OPERATORS = ("&&", "||", "|&", ";;", "|", ";", "&", "(", ")", "\n")
_FENCE = re.compile(r"^\s*(```+|~~~+)\s*([\w+-]*)")
_INLINE = re.compile(r"`([^`\n]+)`")


@dataclass(frozen=True)
class Word:
    text: str
    opaque: bool = False

    @property
    def is_flag(self) -> bool:
        return self.text.startswith("-") and len(self.text) > 1 and not self.text.startswith("-$")


@dataclass(frozen=True)
class Invocation:
    where: str
    tool: str
    words: tuple[Word, ...]
    text: str
    strict: bool = True  # False: found in a comment, may be prose


def _closing(text: str, i: int) -> int:
    """Index of the ``)`` that closes the ``(`` at ``text[i]`` (quotes skipped)."""
    depth, quote = 0, ""
    for j in range(i, len(text)):
        c = text[j]
        if quote:
            quote = "" if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return j
    return len(text)


def _string_end(text: str, i: int) -> int:
    """Index of the ``"`` that closes the one at ``text[i]`` (escapes and ``$(...)`` skipped)."""
    j = i + 1
    while j < len(text) and text[j] != '"':
        if text[j] == "\\":
            j += 1
        elif text.startswith("$(", j):
            j = _closing(text, j + 1)
        j += 1
    return j


@dataclass
class _Reader:
    """One line of shell: its simple commands, the bodies of its substitutions, its comment."""

    text: str
    commands: list[list[Word]] = field(default_factory=list)
    substitutions: list[str] = field(default_factory=list)
    comment: str = ""
    _words: list[Word] = field(default_factory=list)
    _buf: list[str] = field(default_factory=list)
    _opaque: bool = False
    _started: bool = False
    _redirected: bool = False

    def add(self, text: str, opaque: bool = False) -> None:
        self._buf.append(text)
        self._opaque |= opaque
        self._started = True

    def end_word(self) -> None:
        if self._started and not self._redirected:
            text = "".join(self._buf)
            self._words.append(Word(text, self._opaque or text in ("...", "…")))
        self._redirected = self._redirected and not self._started
        self._buf, self._opaque, self._started = [], False, False

    def end_command(self) -> None:
        self.end_word()
        if self._words:
            self.commands.append(self._words)
        self._words, self._redirected = [], False

    def read(self) -> _Reader:
        text, i = self.text, 0
        while i < len(text):
            i = self._step(text, i)
        self.end_command()
        return self

    def _step(self, text: str, i: int) -> int:  # noqa: PLR0911 - one branch per shell construct
        c = text[i]
        if c in " \t":
            self.end_word()
            return i + 1
        if c == "#" and not self._started:
            self.comment = text[i + 1 :]
            return len(text)
        if text.startswith(("$(", "<(", ">("), i):
            end = _closing(text, i + 1)
            self.substitutions.append(text[i + 2 : end])
            self.add(text[i : end + 1], opaque=True)
            return end + 1
        if c == "'":
            end = text.find("'", i + 1) % (len(text) + 1)
            self.add(text[i + 1 : end])
            return end + 1
        if c == '"':
            end = _string_end(text, i)
            inner = text[i + 1 : end]
            self.substitutions += [
                inner[m.start() + 2 : _closing(inner, m.start() + 1)] for m in re.finditer(r"\$\(", inner)
            ]
            self.add(inner, opaque="$" in inner or bool(_PLACEHOLDER.search(inner)))
            return end + 1
        if c == "\\":
            self.add(text[i + 1 : i + 2])
            return i + 2
        if c == "$":
            end = _VARIABLE.match(text, i).end()  # type: ignore[union-attr]  # matches any "$"
            self.add(text[i:end], opaque=True)
            return end
        if m := _PLACEHOLDER.match(text, i):
            self.add(m.group(0), opaque=True)
            return m.end()
        if c in "<>":
            return self._redirect(text, i)
        if op := next((o for o in _OPERATORS if text.startswith(o, i)), None):
            self.end_command()
            return i + len(op)
        self.add(c)
        return i + 1

    def _redirect(self, text: str, i: int) -> int:
        """``>file``, ``2>&1``, ``< file``: the operator and its target are no words."""
        if "".join(self._buf).isdigit():
            self._buf, self._started = [], False
        self.end_word()
        while i < len(text) and text[i] in "<>&":
            i += 1
        while i < len(text) and text[i] in " \t":
            i += 1
        self._redirected = True
        return i


def _command_words(words: list[Word]) -> list[Word]:
    """Without the assignments, wrappers and keywords before the command's name."""
    i = 0
    while i < len(words) and (
        words[i].text in _PREFIXES | _KEYWORDS or (_ASSIGNMENT.match(words[i].text) and i + 1 < len(words))
    ):
        i += 1
    return words[i:]


def invocations(text: str, where: str, strict: bool = True) -> Iterator[Invocation]:
    """Each tool invocation in one line of shell, substitutions and comments included."""
    line = _Reader(text).read()
    for words in line.commands:
        command = _command_words(words)
        if command and command[0].text in TOOLS and not command[0].opaque:
            yield Invocation(where, command[0].text, tuple(command[1:]), text.strip(), strict)
    for body in line.substitutions:
        yield from invocations(body, where, strict)
    for m in re.finditer(rf"(?<![\w./-])(?:{'|'.join(TOOLS)})(?=\s)", line.comment):
        yield from invocations(line.comment[m.start() :], where, strict=False)


def _shell_lines(lines: list[str], start: int) -> Iterator[tuple[int, str]]:
    """The logical lines of one fenced block: continuations joined (in comments too)."""
    i = 0
    while i < len(lines):
        number, text = start + i, lines[i].removeprefix("$ ")
        while text.rstrip().endswith("\\") and i + 1 < len(lines):
            i += 1
            nxt = lines[i]
            if text.lstrip().startswith("#"):
                nxt = nxt.lstrip().removeprefix("#")
            text = text.rstrip()[:-1] + " " + nxt
        yield number, text
        i += 1


def in_markdown(text: str, name: str) -> Iterator[Invocation]:
    """Every tool invocation in a Markdown document (``name`` labels the findings)."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if not fence:
            for span in _INLINE.findall(lines[i]):
                yield from invocations(span, f"{name}:{i + 1}")
            i += 1
            continue
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip().startswith(fence[1])), len(lines))
        if fence[2].lower() in SHELL_FENCES:
            for number, line in _shell_lines(lines[i + 1 : end], i + 2):
                yield from invocations(line, f"{name}:{number}")
        i = end + 1


def doc_files(root: Path) -> list[Path]:
    """The Markdown that users read: README.md, docs/*.md and upgrades/*.md."""
    return [
        root / "README.md",
        *sorted((root / "docs").glob("*.md")),
        *sorted((root / "upgrades").glob("*.md")),
    ]


# --- checking one invocation ------------------------------------------------------------


def _subcommand(tool: Tool, path: tuple[str, ...], node: Command, name: str) -> str | None:
    if name in node.subcommands:
        return name
    return next((c for c in sorted(node.subcommands) if name in tool.command((*path, c)).aliases), None)


def _takes_next(word: Word, flags: dict[str, bool]) -> bool:
    """Whether a flag word consumes the following word as its value."""
    name, eq, _ = word.text.partition("=")
    if name.startswith("--"):
        return bool(flags.get(name)) and not eq
    letters = name[1:]
    for k, letter in enumerate(letters):
        if flags.get(f"-{letter}"):
            return not letters[k + 1 :] and not eq
    return False


def _flag_problem(word: Word, flags: dict[str, bool]) -> str | None:
    name = word.text.partition("=")[0]
    if name.startswith("--"):
        return None if name in flags else f"unknown flag {name}"
    for letter in name[1:]:
        if f"-{letter}" not in flags:
            return f"unknown flag -{letter}" + (f" (in {name})" if len(name) > 2 else "")
        if flags[f"-{letter}"]:
            return None  # the rest of the word is its value
    return None


@dataclass(frozen=True)
class Result:
    path: tuple[str, ...]
    problems: tuple[str, ...]


def check(inv: Invocation, tool: Tool) -> Result | None:
    """The command path the words select and what is wrong; None for prose in a comment."""
    path: tuple[str, ...] = ()
    node = tool.command(path)
    words, flags_seen, resolving, i = inv.words, [], True, 0
    if not inv.strict and not (words and (words[0].is_flag or _subcommand(tool, path, node, words[0].text))):
        return None
    while i < len(words):
        word = words[i]
        i += 1
        if word.text == "--" and not word.opaque:
            break
        if word.is_flag:
            flags_seen.append(word)
            i += _takes_next(word, node.flags)
        elif resolving and node.subcommands and not word.opaque:
            sub = _subcommand(tool, path, node, word.text)
            if sub is None:
                known = ", ".join(sorted(node.subcommands))
                return Result(
                    path, (f"{' '.join((inv.tool, *path))}: no subcommand {word.text!r} (it has {known})",)
                )
            path += (sub,)
            node = tool.command(path)
        else:
            resolving = False
    problems = [p for w in flags_seen if (p := _flag_problem(w, node.flags))]
    where = " ".join((inv.tool, *path))
    return Result(path, tuple(f"{where}: {p}" for p in problems))
