"""From ``environments/`` to checked ``EnvConfig``s, every mistake as one line.

An environment is the base, the overlays of the environments it starts from
(``FROM``), then its own ``OVERLAY``. The values that name an environment
(``NAMED``) are never inherited: they follow its own name unless its own overlay
sets them, so ``make new-env NAME=qa FROM=prod`` gets namespace ``qa``, not
``production``.

The config files are Python, so a slip in one (a syntax error, a misspelt name,
a missing dict key) is reported as ``<file>:<line>: <message>``, never as a
traceback; so is a misshapen environment module (no ``OVERLAY`` dict, a ``FROM``
that names no environment or makes a loop), at the line that assigns it.
"""

from __future__ import annotations

import ast
import functools
import importlib
import os
import traceback
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from .fields import ConfigError, Problem, build, merge, plain
from .types import EnvConfig
from .validate import validate, validate_together

CONFIG_DIR = Path(__file__).resolve().parent
ENV_DIR = CONFIG_DIR / "environments"
ROOT = CONFIG_DIR.parents[2]
PACKAGE = f"{__package__}.environments"
NOT_ENVIRONMENTS = frozenset({"base"})

Overlay = Mapping[str, Any]


def _rel(path: str | Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def slip(err: BaseException) -> str:
    """``<file>:<line>: <message>`` for an exception raised while importing a config file."""
    if isinstance(err, SyntaxError) and err.filename:
        return f"{_rel(err.filename)}:{err.lineno}: SyntaxError: {err.msg}"
    frames = traceback.extract_tb(err.__traceback__)
    ours = [f for f in frames if Path(f.filename).resolve().is_relative_to(CONFIG_DIR)]
    where = (ours or frames)[-1] if (ours or frames) else None
    place = f"{_rel(where.filename)}:{where.lineno}: " if where else ""
    # One line, with paths as the user knows them (an ImportError names the module's file).
    message = " ".join(str(err).replace(f"{ROOT}{os.sep}", "").splitlines())
    return f"{place}{type(err).__name__}: {message}"


def names() -> list[str]:
    """The environments: every module of ``environments/`` but the base."""
    return sorted(
        p.stem for p in ENV_DIR.glob("*.py") if not p.stem.startswith("_") and p.stem not in NOT_ENVIRONMENTS
    )


def _import(module: str) -> ModuleType:
    """A config module (an environment, the base, the organisation), slips reported."""
    try:
        return importlib.import_module(module)
    except Exception as err:
        raise ConfigError(slip(err)) from None


def _assigned(name: str, variable: str) -> str:
    """``<file>:<line>`` where environment ``name``'s file assigns ``variable`` (line 1 if it does not)."""
    path, line = ENV_DIR / f"{name}.py", 1
    for node in ast.parse(path.read_bytes()).body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if any(isinstance(t, ast.Name) and t.id == variable for t in targets):
            line = node.lineno
    return f"{_rel(path)}:{line}"


def _overlay(name: str) -> tuple[str | None, Overlay]:
    module = _import(f"{PACKAGE}.{name}")
    overlay, parent = getattr(module, "OVERLAY", None), getattr(module, "FROM", None)
    if not isinstance(overlay, Mapping):
        it = f"a {type(overlay).__name__}" if hasattr(module, "OVERLAY") else "missing"
        why = f"OVERLAY must be a dict of what {name} changes ({it})"
        raise ConfigError(f"{_assigned(name, 'OVERLAY')}: {why}")
    if parent is not None and parent not in names():
        why = f"FROM={parent!r} is not an environment; choose one of {', '.join(names())}"
        raise ConfigError(f"{_assigned(name, 'FROM')}: {why}")
    return parent, overlay


# Where each environment's own name goes, unless its own overlay says otherwise.
NAMED: tuple[tuple[str, ...], ...] = (
    ("namespace",),
    ("edge", "host"),
    ("edge", "tls_secret"),
    ("secrets", "sealed_file"),
    ("gitops", "destinations"),
)


def _named(name: str) -> dict[tuple[str, ...], Any]:
    org = _import(f"{__package__}.organisation").ORG
    return {
        ("namespace",): name,
        ("edge", "host"): f"{name}.{org.base_domain}",
        ("edge", "tls_secret"): f"vibeyard-{name}-tls",
        ("secrets", "sealed_file"): f"secrets/{name}.sealed.yaml",
        ("gitops", "destinations"): plain(org.clusters.get(name, ())),
    }


def _set(data: dict[str, Any], path: tuple[str, ...], value: Any, *, only_if_unset: bool) -> None:
    block = data
    for key in path[:-1]:
        if not isinstance(block.get(key), Mapping):
            return
        block[key] = block = dict(block[key])
    if value is None:
        block.pop(path[-1], None)
    elif not (only_if_unset and path[-1] in block):
        block[path[-1]] = value


def _chain(name: str, seen: tuple[str, ...] = ()) -> list[Overlay]:
    if name in seen:  # told from its first environment by name, so every way into the loop reads the same
        loop = seen[seen.index(name) :]
        start = loop.index(min(loop))
        loop = (*loop[start:], *loop[:start])
        raise ConfigError(f"{_assigned(loop[0], 'FROM')}: FROM makes a loop: {' -> '.join((*loop, loop[0]))}")
    parent, overlay = _overlay(name)
    return [*(_chain(parent, (*seen, name)) if parent else []), overlay]


def data_of(name: str, extra: Overlay | None = None) -> dict[str, Any]:
    """The plain data of environment ``name``: base, inherited overlays, its own, then ``extra``."""
    base = _import(f"{PACKAGE}.base").BASE
    chain = _chain(name)
    inherited: dict[str, Any] = plain(base)
    for overlay in chain[:-1]:
        inherited = merge(inherited, plain(overlay))
    for path in NAMED:
        _set(inherited, path, None, only_if_unset=False)
    data = merge(inherited, plain(chain[-1]))
    for path, value in _named(name).items():
        _set(data, path, value, only_if_unset=True)
    data["name"] = name
    return merge(data, plain(extra or {}))


def _checked(data: Mapping[str, Any], label: str) -> EnvConfig:
    """The typed config of ``data``, or ``ConfigError`` with every problem it has: one
    line per field, so a value that broke its own rule is not judged again by ``validate``."""
    cfg, problems = build(data, EnvConfig)
    if cfg is not None:
        blamed = {p.path for p in problems}
        problems += (p for p in validate(cfg) if p.path not in blamed)
    if cfg is None or problems:
        raise ConfigError(*(p.line(label) for p in problems), problems=problems)
    return cfg


def check(cfg: EnvConfig, label: str | None = None) -> None:
    """Check a config built in code (a test's variant) exactly like one loaded from data."""
    _checked(plain(cfg), label or cfg.name)


def _unknown(wanted: Iterable[str]) -> None:
    if unknown := [n for n in wanted if n not in names()]:
        choose = ", ".join(names())
        raise ConfigError(*(f"{n}: unknown environment {n!r}: choose one of {choose}" for n in unknown))


def load(name: str, extra: Overlay | None = None) -> EnvConfig:
    """One environment, checked; ``ConfigError`` with every problem otherwise.
    ``extra`` goes over its own overlay (a release pin, a test's mistake)."""
    _unknown([name])
    return _checked(data_of(name, extra), name)


def load_all(
    chosen: Iterable[str] | None = None, extra: Mapping[str, Overlay] | None = None
) -> dict[str, EnvConfig]:
    """Every environment (or ``chosen``), checked together: all problems of all of them.
    ``extra`` maps an environment to what goes over its own overlay."""
    wanted = list(chosen) if chosen is not None else names()
    _unknown(wanted)
    configs: dict[str, EnvConfig] = {}
    lines: list[str] = []
    problems: list[Problem] = []
    for name in wanted:
        try:
            configs[name] = load(name, (extra or {}).get(name))
        except ConfigError as err:  # a slip in a shared file is the same line for each environment
            lines += [line for line in err.lines if line not in lines]
            problems += err.problems
    if not lines:
        for env, problem in validate_together(configs):
            lines.append(problem.line(env))
            problems.append(problem)
    if lines:
        raise ConfigError(*lines, problems=problems)
    return configs


@functools.cache
def all_configs() -> dict[str, EnvConfig]:
    """Every environment, loaded once per process (``ConfigError`` if any is wrong)."""
    return load_all()
