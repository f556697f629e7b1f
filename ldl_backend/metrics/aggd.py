"""NIQE's per-block features: asymmetric generalised Gaussian (AGGD) fits to normalised luminance.

A block of mean-subtracted contrast-normalised (MSCN) coefficients is described by the shape and spread of an AGGD
fitted by moment matching (Lasmar et al.), and so are the products of each coefficient with its right, lower,
lower-right and lower-left neighbour: 2 + 4 × 4 = 18 numbers. The shape is found on the same 0.001-step grid of
candidate values that the reference implementations use, so the scores agree with theirs.
"""

from __future__ import annotations

import functools
import math

import numpy as np

FEATURES_PER_SCALE = 18
# Neighbour offsets (rows, columns) whose products with the block are fitted: horizontal, vertical, two diagonals.
# Shifts wrap around inside the block, as in the reference implementations.
NEIGHBOUR_SHIFTS = ((0, 1), (1, 0), (1, 1), (1, -1))


@functools.cache
def _shape_grid() -> tuple[np.ndarray, np.ndarray]:
    """Candidate shapes α ∈ [0.2, 10] and their moment ratios Γ(2/α)² / (Γ(1/α) Γ(3/α)) (computed once)."""
    shapes = np.arange(0.2, 10.001, 0.001)
    # Plain Γ is in range on this grid (Γ(15) ≈ 8.7e10) and rounds like the reference's, so argmin ties break alike.
    ratios = np.asarray([math.gamma(2.0 / a) ** 2 / (math.gamma(1.0 / a) * math.gamma(3.0 / a)) for a in shapes])
    shapes.setflags(write=False)
    ratios.setflags(write=False)
    return shapes, ratios


def _root_mean_square(values: np.ndarray) -> float:
    return math.sqrt(float(np.mean(values * values))) if values.size else math.nan


def fit_aggd(values: np.ndarray) -> tuple[float, float, float]:
    """Moment-matching AGGD fit of a block (any shape): ``(shape α, left scale β_l, right scale β_r)``.

    A block without both signs (e.g. a flat area, all zeros) has undefined scales: they come back as NaN and the
    shape as the grid's first value, which is what the reference implementation yields; NIQE drops such blocks
    from the covariance.
    """
    flat = values.ravel().astype(np.float64, copy=False)
    left_std = _root_mean_square(flat[flat < 0])
    right_std = _root_mean_square(flat[flat > 0])
    mean_square = float(np.mean(flat * flat))
    shapes, ratios = _shape_grid()
    if mean_square > 0 and right_std > 0 and not math.isnan(left_std):
        gamma_hat = left_std / right_std
        r_hat = float(np.mean(np.abs(flat))) ** 2 / mean_square
        r_hat_norm = r_hat * (gamma_hat**3 + 1) * (gamma_hat + 1) / (gamma_hat**2 + 1) ** 2
        alpha = float(shapes[np.argmin((ratios - r_hat_norm) ** 2)])
    else:
        alpha = float(shapes[0])
    spread = math.sqrt(math.gamma(1.0 / alpha) / math.gamma(3.0 / alpha))
    return alpha, left_std * spread, right_std * spread


def block_features(block: np.ndarray) -> np.ndarray:
    """The 18 NIQE features of one 2-D block of MSCN coefficients (float64)."""
    alpha, beta_l, beta_r = fit_aggd(block)
    features = [alpha, (beta_l + beta_r) / 2.0]
    for shift in NEIGHBOUR_SHIFTS:
        alpha, beta_l, beta_r = fit_aggd(block * np.roll(block, shift, axis=(0, 1)))
        mean = (beta_r - beta_l) * math.gamma(2.0 / alpha) / math.gamma(1.0 / alpha)
        features += [alpha, mean, beta_l, beta_r]
    return np.asarray(features, dtype=np.float64)
