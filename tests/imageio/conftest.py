"""Fixtures for the image file tests."""

from __future__ import annotations

from pathlib import Path

import pytest

# The project's shared test data lives beside the repository (see ../shared/data/README.md), not inside it.
SHARED_DATA = Path(__file__).parents[2].parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA} (only the fast generated-image tests ran)")
    return SHARED_DATA
