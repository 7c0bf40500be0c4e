"""The template's stand-in values, which must be replaced before anything is deployed.

The repository ships as a working template: ``organisation.py`` names
``your-org`` and ``example.com`` hosts, and the sealed files hold ``AgPLACEHOLDER``
ciphertext no controller can decrypt. They render and pass every test, so
they must be found by name: an environment that still holds one gets an Argo CD
Application that never syncs by itself, and ``make check-ready`` lists them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the list alone is read by scripts that need no config (check-ready.py)
    from .config.types import EnvConfig

# (text, where it comes from and how to replace it)
PATTERNS: tuple[tuple[str, str], ...] = (
    ("your-org", "organisation.py: repo_url, registry (the template's organisation)"),
    ("example.com", "organisation.py: base_domain, clusters (the template's hosts)"),
    ("cluster-abc123", "organisation.py: managed_database_host (the template's RDS endpoint)"),
    ("AgPLACEHOLDER", "secrets/<env>.sealed.yaml: seal real values (docs/release.md)"),
)


def in_config(cfg: EnvConfig, sealed: Mapping[str, str] | None) -> list[str]:
    """The placeholders an environment's config and sealed data still hold."""
    from .config.fields import plain  # noqa: PLC0415

    text = json.dumps(plain(cfg)) + json.dumps(dict(sealed or {}))
    return [text_ for text_, _ in PATTERNS if text_ in text]
