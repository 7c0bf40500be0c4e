"""The command line of ``python main.py``, parsed by hand so every mistake is one line.

Every argument used to be an environment name, so ``python main.py --help`` asked
for an environment called ``--help``. argparse would fix that but answers a
mistake with a usage block plus an error line; this answers with one line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

ENV_VAR = "VIBEYARD_ENV"
HELP_FLAGS = ("-h", "--help")
CHECK_FLAG = "--check"
JOBS_FLAG = "--jobs"

USAGE = f"""\
usage: python main.py [{CHECK_FLAG}] [{JOBS_FLAG} N] [ENV ...]

Synthesizes dist/<env>/ for each ENV, and dist/argocd/. Without ENV: the names in
${ENV_VAR} (comma- or space-separated), or else every environment ({{envs}}),
which also removes the folders of environments that no longer exist.
`make synth` runs this; `cdk8s synth` runs it too (cdk8s.yaml).

  ENV         an environment to render: {{envs}}
  {CHECK_FLAG}     validate the config, releases/ and secrets/ only: no jsii, no writes
  {JOBS_FLAG} N    render in N processes (default: one per idle CPU core, at most one per chart)
  -h, --help  show this help

VIBEYARD_IMAGE_TAG and VIBEYARD_IMAGE_DIGEST pin the app image for this synth and
record the pin in releases/<env>.json, in the same transaction as dist/.
Exit status: 0 done, 1 filesystem error, 2 config or usage error, 130 interrupted."""


class UsageError(Exception):
    """A command-line mistake, printed as one line."""


@dataclass(frozen=True)
class Options:
    names: tuple[str, ...] = ()
    check: bool = False
    help: bool = False
    jobs: int | None = None


def _jobs(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise UsageError(f"{JOBS_FLAG} needs a whole number of processes >= 1, not {value!r}")
    return int(value)


def parse(argv: Sequence[str], environ: Mapping[str, str], known: Sequence[str]) -> Options:
    names: list[str] = []
    check = show_help = False
    jobs: int | None = None
    args = list(argv)
    options_done = False
    while args:
        arg = args.pop(0)
        if options_done or not arg.startswith("-") or arg == "-":
            if not arg.strip():
                raise UsageError(f"an empty environment name: choose one of {', '.join(sorted(known))}")
            names.append(arg)
        elif arg == "--":
            options_done = True
        elif arg in HELP_FLAGS:
            show_help = True
        elif arg == CHECK_FLAG:
            check = True
        elif arg == JOBS_FLAG:
            if not args:
                raise UsageError(f"{JOBS_FLAG} needs a number")
            jobs = _jobs(args.pop(0))
        elif arg.startswith(f"{JOBS_FLAG}="):
            jobs = _jobs(arg.partition("=")[2])
        else:
            raise UsageError(f"unknown option {arg!r}")
    if not names:
        names = [n for n in environ.get(ENV_VAR, "").replace(",", " ").split() if n]
    return Options(tuple(dict.fromkeys(names)), check, show_help, jobs)


def help_text(known: Sequence[str]) -> str:
    return USAGE.replace("{envs}", ", ".join(sorted(known)))
