"""One synthesis per test session, shared by every test.

jsii start-up and construct creation are the slow part of this suite, so the
committed configuration is synthesized once, in memory, and every test reads
the result. Tests never depend on the current release pins: they read the
code's own image (no CD overrides, no ``releases/<env>.json``), so a release
commit changes no expectation. Only the check that ``dist/`` is up to date
renders with the pins, and it reuses this synthesis when the pins are the
code's defaults.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_NODE_BIN = ROOT / "node_modules" / ".bin"
if (_NODE_BIN / "node").exists():
    os.environ["PATH"] = f"{_NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}"

import cdk8s  # noqa: E402

from tests import variants as variant_configs  # noqa: E402
from tests.support import Output  # noqa: E402
from vibeyard.chart import VibeyardChart  # noqa: E402
from vibeyard.config import ENVIRONMENTS, EnvConfig  # noqa: E402
from vibeyard.synth.cli import synthesize  # noqa: E402
from vibeyard.synth.inputs import resolve  # noqa: E402
from vibeyard.synth.render import render  # noqa: E402
from vibeyard.synth.sealed import load_sealed  # noqa: E402

ENV_NAMES = tuple(ENVIRONMENTS)


@pytest.fixture(scope="session")
def configs() -> dict[str, EnvConfig]:
    return {cfg.name: cfg for cfg in resolve(None, overrides={})}


@pytest.fixture(scope="session")
def synthesized(configs: dict[str, EnvConfig]) -> dict[str, dict[str, str]]:
    return synthesize(list(configs.values()), ROOT)


@pytest.fixture(scope="session")
def committed_output(
    configs: dict[str, EnvConfig], synthesized: dict[str, dict[str, str]]
) -> dict[str, dict[str, str]]:
    """What ``dist/`` must hold: the synth with the committed release pins."""
    pinned = resolve(None, overrides={}, root=ROOT)
    if pinned == list(configs.values()):
        return synthesized
    return synthesize(pinned, ROOT)


@pytest.fixture(scope="session")
def outputs(configs: dict[str, EnvConfig], synthesized: dict[str, dict[str, str]]) -> dict[str, Output]:
    return {name: Output(configs[name], synthesized[name]) for name in configs}


@pytest.fixture(params=ENV_NAMES)
def out(request: pytest.FixtureRequest, outputs: dict[str, Output]) -> Output:
    """Parametrizes a test over every environment."""
    return outputs[request.param]


@pytest.fixture(scope="session")
def variants(configs: dict[str, EnvConfig]) -> dict[str, Output]:
    """Every variant of ``tests/variants.py``, synthesized once per session in one App."""
    app = cdk8s.App()
    out = {}
    for name, cfg in variant_configs.build(configs).items():
        sealed = load_sealed(cfg, ROOT) if cfg.secrets.provider == "sealed" else None
        out[name] = Output(cfg, render(VibeyardChart(app, name, cfg=cfg, sealed_data=sealed).manifests()))
    return out


VARIANT_NAMES = tuple(variant_configs.VARIANTS)


@pytest.fixture(params=ENV_NAMES + VARIANT_NAMES)
def every(request: pytest.FixtureRequest, outputs: dict[str, Output], variants: dict[str, Output]) -> Output:
    """Parametrizes a test over every environment and every variant: for the validators."""
    name: str = request.param
    return outputs[name] if name in outputs else variants[name]
