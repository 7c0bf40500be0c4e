#!/usr/bin/env python3
"""``make diff``: the rendered change against a git ref, with risk flags (docs/review.md).

    review-diff.py [--base REF] [--format text|markdown]

Run from anywhere inside the repository to compare; the code is vibeyard.review.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "constructs"))

from vibeyard.review.cli import main

if __name__ == "__main__":
    sys.exit(main())
