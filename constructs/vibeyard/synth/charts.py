"""What one synth renders, as plain data that can cross to another process.

A ``Unit`` is one chart: an environment (its validated config and sealed data)
or the Argo CD chart (the configs of every environment it syncs). Units hold
only picklable config values, never jsii objects, so ``parallel.py`` can hand
them to a worker that has its own jsii runtime. ``render_units`` is the one
place that imports cdk8s: callers validate everything first, so a config
mistake never starts jsii.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..config import EnvConfig
from .render import Tree, render


@dataclass(frozen=True)
class Unit:
    """``env`` set: that environment's chart. Otherwise the Argo CD chart over ``targets``."""

    env: EnvConfig | None = None
    sealed: Mapping[str, str] | None = None
    targets: tuple[EnvConfig, ...] = ()

    @property
    def label(self) -> str:
        return self.env.name if self.env is not None else "argocd"


def units_for(
    configs: Sequence[EnvConfig], sealed: Mapping[str, Mapping[str, str] | None], gitops: Sequence[EnvConfig]
) -> list[Unit]:
    return [Unit(env=cfg, sealed=sealed.get(cfg.name)) for cfg in configs] + [Unit(targets=tuple(gitops))]


def warm_up() -> None:
    """Import cdk8s and every chart module: jsii start-up and assembly loading."""
    import cdk8s  # noqa: F401, PLC0415

    from ..chart import VibeyardChart  # noqa: F401, PLC0415
    from ..gitops.chart import GitOpsChart  # noqa: F401, PLC0415


def render_units(units: Sequence[Unit]) -> list[tuple[str, Tree]]:
    """``(folder under dist/, files)`` per unit, in order, in this process's jsii."""
    import cdk8s  # noqa: PLC0415 (jsii starts only here, after every input was validated)

    from ..chart import VibeyardChart  # noqa: PLC0415
    from ..gitops.application import SyncTarget  # noqa: PLC0415
    from ..gitops.chart import FOLDER, GitOpsChart  # noqa: PLC0415

    app = cdk8s.App()
    result = []
    for unit in units:
        if unit.env is not None:
            cfg = unit.env
            sealed = dict(unit.sealed) if unit.sealed is not None else None
            chart = VibeyardChart(app, cfg.name, cfg=cfg, sealed_data=sealed)
            result.append((cfg.name, render(chart.manifests())))
        else:
            targets = [SyncTarget(c.name, c.namespace, c.gitops) for c in unit.targets]
            result.append((FOLDER, render(GitOpsChart(app, FOLDER, targets=targets).manifests())))
    return result
