#!/usr/bin/env python3
"""Print the Secret keys an environment needs, one per line (used by seal-secrets.sh)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "constructs"))

from vibeyard.config import ENVIRONMENTS, Topology

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in ENVIRONMENTS:
        sys.exit(f"usage: secret-keys.py {{{','.join(ENVIRONMENTS)}}}")
    cfg = ENVIRONMENTS[sys.argv[1]]
    print(cfg.namespace, cfg.secrets.name)
    for key in Topology.of(cfg).secret_keys:
        print(key)
