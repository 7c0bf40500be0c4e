"""``dist/environments.json``: the environments, for tools that cannot run Python.

deploy.yml reads it to know which environments exist, their namespace (also the
GitHub environment that gates a release), the branch Argo CD tracks for each,
where a promotion takes its image from, and whose signature a release of it must
carry (``signatures``: null where none is checked); ``make check-ready`` reads it too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from ..config import EnvConfig

FILE = "environments.json"


def environments_json(every: Sequence[EnvConfig]) -> str:
    body = {
        cfg.name: {
            "namespace": cfg.namespace,
            "signatures": {"identity": cfg.signatures.signer_identity, "issuer": cfg.signatures.signer_issuer}
            if cfg.signatures.verify
            else None,
            "gitops": None
            if cfg.gitops is None
            else {
                "branch": cfg.gitops.target_revision,
                "auto_sync": cfg.gitops.auto_sync,
                "promote_from": cfg.gitops.promote_from,
                "applications": [name for name, _ in cfg.gitops.applications(cfg.name)],
            },
        }
        for cfg in every
    }
    return json.dumps(body, indent=2, sort_keys=True) + "\n"
