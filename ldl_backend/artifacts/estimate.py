"""The inference-time artifact map: LDL's statistics with a reference upscale standing in for the ground truth,
combined with other local cues by a small learned model (``predictor.py``), computed in row bands.

Calibration: the map is the estimated probability that a pixel is among the 10% of the image with the highest
training-form LDL map (the map LDL would compute if the ground truth were known). The model sees only cues relative
to the image's own mean, so the value does not depend on the image's exposure or contrast, and a threshold selects
"pixels at least this likely to be among the image's worst tenth" on every image. On held-back photos the map
averages ≈ 0.1, as a probability of a 10% event should (``benchmarks/artifact_map.py`` prints the reliability).

Bounded memory: cues are computed for one band of rows at a time, with ``HALO`` rows of context above and below
(real rows inside the image, reflected rows at its border); only the H×W float32 map is image-sized. The model is
linear in the cues, so the image means it needs are summed band by band and applied once at the end: the result
equals the whole-image computation (one band) to float rounding.
"""

from __future__ import annotations

import cv2
import numpy as np

from ldl_backend.artifacts.features import FEATURE_NAMES, HALO, band_features
from ldl_backend.artifacts.predictor import ArtifactPredictor, LinearCues, default_predictor
from ldl_backend.errors import LdlError
from ldl_client.options import DEFAULT_REFERENCE, ReferenceSource

DEFAULT_BAND_ROWS = 256
# Context rows the bicubic cue needs beyond a band, in input pixels (the cubic kernel reaches 2).
_BICUBIC_MARGIN = 3


class ArtifactInputError(LdlError):
    """The layers given to the artifact-map estimate do not fit together."""

    code = "bad_artifact_input"


def estimate_artifact_map(
    detail: np.ndarray,
    reference: np.ndarray,
    *,
    low_res: np.ndarray | None = None,
    source: ReferenceSource = DEFAULT_REFERENCE,
    predictor: ArtifactPredictor | None = None,
    scale: int = 4,
    band_rows: int = DEFAULT_BAND_ROWS,
) -> np.ndarray:
    """The estimated artifact map, H×W float32 in [0, 1] (1 = likely artifact), calibrated as the module says.

    ``detail``: the generator's output, H×W×3 or H×W×1, uint8, uint16 or float in [0, 1] (converted band by
    band). ``reference``: the faithful upscale of the same image from ``source`` (same shape and dtype).
    ``low_res``: the input, (H/s)×(W/s)×C, same conventions; without it,
    an area-average ×1/``scale`` of ``detail`` stands in (the generator keeps its input's low frequencies).
    ``predictor``: default the packaged one. ``band_rows``: rows computed at a time (memory ∝ band_rows × W).

    Raises ``ArtifactInputError`` for mismatched shapes, unsupported dtypes, non-finite pixels, images smaller
    empty images, and ``PredictorFileError`` when the packaged predictor is missing or invalid.
    """
    _check_layer("detail", detail)
    _check_layer("reference", reference)
    if reference.shape != detail.shape:
        raise ArtifactInputError(
            f"detail {detail.shape} and reference {reference.shape} differ in shape",
            "pass the generator's output and the reference upscale of the same image",
        )
    height, width = detail.shape[:2]
    # Tiny images (down to 1×1) work: every border is folded back by repeated reflection (``_reflect``).
    if min(height, width) < 1:
        raise ArtifactInputError(f"a {height}×{width} image is empty", "pass an image of at least 1×1 pixels")
    if band_rows < 1:
        raise ValueError(f"band_rows must be at least 1, not {band_rows}")
    if low_res is None:
        if scale < 1 or height % scale or width % scale:
            raise ArtifactInputError(f"cannot derive the input of a {height}×{width} image at ×{scale}", "pass low_res")
        low_res = cv2.resize(detail, (width // scale, height // scale), interpolation=cv2.INTER_AREA)
    else:
        _check_layer("low_res", low_res)
        scale = _integer_scale(low_res.shape, detail.shape)
    chosen = predictor or default_predictor()
    return _banded_map(detail, reference, low_res, scale, chosen.for_reference(source), chosen.smooth_sigma, band_rows)


def relative_cues(detail: np.ndarray, reference: np.ndarray, low_res: np.ndarray) -> np.ndarray:
    """The predictor's inputs for a whole image: F×H×W float32, each cue of ``FEATURE_NAMES`` minus its image mean
    (what ``scripts/train_artifact_predictor.py`` fits the model on). Same checks as ``estimate_artifact_map``."""
    for name, layer in (("detail", detail), ("reference", reference), ("low_res", low_res)):
        _check_layer(name, layer)
    if reference.shape != detail.shape:
        raise ArtifactInputError(f"detail {detail.shape} and reference {reference.shape} differ", "")
    height, width = detail.shape[:2]
    scale = _integer_scale(low_res.shape, detail.shape)
    rows = _reflect(np.arange(-HALO, height + HALO), height)
    columns = _reflect(np.arange(-HALO, width + HALO), width)
    bicubic = _bicubic_rows(low_res, scale, rows, width)
    cues = band_features(
        _unit_rgb(detail[rows][:, columns]), _unit_rgb(reference[rows][:, columns]), bicubic[:, columns]
    )
    inner = cues[:, HALO : HALO + height, HALO : HALO + width]
    return inner - inner.mean(axis=(1, 2), dtype=np.float64).astype(np.float32)[:, None, None]


def _banded_map(
    detail: np.ndarray,
    reference: np.ndarray,
    low_res: np.ndarray,
    scale: int,
    model: LinearCues,
    sigma: float,
    band_rows: int,
) -> np.ndarray:
    height, width = detail.shape[:2]
    smooth_halo = int(np.ceil(4 * sigma)) + 1 if sigma > 0 else 0
    pad = HALO + smooth_halo
    columns = _reflect(np.arange(-pad, width + pad), width)
    weights = model.weights.astype(np.float32)
    sums = np.zeros(len(FEATURE_NAMES), dtype=np.float64)
    logits = np.empty((height, width), dtype=np.float32)
    for top in range(0, height, band_rows):
        bottom = min(top + band_rows, height)
        rows = _reflect(np.arange(top - pad, bottom + pad), height)
        bicubic = _bicubic_rows(low_res, scale, rows, width)
        cues = band_features(
            _unit_rgb(detail[rows][:, columns]), _unit_rgb(reference[rows][:, columns]), bicubic[:, columns]
        )
        inner = cues[:, pad : pad + bottom - top, pad : pad + width]
        sums += inner.sum(axis=(1, 2), dtype=np.float64)
        # The smoothing needs the logits `smooth_halo` beyond the band; cues there are still exact (HALO inside).
        near = cues[:, HALO : cues.shape[1] - HALO, HALO : cues.shape[2] - HALO]
        logit = np.tensordot(weights, near, axes=1)
        if sigma > 0:
            logit = cv2.GaussianBlur(logit, (0, 0), sigma, borderType=cv2.BORDER_REFLECT_101)
        logits[top:bottom] = logit[smooth_halo : smooth_halo + bottom - top, smooth_halo : smooth_halo + width]
    # The image-relative part: subtracting each cue's image mean is a constant shift of the (smoothed) logit.
    offset = model.bias - float(model.weights @ (sums / (height * width)))
    logits += np.float32(offset)
    # sigmoid, written to stay finite for large |logit| and to work in place on the one image-sized array
    np.negative(logits, out=logits)
    np.exp(np.minimum(logits, 80.0), out=logits)
    logits += 1.0
    np.reciprocal(logits, out=logits)
    return logits


def _bicubic_rows(low_res: np.ndarray, scale: int, rows: np.ndarray, width: int) -> np.ndarray:
    """The bicubic ×scale upscale of ``low_res`` at output ``rows`` (any order, repeats allowed), len(rows)×W×3.

    Upscales only the input rows those output rows need, plus a margin: an integer-factor resize maps output row y
    to input (y + 0.5)/s − 0.5 whatever the slice starts at, so the rows equal the whole-image upscale's."""
    first, last = int(rows.min()), int(rows.max())
    start = max(first // scale - _BICUBIC_MARGIN, 0)
    stop = min(last // scale + 1 + _BICUBIC_MARGIN, low_res.shape[0])
    piece = np.ascontiguousarray(_unit_rgb(low_res[start:stop]), dtype=np.float32)
    upscaled = cv2.resize(piece, (width, (stop - start) * scale), interpolation=cv2.INTER_CUBIC)
    return upscaled[rows - start * scale]


def _unit_rgb(pixels: np.ndarray) -> np.ndarray:
    """A band as float32 RGB in [0, 1]: integer pixels are scaled by their dtype's maximum, gray is repeated.
    Converting band by band keeps memory bounded for 8/16-bit images (no image-sized float copy)."""
    if pixels.dtype == np.uint8 or pixels.dtype == np.uint16:
        pixels = pixels.astype(np.float32) / np.float32(np.iinfo(pixels.dtype).max)
    if pixels.shape[2] == 1:
        pixels = np.repeat(pixels, 3, axis=2)
    return pixels


def _reflect(indices: np.ndarray, length: int) -> np.ndarray:
    """Map indices outside [0, length) back inside by mirror reflection without repeating the edge (reflect-101),
    repeatedly, so any halo works even on tiny images."""
    if length == 1:
        return np.zeros_like(indices)
    period = 2 * (length - 1)
    folded = np.mod(indices, period)
    return np.where(folded < length, folded, period - folded)


def _integer_scale(low_shape: tuple[int, ...], high_shape: tuple[int, ...]) -> int:
    low_h, low_w = low_shape[:2]
    high_h, high_w = high_shape[:2]
    scale = high_h // max(low_h, 1)
    if scale < 1 or low_h * scale != high_h or low_w * scale != high_w or low_shape[2:] != high_shape[2:]:
        raise ArtifactInputError(
            f"low_res {low_shape} is not the input of a {high_shape} upscale at an integer scale",
            "pass the image the generator upscaled, unresized",
        )
    return scale


def _check_layer(name: str, layer: np.ndarray) -> None:
    if not isinstance(layer, np.ndarray) or layer.ndim != 3 or layer.shape[2] not in (1, 3):
        shape = getattr(layer, "shape", None)
        raise ArtifactInputError(f"{name} must be an H×W×3 or H×W×1 array, got shape {shape}", "pass colour only")
    if layer.dtype not in (np.float32, np.float64, np.uint8, np.uint16):
        raise ArtifactInputError(
            f"{name} is {layer.dtype}; the artifact map takes uint8, uint16 or float pixels in [0, 1]",
            "convert the image to one of those types",
        )
    if layer.dtype.kind == "f" and not np.all(np.isfinite(layer)):
        raise ArtifactInputError(f"{name} contains NaN or infinite values", "check the upscale that produced it")
