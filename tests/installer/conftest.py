from __future__ import annotations

from pathlib import Path

import pytest

from tests.installer.wheelhouse import repack


@pytest.fixture(scope="session")
def build_wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheels pip needs to build the checkout (setuptools, for its isolated build), packed from this venv: with
    ``--no-index`` it is all the "index" the fast tests' pip sees."""
    folder = tmp_path_factory.mktemp("wheelhouse")
    repack("setuptools", folder)
    return folder
