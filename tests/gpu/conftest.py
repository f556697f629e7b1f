"""Tests that need a CUDA GPU: skipped where none is present (CI has none); run them on a GPU machine with
``python -m pytest tests/gpu``."""

from __future__ import annotations

import os

import pytest
import torch

# cuBLAS is deterministic only with a fixed workspace; this must be set before CUDA starts.
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "tests/gpu/" in item.nodeid.replace("\\", "/"):
            item.add_marker(skip)
