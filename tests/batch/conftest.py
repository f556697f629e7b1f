"""An archive of small images in nested folders, a tiny compact model on disk, and ``ldl upscale``'s output for
every image: what each ``ldl batch`` output must equal, byte for byte."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ldl_backend.archs.srvgg import SRVGGNetCompact
from ldl_backend.batch.driver import BatchRequest
from ldl_backend.batch.lock import LOCK_NAME
from ldl_backend.batch.manifest import MANIFEST_NAME, ItemRecord, Manifest
from ldl_backend.batch.recipe import BatchRecipe
from ldl_backend.batch.worker import ItemOutcome
from ldl_backend.cli import build_parser, main
from ldl_backend.commands.batch import recipe_from, request_from
from ldl_backend.models.catalog import builtin_catalog
from ldl_backend.models.store import ModelStore
from ldl_backend.paths import models_root

# Relative path → (width, height, mode). Nested folders, colour, alpha, gray and a JPEG: the tree must mirror,
# and every kind of image must come out as ``ldl upscale`` writes it.
ARCHIVE = {
    "a.png": (40, 32, "RGB"),
    "b.jpg": (36, 28, "RGB"),
    "scans/c.png": (32, 40, "RGBA"),
    "scans/d.png": (28, 24, "L"),
    "scans/1998/e.png": (48, 32, "RGB"),
    "scans/1998/f.png": (24, 24, "RGB"),
}


@pytest.fixture(autouse=True)
def _home(isolated_home: Path) -> Path:
    return isolated_home


@pytest.fixture
def model_file(tmp_path: Path, tiny_compact: SRVGGNetCompact) -> Path:
    path = tmp_path / "compact.pth"
    torch.save(tiny_compact.state_dict(), path)
    return path


def write_image(path: Path, size: tuple[int, int], mode: str, seed: int) -> None:
    channels = {"RGB": 3, "RGBA": 4, "L": 1}[mode]
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], channels), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels.squeeze(), mode).save(path)


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    root = tmp_path / "archive"
    for seed, (name, (width, height, mode)) in enumerate(ARCHIVE.items()):
        write_image(root / name, (width, height), mode, seed)
    return root


Upscaled = Callable[..., dict[str, bytes]]


@pytest.fixture
def upscaled(tmp_path: Path, model_file: Path) -> Upscaled:
    """``upscaled(archive, *options)``: ``ldl upscale`` run on each file of ``archive`` alone, with ``options``:
    the expected output tree (path → bytes)."""

    def run(root: Path, *options: str) -> dict[str, bytes]:
        expected = tmp_path / f"expected-{len(list(tmp_path.glob('expected-*')))}"
        for source in sorted(path for path in root.rglob("*") if path.is_file()):
            folder = expected / source.parent.relative_to(root)
            assert main(["upscale", str(source), "-o", str(folder), "-m", str(model_file), *options]) == 0
        return tree(expected)

    return run


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` but the batch's own two (manifest and lock), by relative path."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name not in (MANIFEST_NAME, LOCK_NAME)
    }


def records(folder: Path) -> dict[str, ItemRecord]:
    with Manifest(folder) as manifest:
        return manifest.items()


def batch_call(argv: list[str]) -> tuple[BatchRequest, BatchRecipe]:
    """The request and recipe ``ldl batch ARGV`` runs, for tests that watch a run from inside (``run_batch``)."""
    arguments = build_parser("batch").parse_args(["batch", *argv])
    recipe = recipe_from(arguments, ModelStore(models_root(), builtin_catalog()))
    return dataclasses.replace(request_from(arguments, recipe), show_progress=False), recipe


class Watch:
    """An observer of a run: the keys of the items it finished, in order; with ``interrupt_after``, it raises what
    Ctrl-C raises in the driver once that many are finished."""

    def __init__(self, interrupt_after: int | None = None) -> None:
        self.keys: list[str] = []
        self._interrupt_after = interrupt_after

    def __call__(self, outcome: ItemOutcome) -> None:
        self.keys.append(outcome.key)
        if len(self.keys) == self._interrupt_after:
            raise KeyboardInterrupt
