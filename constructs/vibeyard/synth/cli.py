"""``main.py``'s logic: pick environments, validate, render, publish in one transaction.

Every expected failure is one line on stderr with its own exit status, and
leaves ``dist/`` and ``releases/`` as they were (both old) or, past the commit
point, as they will be (both new):

- 2: a usage mistake, or a config mistake (also in ``releases/`` or
  ``secrets/``), found before jsii starts;
- 1: a filesystem error (no space, no permission), naming the path;
- 128 + signal (130 for Ctrl-C): interrupted.

Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..config import ENVIRONMENTS, ConfigError, EnvConfig
from .charts import render_units, units_for
from .cpu import idle_cores
from .inputs import IMAGE_DIGEST_VAR, IMAGE_TAG_VAR, records, resolve
from .interrupt import INTERRUPTS
from .parallel import Workers, available_cores, dist_weight
from .publish import MIRROR_PREFIX, mirror
from .render import Tree
from .sealed import KUBESEAL_HINT, PLACEHOLDER_PREFIX, load_sealed, placeholder_keys
from .transaction import DIST, RELEASES, TXN_DIR, RecoveryError, Transaction, locked, recover
from .usage import Options, UsageError, help_text, parse


def _sealed(configs: Sequence[EnvConfig], root: Path) -> dict[str, dict[str, str] | None]:
    return {cfg.name: load_sealed(cfg, root) if cfg.secrets.provider == "sealed" else None for cfg in configs}


def synthesize(
    configs: Sequence[EnvConfig], root: Path, gitops: Sequence[EnvConfig] | None = None
) -> dict[str, Tree]:
    """Render every environment in memory, in this process, keyed by its folder under ``dist/``.

    Inputs read from disk (sealed secrets) are loaded and checked for every
    environment before the first construct exists, so a bad file is a one-line
    config error, never a jsii trace.
    """
    units = units_for(configs, _sealed(configs, root), configs if gitops is None else gitops)
    return dict(render_units(units))


class _Progress:
    """How far a synth got, which decides what its last line can promise."""

    def __init__(self) -> None:
        self.phase = "start"
        self.txn: Transaction | None = None

    @property
    def published(self) -> bool:
        return self.txn is not None and self.txn.committed


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _shown(path: object, root: Path) -> str:
    """A path as the user knows it: relative to the repository, staging folders left out."""
    if path is None:
        return "?"
    p = Path(os.fsdecode(path) if isinstance(path, bytes | str) else str(path))
    try:
        p = p.resolve().relative_to(root.resolve())
    except ValueError:
        return str(p)
    parts = list(p.parts)
    if parts[:1] == [TXN_DIR] and parts[1:2] in ([DIST], [RELEASES]):
        parts = parts[1:]
    elif parts and parts[0].startswith(MIRROR_PREFIX):
        parts = parts[2:]
    return "/".join(parts) or "."


def _os_error_line(err: OSError, root: Path, progress: _Progress) -> str:
    where = _shown(err.filename, root)
    why = err.strerror or str(err)
    if progress.phase == "recover":
        return f"error: {where}: {why}; could not finish the synth that was interrupted earlier"
    if progress.phase == "mirror":
        return f"error: {where}: {why}; dist/ is published, the cdk8s output folder is not"
    if progress.published:
        return f"error: {where}: {why}; the synth is committed: run it again to finish"
    return f"error: {where}: {why}; dist/ and releases/ unchanged"


def _processes(opts: Options, jobs: int | None) -> int:
    """``--jobs``, else the caller's choice, else one per idle core (this one included)."""
    if opts.jobs or jobs:
        return opts.jobs or jobs or 1
    cores = available_cores()
    idle = idle_cores()
    return cores if idle is None else max(1, min(cores, 1 + int(idle + 0.4)))


def _workers(opts: Options, jobs: int | None) -> Workers:
    """Start the render workers now, so they boot while this process validates.

    At most one process per chart, and no worker for a one-environment synth,
    whose Argo CD chart is too small to pay for a second jsii start-up.
    """
    envs = len(opts.names) or len(ENVIRONMENTS)
    return Workers(min(_processes(opts, jobs), envs + 1) - 1 if envs > 1 else 0)


def _warn_placeholders(configs: Sequence[EnvConfig], sealed: Mapping[str, Mapping[str, str] | None]) -> None:
    for cfg in configs:
        data = sealed.get(cfg.name) or {}
        keys = placeholder_keys(data)
        if keys:
            _say(
                f"warning: {cfg.name}: {cfg.secrets.sealed_file} holds placeholder ciphertext "
                f"({PLACEHOLDER_PREFIX}-..., {len(keys)} of {len(data)} keys), not kubeseal output: "
                f"reseal it before the first sync; {KUBESEAL_HINT}"
            )


def _synth(
    opts: Options, environ: Mapping[str, str], root: Path, workers: Workers, progress: _Progress
) -> int:
    progress.phase = "recover"
    if recover(root):
        _say("finished a synth that was interrupted after its commit point")
    progress.phase = "validate"
    configs = resolve(opts.names, overrides=environ, root=root)
    plain = not (environ.get(IMAGE_TAG_VAR) or environ.get(IMAGE_DIGEST_VAR))
    gitops = configs if plain and not opts.names else resolve(None, overrides={}, root=root)
    sealed = _sealed(configs, root)
    progress.phase = "render"
    units = units_for(configs, sealed, gitops)
    trees = dict(workers.render(units, dist_weight(root / "dist"), here=render_units))
    progress.phase = "stage"
    progress.txn = txn = Transaction(root)
    full = sorted(c.name for c in configs) == sorted(ENVIRONMENTS)
    try:
        txn.stage_dist(trees, replace_all=full)
        txn.stage_releases({f"{env}.json": text for env, text in records(configs, environ).items()})
        with INTERRUPTS.shield():
            txn.commit()
            txn.apply()
    except BaseException:
        if not txn.committed:
            with INTERRUPTS.shield():
                txn.discard()
        raise
    progress.phase = "mirror"
    outdir = environ.get("CDK8S_OUTDIR")
    if outdir and Path(outdir).resolve() != (root / "dist").resolve():
        mirror(Path(outdir), trees)
    progress.phase = "done"
    _warn_placeholders(configs, sealed)
    return 0


def _check(opts: Options, environ: Mapping[str, str], root: Path) -> int:
    """Config, releases/ and secrets/ only; no jsii start-up, no lock, no writes."""
    configs = resolve(opts.names, overrides=environ, root=root)
    _sealed(configs, root)
    resolve(None, overrides={}, root=root)
    return 0


def _failure(err: BaseException, root: Path, progress: _Progress) -> int | None:
    """The one line and the exit status for an expected failure; None for a bug."""
    if isinstance(err, ConfigError):
        _say(f"config error: {err}")
        return 2
    if isinstance(err, KeyboardInterrupt) or INTERRUPTS.received is not None:
        _say(f"interrupted; dist/ {'already published' if progress.published else 'unchanged'}")
        return INTERRUPTS.exit_code
    if isinstance(err, OSError):
        _say(_os_error_line(err, root, progress))
        return 1
    if isinstance(err, RecoveryError):
        _say(f"error: {err}")
        return 1
    return None


def main(argv: Sequence[str], environ: Mapping[str, str], root: Path, *, jobs: int | None = 1) -> int:
    """``jobs``: render processes when ``--jobs`` is not given (None: one per core)."""
    try:
        opts = parse(argv, environ, list(ENVIRONMENTS))
    except UsageError as err:
        _say(f"usage error: {err}; see python main.py --help")
        return 2
    if opts.help:
        print(help_text(list(ENVIRONMENTS)))
        return 0
    progress = _Progress()
    try:
        if opts.check:
            return _check(opts, environ, root)
        with (
            _workers(opts, jobs) as workers,
            locked(root, on_wait=lambda: _say("waiting for another synth of this repository to finish")),
        ):
            return _synth(opts, environ, root, workers, progress)
    except BaseException as err:
        code = _failure(err, root, progress)
        if code is None:
            raise
        return code


def run() -> None:
    """The process entry point: signals handled, and a quick exit that skips jsii's
    ``atexit`` hook (its Node process exits by itself when our pipe closes)."""
    INTERRUPTS.install()
    root = Path(__file__).resolve().parents[3]
    code = main(sys.argv[1:], os.environ, root, jobs=None)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError):
            stream.flush()
    os._exit(code)
