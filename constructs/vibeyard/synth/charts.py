"""Configs to rendered trees: the only module that starts jsii, after every input was checked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..config import EnvConfig
from ..placeholders import in_config
from .render import Tree, render

ARGOCD = "argocd"


def render_charts(
    configs: Sequence[EnvConfig], sealed: Mapping[str, Mapping[str, str] | None], every: Sequence[EnvConfig]
) -> dict[str, Tree]:
    """``dist/<folder>`` contents: each of ``configs``, and ``argocd`` for ``every`` environment."""
    import cdk8s  # noqa: PLC0415 (a config mistake must never start jsii)

    from ..chart import VibeyardChart  # noqa: PLC0415
    from ..gitops.application import SyncTarget  # noqa: PLC0415
    from ..gitops.chart import GitOpsChart  # noqa: PLC0415

    app = cdk8s.App()
    trees = {}
    for cfg in configs:
        data = sealed.get(cfg.name)
        chart = VibeyardChart(app, cfg.name, cfg=cfg, sealed_data=dict(data) if data is not None else None)
        trees[cfg.name] = render(chart.manifests())
    targets = [SyncTarget.of(c, ready=not in_config(c, sealed.get(c.name))) for c in every]
    trees[ARGOCD] = render(GitOpsChart(app, ARGOCD, targets=targets).manifests())
    return trees
