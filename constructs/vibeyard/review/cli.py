"""``make diff [BASE=<git ref>]``: exit 0; 3 for a blocking change without an upgrade note; 2 for an error."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from vibeyard.review import report
from vibeyard.review.compare import review
from vibeyard.review.errors import ReviewError

BLOCKED = 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="make diff",
        description="The rendered change from BASE's committed dist/ to the working tree, with risk flags.",
    )
    parser.add_argument(
        "--base",
        default=os.environ.get("REVIEW_BASE") or None,
        help="git ref to compare with (default: the merge base of HEAD with origin/main or main, else HEAD)",
    )
    parser.add_argument(
        "--format",
        choices=("text", "markdown"),
        default=os.environ.get("REVIEW_FORMAT") or "text",
        help="markdown: for a CI job summary",
    )
    args = parser.parse_args(argv)
    try:
        result = review(Path.cwd(), args.base)
    except ReviewError as exc:
        print(exc, file=sys.stderr)
        return 2
    sys.stdout.write(report.markdown(result) if args.format == "markdown" else report.text(result))
    sys.stdout.flush()
    if result.unacknowledged:
        print(
            f"make diff: {len(result.unacknowledged)} blocking change(s) without an upgrade note; "
            "write upgrades/<yyyy-mm-dd>-<slug>.md naming them with the steps (docs/review.md)",
            file=sys.stderr,
        )
        return BLOCKED
    return 0
