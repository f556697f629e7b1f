"""Scores of one SR output: full-reference (PSNR-Y, SSIM-Y, LPIPS) against its HR, no-reference (NIQE) alone."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

# A metric that is missing its data files: the report says so instead of leaving the column out.
NOT_INSTALLED = "not installed"
# A metric that cannot apply (no ground truth for full-reference metrics).
NOT_APPLICABLE = "n/a"

Score = float | str


@dataclass(frozen=True)
class ImageScore:
    image: str
    model: str
    psnr_y: Score
    ssim_y: Score
    niqe: Score
    lpips: Score
    seconds: float


@dataclass(frozen=True)
class MetricSuite:
    """The metrics of a run. ``niqe``/``lpips`` are None when their files are not installed."""

    crop_border: int
    psnr_y: Callable[[np.ndarray, np.ndarray], float]
    ssim_y: Callable[[np.ndarray, np.ndarray], float]
    niqe: Callable[[np.ndarray], float] | None
    lpips: Callable[[np.ndarray, np.ndarray], float] | None

    def score(self, image: str, model: str, output: np.ndarray, truth: np.ndarray | None, seconds: float) -> ImageScore:
        """``output`` and ``truth``: H×W×3 uint8 of the same size (``truth`` None without ground truth)."""
        if truth is not None and truth.shape != output.shape:
            raise ValueError(f"{image}: output {output.shape[:2]} and ground truth {truth.shape[:2]} differ in size")
        full_reference_missing = NOT_APPLICABLE if truth is None else None

        def full(metric: Callable[[np.ndarray, np.ndarray], float] | None) -> Score:
            if full_reference_missing is not None:
                return full_reference_missing
            if metric is None or truth is None:
                return NOT_INSTALLED
            return metric(output, truth)

        return ImageScore(
            image=image,
            model=model,
            psnr_y=full(self.psnr_y),
            ssim_y=full(self.ssim_y),
            niqe=NOT_INSTALLED if self.niqe is None else self.niqe(output),
            lpips=full(self.lpips),
            seconds=seconds,
        )


def mean_score(values: Sequence[Score]) -> Score:
    """Mean of the numeric values; a column that holds a marker (not installed / n/a) keeps it.

    PSNR of an identical image is inf, and the mean is then inf as well (as BasicSR reports it)."""
    numbers = [value for value in values if isinstance(value, float)]
    if len(numbers) != len(values) or not numbers:
        markers = [value for value in values if isinstance(value, str)]
        return markers[0] if markers else NOT_APPLICABLE
    return float(np.mean(numbers))


def mean_row(scores: Sequence[ImageScore], model: str) -> ImageScore:
    return ImageScore(
        image="mean",
        model=model,
        psnr_y=mean_score([s.psnr_y for s in scores]),
        ssim_y=mean_score([s.ssim_y for s in scores]),
        niqe=mean_score([s.niqe for s in scores]),
        lpips=mean_score([s.lpips for s in scores]),
        seconds=float(np.mean([s.seconds for s in scores])) if scores else 0.0,
    )
