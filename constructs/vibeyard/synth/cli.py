"""``main.py``'s logic: pick environments, validate, synthesize, publish.

Config errors are expected user input, so they print as one line and exit 2
with ``dist/`` untouched; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..config import ENVIRONMENTS, ConfigError, EnvConfig
from .inputs import IMAGE_TAG_VAR, resolve
from .publish import mirror, publish
from .releases import record_release
from .render import Tree, render
from .sealed import load_sealed

ENV_VAR = "VIBEYARD_ENV"


def synthesize(
    configs: Sequence[EnvConfig], root: Path, gitops: Sequence[EnvConfig] | None = None
) -> dict[str, Tree]:
    """Render every environment in memory, keyed by its folder under ``dist/``.

    Inputs read from disk (sealed secrets) are loaded and checked for every
    environment before the first construct exists, so a bad file is a one-line
    config error, never a jsii trace.
    """
    sealed = {
        cfg.name: load_sealed(cfg, root) if cfg.secrets.provider == "sealed" else None for cfg in configs
    }
    import cdk8s

    from ..chart import VibeyardChart
    from ..gitops.application import SyncTarget
    from ..gitops.chart import FOLDER, GitOpsChart

    app = cdk8s.App()
    trees = {
        cfg.name: render(VibeyardChart(app, cfg.name, cfg=cfg, sealed_data=sealed[cfg.name]).manifests())
        for cfg in configs
    }
    targets = [SyncTarget(c.name, c.namespace, c.gitops) for c in (gitops if gitops is not None else configs)]
    trees[FOLDER] = render(GitOpsChart(app, FOLDER, targets=targets).manifests())
    return trees


CHECK_FLAG = "--check"


def chosen_environments(argv: Sequence[str], environ: Mapping[str, str]) -> list[str]:
    names = [a for a in argv if a != CHECK_FLAG]
    names = names or [n for n in environ.get(ENV_VAR, "").replace(",", " ").split() if n]
    return list(dict.fromkeys(names))


def main(argv: Sequence[str], environ: Mapping[str, str], root: Path) -> int:
    names = chosen_environments(argv, environ)
    try:
        configs = resolve(names, overrides=environ, root=root)
        if CHECK_FLAG in argv:  # validate config and secret files only; no jsii start-up
            for cfg in configs:
                if cfg.secrets.provider == "sealed":
                    load_sealed(cfg, root)
            return 0
        trees = synthesize(configs, root, gitops=resolve(None, overrides={}, root=root))
    except ConfigError as err:
        print(f"config error: {err}", file=sys.stderr)
        return 2
    full = not names or sorted(names) == sorted(ENVIRONMENTS)
    publish(root / "dist", trees, replace_all=full)
    if environ.get(IMAGE_TAG_VAR):
        for cfg in configs:  # the pin becomes committed data, so a plain synth reproduces it
            record_release(root, cfg.name, cfg.image.tag, cfg.image.digest)
    outdir = environ.get("CDK8S_OUTDIR")
    if outdir and Path(outdir).resolve() != (root / "dist").resolve():
        mirror(Path(outdir), trees)
    return 0


def run() -> None:
    root = Path(__file__).resolve().parents[3]
    sys.exit(main(sys.argv[1:], os.environ, root))
