"""The documentation generated from the config is current: README's environments, every
config field in docs/configuration.md, and .github/CODEOWNERS (scripts/update-docs.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("update_docs", ROOT / "scripts" / "update-docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_documentation_is_current() -> None:
    for path, text in _generator().documents().items():
        rel = path.relative_to(ROOT)
        assert path.exists() and path.read_text("utf-8") == text, f"{rel} is stale: run `make update`"


def test_every_environment_and_every_config_field_is_documented() -> None:
    gen = _generator()
    table = gen.environments_table()
    for name, cfg in gen.all_configs().items():
        assert f"| {name} (`{cfg.namespace}`) |" in table, name
    reference = gen.fields_reference()
    for cls in gen._classes(gen.EnvConfig, set()):
        for f in gen.dataclasses.fields(cls):
            assert f"| `{f.name}` |" in reference and f.metadata.get("doc"), f"{cls.__name__}.{f.name}"


def test_codeowners_guard_what_production_trusts() -> None:
    owners = (ROOT / ".github" / "CODEOWNERS").read_text("utf-8")
    for path in ("/dist/argocd/", "/constructs/vibeyard/config/organisation.py", "/secrets/"):
        assert any(line.startswith(f"{path} @") for line in owners.splitlines()), path
