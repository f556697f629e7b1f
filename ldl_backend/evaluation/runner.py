"""Run every upscaler over every image of a dataset and score the outputs."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ldl_backend.evaluation.dataset import DatasetError, EvalDataset, EvalImage
from ldl_backend.evaluation.lowres import LowResCache, LowResRecipe, ground_truth
from ldl_backend.evaluation.pixels import to_rgb8
from ldl_backend.evaluation.scoring import ImageScore, MetricSuite
from ldl_backend.evaluation.upscalers import Upscaler
from ldl_backend.imageio import read_image


@dataclass(frozen=True)
class EvalInputs:
    """One image's model input and the ground truth its output is scored against (None without one)."""

    low: np.ndarray
    truth: np.ndarray | None


def load_inputs(image: EvalImage, recipe: LowResRecipe, cache: LowResCache) -> EvalInputs:
    """Raises ``DatasetError`` when a given LR/HR pair does not match in size, ``ImageFileError`` for bad files."""
    scale = recipe.scale
    high = None if image.hr is None else to_rgb8(read_image(image.hr))
    if image.lr is not None:
        low = to_rgb8(read_image(image.lr))
        if high is None:
            return EvalInputs(low, None)
        if (high.shape[0] // scale, high.shape[1] // scale) != low.shape[:2]:
            raise DatasetError(
                f"{image.lr.name} is {low.shape[1]}×{low.shape[0]} but {image.name}'s HR is "
                f"{high.shape[1]}×{high.shape[0]}: not a ×{scale} pair",
                f"check --scale (now {scale}) or the LR file",
            )
        return EvalInputs(low, ground_truth(high, scale))
    if image.hr is None or high is None:
        raise DatasetError(f"{image.name} has neither an HR nor an LR file", "")
    if min(high.shape[:2]) < scale:
        raise DatasetError(f"{image.hr.name} is smaller than the scale ({scale})", "remove it from the set")
    return EvalInputs(cache.low_res(image.hr, high, recipe, image.name), ground_truth(high, scale))


def evaluate(
    dataset: EvalDataset,
    upscalers: Sequence[Upscaler],
    recipe: LowResRecipe,
    suite: MetricSuite,
    cache: LowResCache,
    on_step: Callable[[str], object] | None = None,
) -> list[ImageScore]:
    """Scores in dataset order, one per (image, upscaler). ``on_step`` is called after each output is scored."""
    scores: list[ImageScore] = []
    for image in dataset.images:
        inputs = load_inputs(image, recipe, cache)
        for upscaler in upscalers:
            started = time.perf_counter()
            outputs = upscaler.upscale(inputs.low)
            seconds = time.perf_counter() - started  # all layers of one run: each row shows the run's time
            for name, output in zip(upscaler.outputs, outputs, strict=True):
                scores.append(suite.score(image.name, name, output, inputs.truth, seconds))
            if on_step is not None:
                on_step(f"{image.name} · {', '.join(upscaler.outputs)}")
    names = [name for upscaler in upscalers for name in upscaler.outputs]
    order = {name: index for index, name in enumerate(names)}
    return sorted(scores, key=lambda score: order[score.model])  # stable: images stay in dataset order
