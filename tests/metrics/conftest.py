"""Fixtures for the metric tests: the shared NIQE model, skipped when ../shared/data is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from ldl_backend.metrics.niqe_parameters import NiqeParameters

# The project's shared test data lives beside the repository (see ../shared/data/README.md), not inside it.
SHARED_DATA = Path(__file__).parents[2].parent / "shared" / "data"
NIQE_MODEL = SHARED_DATA / "niqe_pris_params.npz"


@pytest.fixture(scope="session")
def niqe_params() -> NiqeParameters:
    if not NIQE_MODEL.is_file():
        pytest.skip(f"the NIQE pristine model was not found at {NIQE_MODEL} (NIQE score tests need it)")
    return NiqeParameters.load(NIQE_MODEL)
