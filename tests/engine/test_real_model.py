"""The default model (RRDBNet x4plus) on a real photo: tiled output equals untiled output, and shows no seams."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ldl_backend.engine.device import ComputeTarget, Precision
from ldl_backend.engine.pipeline import upscale_image
from ldl_backend.engine.runners import TorchRunner
from ldl_backend.engine.tiled import TileSettings
from ldl_backend.engine.tiling import TilePlan
from ldl_backend.engine.upscale import DEFAULT_BLEND, default_overlap, run_untiled
from ldl_backend.imageio.image import ImageData
from ldl_backend.models.catalog import builtin_catalog
from ldl_backend.models.loading import LoadedModel
from ldl_backend.models.store import ModelStore

pytestmark = pytest.mark.slow
CPU32 = ComputeTarget(torch.device("cpu"), Precision.FP32)


@pytest.fixture(scope="module")
def x4plus(tmp_path_factory: pytest.TempPathFactory) -> LoadedModel:
    return ModelStore(tmp_path_factory.mktemp("models"), builtin_catalog()).load("realesrgan-x4plus")


@pytest.fixture(scope="module")
def tiled_and_untiled(x4plus: LoadedModel) -> tuple[np.ndarray, np.ndarray, TilePlan]:
    skimage_data = pytest.importorskip("skimage.data")
    photo = np.ascontiguousarray(skimage_data.coffee()[120:248, 260:388])
    settings = TileSettings(112, default_overlap(x4plus.descriptor), DEFAULT_BLEND)
    plan = TilePlan.build(128, 128, settings.tile, settings.overlap, settings.blend)
    assert plan.count == 4  # a 2×2 grid: one horizontal and one vertical seam through the middle
    runner = TorchRunner(x4plus.network, x4plus.descriptor, CPU32)
    tiled = upscale_image(ImageData(photo), runner, settings).colour.astype(np.float32)
    untiled = np.rint(np.clip(run_untiled(x4plus, photo.astype(np.float32) / 255, CPU32), 0, 1) * 255)
    return tiled, untiled, plan


def test_tiled_equals_untiled_on_a_real_photo(tiled_and_untiled: tuple[np.ndarray, np.ndarray, TilePlan]) -> None:
    tiled, untiled, _ = tiled_and_untiled
    difference = np.abs(tiled - untiled)
    assert difference.mean() <= 0.5
    assert np.percentile(difference, 99.9) <= 2.0


def _row_gradient(image: np.ndarray, rows: slice) -> float:
    return float(np.abs(np.diff(image[rows], axis=0)).mean())


def seam_excess(tiled: np.ndarray, untiled: np.ndarray, plan: TilePlan) -> list[float]:
    """For each seam: how much more the gradient across the seam rows exceeds that of neighbouring rows in the
    tiled output than in the untiled one (the photo's own texture changes cancel out)."""
    excess = []
    for axis, tiles in ((0, plan.rows), (1, plan.columns)):
        seam = tiles[1].keep_start * 4
        width = max(4, (tiles[1].full_start - tiles[1].keep_start) * 4)
        ratios = []
        for image in (tiled, untiled):
            oriented = image if axis == 0 else image.transpose(1, 0, 2)
            at_seam = _row_gradient(oriented, slice(seam - 1, seam + width + 1))
            around = _row_gradient(oriented, slice(seam - 3 * width, seam - width)) + _row_gradient(
                oriented, slice(seam + 2 * width, seam + 4 * width)
            )
            ratios.append(at_seam / (around / 2))
        excess.append(abs(ratios[0] - ratios[1]))
    return excess


def test_no_visible_seams(tiled_and_untiled: tuple[np.ndarray, np.ndarray, TilePlan], x4plus: LoadedModel) -> None:
    tiled, untiled, plan = tiled_and_untiled
    assert max(seam_excess(tiled, untiled, plan)) <= 0.05
    # The measure sees a seam when there is one: hard cuts with little context.
    photo = (untiled[::4, ::4]).astype(np.uint8)  # any real image will do for the control
    hard = TileSettings(72, 8, 0)
    runner = TorchRunner(x4plus.network, x4plus.descriptor, CPU32)
    seamed = upscale_image(ImageData(np.ascontiguousarray(photo)), runner, hard).colour.astype(np.float32)
    reference = np.rint(np.clip(run_untiled(x4plus, photo.astype(np.float32) / 255, CPU32), 0, 1) * 255)
    assert max(seam_excess(seamed, reference, TilePlan.build(128, 128, 72, 8, 0))) > 0.05
