"""From ``environments/`` to checked ``EnvConfig``s, every mistake as one line.

An environment is the base, the overlays of the environments it starts from
(``FROM``), then its own ``OVERLAY``. The values that name an environment
(``NAMED``) are never inherited: they follow its own name unless its own overlay
sets them, so ``make new-env NAME=qa FROM=prod`` gets namespace ``qa``, not
``production``.

The config files are Python, so a slip in one (a syntax error, a misspelt name,
a missing dict key) is reported as ``<file>:<line>: <message>``, never as a
traceback.
"""

from __future__ import annotations

import functools
import importlib
import traceback
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from .fields import ConfigError, Problem, build, merge, plain
from .types import EnvConfig
from .validate import validate

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
    return f"{place}{type(err).__name__}: {err}"


def names() -> list[str]:
    """The environments: every module of ``environments/`` but the base."""
    return sorted(
        p.stem for p in ENV_DIR.glob("*.py") if not p.stem.startswith("_") and p.stem not in NOT_ENVIRONMENTS
    )


def _module(name: str) -> ModuleType:
    try:
        return importlib.import_module(f"{PACKAGE}.{name}")
    except Exception as err:
        raise ConfigError(slip(err)) from None


def _overlay(name: str) -> tuple[str | None, Overlay]:
    module = _module(name)
    overlay, parent = getattr(module, "OVERLAY", None), getattr(module, "FROM", None)
    rel = _rel(ENV_DIR / f"{name}.py")
    if not isinstance(overlay, Mapping):
        raise ConfigError(
            f"{rel}: OVERLAY must be a dict of what {name} changes (it is {type(overlay).__name__})"
        )
    if parent is not None and parent not in names():
        raise ConfigError(f"{rel}: FROM={parent!r} is not an environment; choose one of {', '.join(names())}")
    return parent, overlay


# Where each environment's own name goes, unless its own overlay says otherwise.
NAMED: tuple[tuple[str, ...], ...] = (
    ("namespace",),
    ("ingress", "host"),
    ("ingress", "tls_secret"),
    ("secrets", "sealed_file"),
    ("gitops", "destinations"),
)


def _named(name: str) -> dict[tuple[str, ...], Any]:
    from .organisation import ORG  # noqa: PLC0415 (a slip in it is reported like any config file's)

    return {
        ("namespace",): name,
        ("ingress", "host"): f"{name}.{ORG.base_domain}",
        ("ingress", "tls_secret"): f"vibeyard-{name}-tls",
        ("secrets", "sealed_file"): f"secrets/{name}.sealed.yaml",
        ("gitops", "destinations"): plain(ORG.clusters.get(name, ())),
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
    if name in seen:
        raise ConfigError(f"{_rel(ENV_DIR / f'{name}.py')}: FROM makes a loop: {' -> '.join((*seen, name))}")
    parent, overlay = _overlay(name)
    return [*(_chain(parent, (*seen, name)) if parent else []), overlay]


def data_of(name: str, extra: Overlay | None = None) -> dict[str, Any]:
    """The plain data of environment ``name``: base, inherited overlays, its own, then ``extra``."""
    from .environments.base import BASE  # noqa: PLC0415 (a slip in it is reported like any config file's)

    chain = _chain(name)
    inherited: dict[str, Any] = plain(BASE)
    for overlay in chain[:-1]:
        inherited = merge(inherited, plain(overlay))
    for path in NAMED:
        _set(inherited, path, None, only_if_unset=False)
    data = merge(inherited, plain(chain[-1]))
    for path, value in _named(name).items():
        _set(data, path, value, only_if_unset=True)
    data["name"] = name
    return merge(data, plain(extra or {}))


def _load(name: str, extra: Overlay | None) -> tuple[EnvConfig | None, list[str]]:
    try:
        data = data_of(name, extra)
    except ConfigError as err:
        return None, list(err.lines)
    cfg, problems = build(data, EnvConfig)
    if cfg is not None:
        problems += validate(cfg)
    return (None if problems else cfg), [p.line(name) for p in problems]


def check(cfg: EnvConfig, label: str | None = None) -> None:
    """Check a config built in code (a test's variant) exactly like one loaded from data."""
    built, problems = build(plain(cfg), EnvConfig)
    if built is not None:
        problems += validate(built)
    if problems:
        raise ConfigError(*(p.line(label or cfg.name) for p in problems))


def load(name: str, extra: Overlay | None = None) -> EnvConfig:
    """One environment, checked; ``ConfigError`` with every problem otherwise."""
    if name not in names():
        raise ConfigError(f"{name}: unknown environment {name!r}: choose one of {', '.join(names())}")
    cfg, lines = _load(name, extra)
    if cfg is None:
        raise ConfigError(*lines)
    return cfg


def load_all(chosen: Iterable[str] | None = None) -> dict[str, EnvConfig]:
    """Every environment (or ``chosen``), checked together: all problems of all of them."""
    wanted = list(chosen) if chosen is not None else names()
    unknown = [n for n in wanted if n not in names()]
    if unknown:
        raise ConfigError(
            *(f"{n}: unknown environment {n!r}: choose one of {', '.join(names())}" for n in unknown)
        )
    lines: list[str] = []
    configs: dict[str, EnvConfig] = {}
    for name in wanted:
        cfg, problems = _load(name, None)
        lines += [p for p in problems if p not in lines]
        if cfg is not None:
            configs[name] = cfg
    if not lines:
        lines = _together(configs)
    if lines:
        raise ConfigError(*lines)
    return configs


def _together(configs: Mapping[str, EnvConfig]) -> list[str]:
    """What no single environment can check: two environments sharing a namespace
    would overwrite each other's objects and prune each other in Argo CD."""
    seen: dict[str, str] = {}
    lines = []
    for env, cfg in configs.items():
        other = seen.setdefault(cfg.namespace, env)
        if other != env:
            why = f"a namespace of its own; {other} uses it already"
            lines.append(Problem("namespace", cfg.namespace, why, "env.namespace_unique").line(env))
        source = cfg.gitops.promote_from if cfg.gitops else None
        if source is not None and (source == env or source not in configs or configs[source].gitops is None):
            why = "another environment deployed by Argo CD, or None"
            lines.append(Problem("gitops.promote_from", source, why, "env.promote_from").line(env))
    return lines


@functools.cache
def all_configs() -> dict[str, EnvConfig]:
    """Every environment, loaded once per process (``ConfigError`` if any is wrong)."""
    return load_all()
