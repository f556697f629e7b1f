"""Per-pixel cues of the artifact-map estimate, computed on one row band (with its halo) at a time.

Every cue is the logarithm of a local statistic, so a global change of contrast shifts it by a constant (which the
image-relative part of the predictor removes) instead of rescaling it. The cues (``FEATURE_NAMES``):

- ``lv_rt``/``lv_rt15``: LDL's statistic with the reference standing in for the ground truth — the unbiased local
  variance of R = Σ_c |detail − reference| over 7×7 (15×15) windows;
- ``m_rt``: the local mean of R (a smooth difference is blur, an irregular one is texture the reference lacks);
- ``lv_rb``, ``m_rb``: the same against the bicubic upscale of the input (a reference that cannot hallucinate);
- ``lv_d``/``lv_d3``, ``lv_t``, ``lv_b``: local variance of the detail, reference and bicubic luminance
  (texture the generator added where the input had none is the typical artifact);
- ``*_g6``: those cues averaged over a Gaussian of σ = 6 px: whether the neighbourhood is textured at all.

Filters see only the band plus ``HALO`` rows and columns of context (reflect-padded at the image border), so a
band's cues equal the whole image's cues on the same rows.
"""

from __future__ import annotations

import cv2
import numpy as np

WINDOW = 7
SMALL_WINDOW = 3
WIDE_WINDOW = 15
CONTEXT_SIGMA = 6.0
# Local variances of [0, 1] images fall to ~1e-7 in flat sky; the floor keeps their logarithm finite and stops
# quantisation noise in flat areas from ranking as texture.
FLOOR = 1e-6

FEATURE_NAMES = (
    "lv_rt",
    "lv_rb",
    "lv_d",
    "lv_b",
    "lv_t",
    "m_rt",
    "m_rb",
    "lv_rt15",
    "lv_d3",
    "lv_rt_g6",
    "lv_d_g6",
    "lv_b_g6",
    "m_rt_g6",
)
_SMOOTHED = {"lv_rt_g6": "lv_rt", "lv_d_g6": "lv_d", "lv_b_g6": "lv_b", "m_rt_g6": "m_rt"}

# OpenCV truncates a Gaussian of σ at ±4σ (float images); a box of w reaches ±w//2. The Gaussian runs on 7×7 cues.
HALO = int(np.ceil(4 * CONTEXT_SIGMA)) + 1 + max(WIDE_WINDOW // 2, WINDOW // 2)


def _box(values: np.ndarray, window: int) -> np.ndarray:
    return cv2.blur(values, (window, window), borderType=cv2.BORDER_REFLECT_101)


def _log_local_variance(values: np.ndarray, window: int) -> np.ndarray:
    # float64: E[x²] − E[x]² of [0, 1] values cancels catastrophically in float32 in flat regions.
    mean = _box(values, window)
    mean_of_squares = _box(values * values, window)
    count = window * window
    variance = np.maximum(mean_of_squares - mean * mean, 0.0) * (count / (count - 1))
    return np.log(variance + FLOOR)


def band_features(detail: np.ndarray, reference: np.ndarray, bicubic: np.ndarray) -> np.ndarray:
    """The cues of ``FEATURE_NAMES``, F×h×w float32, for h×w×3 float arrays of one band.

    Only pixels at least ``HALO`` from the band's edges are exact (the caller pads the band with real or reflected
    rows and columns and crops them away); the rest see OpenCV's border handling.
    """
    detail64 = detail.astype(np.float64)
    reference64 = reference.astype(np.float64)
    bicubic64 = bicubic.astype(np.float64)
    residual_ref = np.abs(detail64 - reference64).sum(axis=2)
    residual_bic = np.abs(detail64 - bicubic64).sum(axis=2)
    luma_detail = detail64.mean(axis=2)
    cues: dict[str, np.ndarray] = {
        "lv_rt": _log_local_variance(residual_ref, WINDOW),
        "lv_rb": _log_local_variance(residual_bic, WINDOW),
        "lv_d": _log_local_variance(luma_detail, WINDOW),
        "lv_b": _log_local_variance(bicubic64.mean(axis=2), WINDOW),
        "lv_t": _log_local_variance(reference64.mean(axis=2), WINDOW),
        "m_rt": np.log(_box(residual_ref, WINDOW) + FLOOR),
        "m_rb": np.log(_box(residual_bic, WINDOW) + FLOOR),
        "lv_rt15": _log_local_variance(residual_ref, WIDE_WINDOW),
        "lv_d3": _log_local_variance(luma_detail, SMALL_WINDOW),
    }
    for name, source in _SMOOTHED.items():
        cues[name] = cv2.GaussianBlur(cues[source], (0, 0), CONTEXT_SIGMA, borderType=cv2.BORDER_REFLECT_101)
    return np.stack([cues[name] for name in FEATURE_NAMES]).astype(np.float32)
