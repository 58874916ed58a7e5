"""The fault suite: kills, two writers, hostile files, a full disk.

Every test of this folder is marked ``faults``. The number of random trials of each
campaign comes from ``FAULTS_TRIALS``: 2 by default (the short version that CI runs with
the rest of the suite), more by hand for the long version::

    FAULTS_TRIALS=15 .venv/bin/python -m pytest -m faults

``FAULTS_SEED`` replays a failing campaign: the seed is in every failure message.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

TRIALS = max(1, int(os.environ.get("FAULTS_TRIALS", "2")))
SEED = int(os.environ.get("FAULTS_SEED", "20261204"))
HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.faults)


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    """A random source per test, the same on every run with the same FAULTS_SEED."""
    return random.Random(f"{SEED}:{request.node.nodeid}")
