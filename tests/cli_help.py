"""What a CLI accepts, read from its own ``--help``: subcommands, aliases and flags.

kubectl is asked live (``.tools/cli/bin/kubectl``, pinned by scripts/install-cli-tools.sh),
one ``kubectl <path> --help`` per command path, cached, plus ``kubectl options`` for the
flags every command takes. argocd and kubeseal ship in no package registry this project
can reach, so their command trees are read from ``tests/data/cli/<tool>.json``, written by
this module's ``__main__`` (below) from the tool's own help; each file names its version
and source.

Two help formats are understood: kubectl's (``    -n, --namespace='':``, a value unless
the default is true/false) and pflag's, used by cobra, argocd and kubeseal
(``  -N, --app-namespace string   usage``, a value when a type follows the name).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

ROOT = Path(__file__).resolve().parents[1]
KUBECTL = ROOT / ".tools" / "cli" / "bin" / "kubectl"
REFERENCES = ROOT / "tests" / "data" / "cli"

# "--name" or "-n" -> whether the flag takes the next word as its value
Flags = dict[str, bool]

_KUBECTL_FLAG = re.compile(r"^ {4}(?:-(\w), )?--([\w.-]+)=(.*):$")
_PFLAG_FLAG = re.compile(r"^ +(?:-(\w), )?--([\w.-]+)(?: (\S+))?(?: {2,}|$)")
_COMMAND = re.compile(r"^  ([a-z][\w-]*)(?: {2,}\S.*)?$")


class Entry(TypedDict, total=False):
    """One command in tests/data/cli/<tool>.json: flags as "--name" or "--name=" (takes a
    value), the index of the flag set it inherits, and its other names."""

    flags: list[str]
    inherited: int
    aliases: list[str]


@dataclass
class Command:
    subcommands: set[str] = field(default_factory=set)
    aliases: set[str] = field(default_factory=set)
    flags: Flags = field(default_factory=dict)


def _add_flag(flags: Flags, short: str | None, long: str, takes_value: bool) -> None:
    flags[f"--{long}"] = takes_value
    if short:
        flags[f"-{short}"] = takes_value


def _flag_line(line: str, flags: Flags) -> None:
    if m := _KUBECTL_FLAG.match(line):
        _add_flag(flags, m[1], m[2], m[3] not in ("true", "false"))
    elif m := _PFLAG_FLAG.match(line):
        # `string[="x"]`: the value is optional and only ever given as --name=x
        _add_flag(flags, m[1], m[2], bool(m[3]) and "[=" not in m[3])


def parse_help(text: str) -> Command:
    """The subcommands, aliases and flags that one ``--help`` text lists."""
    command = Command()
    section = ""
    for line in text.splitlines():
        if not line.strip() or line.startswith("```"):
            continue
        heading = line.lstrip("#").strip().lower()
        if section == "aliases" and not heading.endswith(":"):
            command.aliases |= {a.strip() for a in line.split(",")}
            section = ""  # one line of them
        elif not line[0].isspace():
            section = heading.rstrip(":")
        elif "option" in section or "flag" in section or section.startswith("usage of"):
            _flag_line(line, command.flags)
        elif "commands" in section and (m := _COMMAND.match(line)):
            command.subcommands.add(m[1])
    return command


class LiveTool:
    """A real binary, asked once per command path."""

    def __init__(self, binary: Path, global_flags_args: tuple[str, ...] = ()) -> None:
        self.binary = binary
        self._cache: dict[tuple[str, ...], Command] = {}
        self._global: Flags = {}
        if global_flags_args:
            self._global = parse_help(self.run(global_flags_args)).flags

    def run(self, args: tuple[str, ...]) -> str:
        """stdout; some tools exit 1 after printing their help (pflag's ErrHelp), so only an
        empty answer is an error."""
        done = subprocess.run(
            [str(self.binary), *args],
            check=False,
            capture_output=True,
            text=True,
            env={"KUBECONFIG": "/dev/null"},
        )
        if not done.stdout.strip():
            raise RuntimeError(
                f"{self.binary} {' '.join(args)}: exit {done.returncode}, {done.stderr.strip()}"
            )
        return done.stdout

    def command(self, path: tuple[str, ...]) -> Command:
        if path not in self._cache:
            found = parse_help(self.run((*path, "--help")))
            found.flags = {**self._global, **found.flags}
            self._cache[path] = found
        return self._cache[path]


class ReferenceTool:
    """A command tree written by this module's ``__main__`` from the tool's own help."""

    def __init__(self, path: Path) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        self.version: str = data["version"]
        self._commands: dict[str, Entry] = data["commands"]
        self._inherited: list[list[str]] = data["inherited"]

    def command(self, path: tuple[str, ...]) -> Command:
        key = " ".join(path)
        entry = self._commands[key]
        prefix = f"{key} " if key else ""
        flags: Flags = {}
        for spec in [*entry["flags"], *self._inherited[entry["inherited"]]]:
            flags[spec.rstrip("=")] = spec.endswith("=")
        children = {k[len(prefix) :] for k in self._commands if k.startswith(prefix) and k != key}
        return Command(
            subcommands={c for c in children if " " not in c},
            aliases=set(entry.get("aliases", [])),
            flags=flags,
        )


Tool = LiveTool | ReferenceTool


def kubectl() -> LiveTool:
    return LiveTool(KUBECTL, ("options",))


def reference(name: str) -> ReferenceTool:
    return ReferenceTool(REFERENCES / f"{name}.json")


# --- writing tests/data/cli/<tool>.json ----------------------------------------------


def _specs(flags: Flags) -> list[str]:
    return sorted(f"{name}=" if value else name for name, value in flags.items())


def _tree(
    pages: dict[tuple[str, ...], tuple[Command, Command]], version: str, source: str
) -> dict[str, object]:
    """pages: each command path -> (its own flags, the flags it inherits)."""
    inherited: list[list[str]] = []
    commands: dict[str, Entry] = {}
    for path, (own, parents) in sorted(pages.items()):
        specs = _specs(parents.flags)
        if specs not in inherited:
            inherited.append(specs)
        entry = Entry(flags=_specs(own.flags), inherited=inherited.index(specs))
        if own.aliases:
            entry["aliases"] = sorted(own.aliases)
        commands[" ".join(path)] = entry
    return {"version": version, "source": source, "inherited": inherited, "commands": commands}


def from_cobra_docs(folder: Path, tool: str) -> dict[tuple[str, ...], tuple[Command, Command]]:
    """A cobra tool's generated Markdown reference (``<tool>_<sub>_<sub>.md``: each page is
    that command's --help, its options split into own and inherited)."""
    pages = {}
    for page in folder.glob(f"{tool}*.md"):
        stem = page.stem
        if stem != tool and not stem.startswith(f"{tool}_"):
            continue
        text = page.read_text(encoding="utf-8")
        own, _, parents = text.partition("### Options inherited from parent commands")
        path = tuple(stem.split("_")[1:])
        pages[path] = (parse_help(own), parse_help(f"Options:\n{parents}"))
    return pages


def from_binary(binary: Path) -> dict[tuple[str, ...], tuple[Command, Command]]:
    """Every command of a real binary: ``<binary> <path> --help``, depth first."""
    tool = LiveTool(binary)
    pages: dict[tuple[str, ...], tuple[Command, Command]] = {}
    todo: list[tuple[str, ...]] = [()]
    while todo:
        path = todo.pop()
        command = tool.command(path)
        pages[path] = (command, Command())
        todo.extend((*path, sub) for sub in command.subcommands if sub not in ("help", "completion"))
    return pages


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.cli_help", description="Write a CLI's tree as JSON."
    )
    parser.add_argument("--version", required=True, help="the tool version the tree describes")
    parser.add_argument("--source", required=True, help="where the help came from (recorded in the file)")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--binary", type=Path, help="a real binary: its --help, command by command")
    where.add_argument("--cobra-docs", type=Path, help="a cobra tool's generated docs folder")
    parser.add_argument("--tool", default="argocd", help="with --cobra-docs: the page prefix")
    args = parser.parse_args(argv)
    pages = from_binary(args.binary) if args.binary else from_cobra_docs(args.cobra_docs, args.tool)
    json.dump(_tree(pages, args.version, args.source), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
