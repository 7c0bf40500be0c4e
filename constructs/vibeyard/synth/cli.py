"""``main.py``'s logic: pick environments, validate, render, publish ``dist/`` in one step.

Every expected failure is one line on stderr, and ``dist/`` is as it was or, once
the swap is done, as it will be. Exit status (docs/synth.md lists every line): 2
for a usage or input mistake, found before jsii starts; 1 for the machine; 128 +
signal when interrupted. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import shutil
import sys
import tempfile
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

from ..config import ConfigError, EnvConfig, names
from ..config.inputs import PLACEHOLDER_PREFIX, load_sealed, placeholder_keys
from ..gitops.environments import FILE, environments_json
from . import signals
from .charts import render_charts
from .inputs import RELEASES, releases, resolve
from .publish import PREFIX, locked, mirror, recover, remove, stage, swap

ENV_VAR = "VIBEYARD_ENV"
RESEAL = "reseal it before the first sync (docs/release.md 'Seal or rotate secret keys')"
EPILOG = """\
Without ENV: the names in $VIBEYARD_ENV (comma- or space-separated), else every environment,
which also removes the folders of environments that no longer exist. VIBEYARD_IMAGE_TAG and
VIBEYARD_IMAGE_DIGEST pin the app image and record the pin in dist/releases/<env>.json.
Exit status: 0 done, 1 machine or filesystem error, 2 config or usage error, 130 Ctrl-C, 143 SIGTERM."""


class MachineError(Exception):
    """Something missing or broken on this machine (exit 1)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise ConfigError(f"usage error: {message}; see python main.py --help")

    def print_help(self, file: Any = None) -> None:  # argparse hides a failed write; a buffer fails at exit
        print(self.format_help(), end="", file=file or sys.stdout, flush=True)


def parse(argv: Sequence[str], environ: Mapping[str, str]) -> argparse.Namespace:
    parser = _Parser(
        prog="python main.py",
        description="Synthesizes dist/<env>/, dist/argocd/ and dist/environments.json.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("envs", nargs="*", metavar="ENV", help=f"an environment: {', '.join(names())}")
    parser.add_argument("--check", action="store_true", help="validate config and inputs; no jsii, no writes")
    opts = parser.parse_args(list(argv))
    if any(not n.strip() for n in opts.envs):
        parser.error(f"an empty environment name: choose one of {', '.join(names())}")
    opts.envs = list(dict.fromkeys(opts.envs or environ.get(ENV_VAR, "").replace(",", " ").split()))
    return opts


def _say(line: str) -> None:
    with contextlib.suppress(OSError):
        print(line, file=sys.stderr, flush=True)


def _tmp() -> str:
    """The temporary folder as Node reads it."""
    return next((v for k in ("TMPDIR", "TMP", "TEMP") if (v := os.environ.get(k))), "/tmp")


def _preflight() -> None:
    """What jsii needs from the machine, checked before Node can print its traces."""
    if shutil.which("node") is None:
        raise MachineError("Node.js is not on PATH; run `make install` (it puts Node 22 in node_modules)")
    try:
        tempfile.TemporaryDirectory(dir=_tmp()).cleanup()
    except OSError as err:
        raise MachineError(f"{_tmp()}: {err.strerror}; jsii needs a writable TMPDIR: set it to one") from None
    cache = Path(os.environ.get("JSII_RUNTIME_PACKAGE_CACHE_ROOT") or Path.home() / ".cache/aws/jsii")
    while not cache.exists() and cache != cache.parent:
        cache = cache.parent
    if not (cache.is_dir() and os.access(cache, os.W_OK)):  # without its cache jsii is slower, still right
        os.environ.setdefault("JSII_RUNTIME_PACKAGE_CACHE", "disabled")


def _render(
    configs: Sequence[EnvConfig], sealed: Mapping[str, Any], every: Sequence[EnvConfig], root: Path
) -> Any:
    try:
        return render_charts(configs, sealed, every)
    except (ImportError, SyntaxError) as err:  # a damaged or missing generated module in imports/
        imports, name = (root / "imports").resolve(), getattr(err, "name", None) or ""
        tb = traceback.extract_tb(err.__traceback__)
        places = [str(getattr(err, "filename", None)), *(frame.filename for frame in tb)]
        if name.partition(".")[0] == "imports":
            places = [str(imports.joinpath(*name.split(".")[1:]))]
        inside = [Path(p).resolve() for p in places if Path(p).resolve().is_relative_to(imports)]
        if not inside:
            raise
        why = f"{type(err).__name__}: {getattr(err, 'msg', None) or err}"
        where = Path("imports", inside[-1].relative_to(imports))
        raise MachineError(f"{where}: {why}; run `make imports`") from None


def _synth(opts: argparse.Namespace, environ: Mapping[str, str], root: Path, done: list[bool]) -> int:
    dist, new = root / "dist", -1
    warnings = [] if opts.check else recover(root, dist)  # a committed swap first: it holds the records
    configs, every = resolve(opts.envs, environ, root)
    # Every environment's: dist/argocd knows which still hold placeholders.
    sealed = {c.name: load_sealed(c, root) if c.secrets.provider == "sealed" else None for c in every}
    if opts.check:
        return 0
    _preflight()
    folders = _render(configs, sealed, every, root)
    if records := releases(every, configs, environ, root):
        folders[RELEASES] = records
    try:
        staged = stage(root, dist, folders, {FILE: environments_json(every)}, replace_all=not opts.envs)
        new = os.stat(staged).st_ino
        old = swap(staged, dist)
        done.append(True)
    except BaseException:  # finish a fallback swap past its commit point; remove what was staged
        with contextlib.suppress(OSError):
            recover(root, dist)
        with contextlib.suppress(OSError):
            if os.stat(dist).st_ino == new:  # interrupted once the swap itself was done
                done.append(True)
        raise
    warnings.append(remove(old))
    if (outdir := environ.get("CDK8S_OUTDIR")) and Path(outdir).resolve() != dist.resolve():
        mirror(Path(outdir), folders)
    for cfg in configs:
        if keys := placeholder_keys(data := sealed.get(cfg.name) or {}):
            what = f"placeholder ciphertext ({PLACEHOLDER_PREFIX}-..., {len(keys)} of {len(data)} keys)"
            warnings.append(f"{cfg.name}: {cfg.secrets.sealed_file} holds {what}: {RESEAL}")
    for warning in filter(None, warnings):
        _say(f"warning: {warning}")
    return 0


def _shown(path: object, root: Path) -> str:
    """A path as the user knows it: relative to the repository, the staged folder as dist/."""
    if not isinstance(path, str | bytes):
        return "standard output"
    p = Path(os.fsdecode(path)).absolute()
    if not p.is_relative_to(root):
        return str(p)
    parts = list(p.relative_to(root).parts)
    if len(parts) == 1 and parts[0].startswith(PREFIX):  # making the staged folder: the repository's fault
        return str(root)
    return "/".join(["dist", *parts[1:]] if parts and parts[0].startswith(PREFIX) else parts) or "."


def main(argv: Sequence[str], environ: Mapping[str, str], root: Path) -> int:
    done: list[bool] = []
    try:
        opts = parse(argv, environ)
        if opts.check:
            return _synth(opts, environ, root, done)
        with locked(root, on_wait=lambda: _say("waiting for another synth of this repository to finish")):
            return _synth(opts, environ, root, done)
    except SystemExit as exit:  # --help
        return int(exit.code or 0)
    except BaseException as err:
        state = "dist/ is published" if done else "dist/ unchanged"
        if isinstance(err, ConfigError):
            for line in err.lines:
                _say(line if line.startswith("usage error:") else f"config error: {line}")
            return 2
        if isinstance(err, KeyboardInterrupt) or signals.received is not None:
            _say(f"interrupted; {state}")
            return signals.exit_code()
        if isinstance(err, OSError):
            err = MachineError(f"{_shown(err.filename, root)}: {err.strerror or err}; {state}")
        if isinstance(err, MachineError):
            _say(f"error: {err}")
            return 1
        raise


def run() -> None:
    """The entry point. It ends in ``os._exit`` (Node exits when our pipe closes), skipping the
    ``atexit`` hook that removes what jsii unpacks into TMPDIR: a scratch folder, removed here."""
    scratch = ""
    with contextlib.suppress(OSError):  # an unwritable TMPDIR is reported before jsii starts
        scratch = os.environ["TMPDIR"] = tempfile.tempdir = tempfile.mkdtemp(prefix="vibeyard-", dir=_tmp())
        atexit.register(shutil.rmtree, scratch, ignore_errors=True)  # a bug: Python's own exit
    code = main(sys.argv[1:], os.environ, Path(__file__).resolve().parents[3])
    signals.install(ignore=True)  # reported: a later signal must not cut the clean-up short
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError):
            stream.flush()
    with contextlib.suppress(OSError):  # Node's last words, when a Ctrl-C reached it too
        os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
    shutil.rmtree(scratch, ignore_errors=True)
    os._exit(code)
