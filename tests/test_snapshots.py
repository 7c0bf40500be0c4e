"""Full-output snapshots: they show *that* something changed; the other tests say whether it is right.

Update with ``pipenv run pytest tests/test_snapshots.py --snapshot-update`` and read the diff first.
"""

from __future__ import annotations

import pytest
from syrupy.assertion import SnapshotAssertion

FOLDERS = ("dev", "staging", "prod", "argocd")


@pytest.mark.parametrize("folder", FOLDERS)
def test_output_snapshot(
    synthesized: dict[str, dict[str, str]], snapshot: SnapshotAssertion, folder: str
) -> None:
    assert synthesized[folder] == snapshot
