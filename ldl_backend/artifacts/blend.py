"""Selective blending of generated detail: blend = reference + mask·(detail − reference), per pixel.

``Blender`` is built once per (detail, reference) pair and keeps the layers in the form the per-mask work wants;
``reblend_region`` redoes only the box a brush stroke touched. ``blend`` and ``blend_image`` are the one-shot forms
and give exactly the same result.

Integer layers (uint8, uint16) are blended in float32 and rounded to nearest, ties up; the result always lies
between the two layers, so it never leaves the dtype's range. Rounding is that of the float32 value: it can differ
from the exact one only where that lies within float32's error (about 2⁻¹⁶ of a level for uint8, 2⁻⁸ for uint16)
of a half. Float32 layers are interpolated with lerp's two-sided formula, which returns each layer exactly at mask
0 and 1 and keeps values outside [0, 1] (HDR highlights, negative ringing) as they are.

Why numpy and OpenCV in row bands on a thread pool, not torch: every mask weight must be repeated over the C
channels, and broadcasting a size-C inner axis makes torch's and numpy's kernels scalar (three to five times
slower); ``cv2.merge`` repeats a band in cache instead. Bands keep the float32 temporaries in cache, so the layers
can be stored compactly (uint8: 3 bytes a sample), and a pool with more bands than threads keeps going when another
process holds a core, where torch's intra-op threads wait for each other at every operation.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

from ldl_backend.artifacts.masks import check_mask
from ldl_backend.artifacts.pixel_box import PixelBox
from ldl_backend.errors import BlendInputError
from ldl_backend.imageio.image import SUPPORTED_DTYPES, ImageData

# Samples per row band: its float32 temporaries (512 KiB each) stay in cache between the passes over them.
_BAND_SAMPLES = 1 << 17
# Below this many samples, starting threads costs more than it saves.
_THREADED_SAMPLES = 4 * _BAND_SAMPLES
# Memory bandwidth, not arithmetic, limits a blend: more threads than this only contend for it.
_MAX_WORKERS = 8


def _describe(array: np.ndarray) -> str:
    return f"{'×'.join(str(side) for side in array.shape)} {array.dtype}"


def _check_layers(detail: np.ndarray, reference: np.ndarray) -> None:
    for name, layer in (("detail", detail), ("reference", reference)):
        if layer.ndim != 3:
            raise BlendInputError(
                f"the {name} layer must be H×W×C, not {_describe(layer)}",
                "add a channel axis to gray images (array[..., None])",
            )
        if layer.dtype not in SUPPORTED_DTYPES:
            raise BlendInputError(
                f"the {name} layer must be uint8, uint16 or float32, not {layer.dtype}",
                "convert it with .astype(np.float32) (float64 and float16 are not blended directly)",
            )
    if detail.shape != reference.shape or detail.dtype != reference.dtype:
        raise BlendInputError(
            f"the detail layer is {_describe(detail)} but the reference is {_describe(reference)}",
            "blend the two layers of the same upscale: same size, channels and bit depth",
        )
    if detail.dtype == np.float32:
        for name, layer in (("detail", detail), ("reference", reference)):
            if not np.isfinite(layer).all():
                raise BlendInputError(
                    f"the {name} layer contains NaN or infinity", "re-run the upscale; its output overflowed"
                )


def _worker_count() -> int:
    # The cores this process may run on (a container or taskset may allow fewer than the machine has).
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, _MAX_WORKERS))


def _repeat_channels(weight: np.ndarray, channels: int, scratch: np.ndarray) -> np.ndarray:
    """rows×W weights as rows×W×C, every channel the same (in ``scratch`` when C > 1)."""
    if channels == 1:
        return weight[..., None]
    return cv2.merge([weight] * channels, dst=scratch)


class Blender:
    """Re-blends one (detail, reference) pair, H×W×C of the same dtype (uint8, uint16 or float32), under any mask.

    Holds the layers compactly: 3 bytes a sample for uint8 (reference and an int16 difference), 6 for uint16, 8 for
    float32 — about 38, 75 and 100 MB for a 2048×2048 RGB image. They are copies, so later changes to the caller's
    arrays do not affect it. Raises ``BlendInputError`` for mismatched shapes or dtypes, unsupported dtypes and
    non-finite float layers. Safe to use from several threads at once (each call has its own temporaries).
    """

    def __init__(self, detail: np.ndarray, reference: np.ndarray) -> None:
        detail, reference = np.asarray(detail), np.asarray(reference)
        _check_layers(detail, reference)
        self._shape: tuple[int, int, int] = (detail.shape[0], detail.shape[1], detail.shape[2])
        self._dtype = detail.dtype
        self._reference = np.array(reference, order="C", copy=True)
        # Float layers keep the detail itself (the two-sided lerp needs it); integer layers keep detail − reference,
        # exact: int16 holds ±255 and float32's 24-bit mantissa holds ±65535.
        if detail.dtype == np.float32:
            self._detail_term = np.array(detail, order="C", copy=True)
        else:
            wide = np.int16 if detail.dtype == np.uint8 else np.float32
            self._detail_term = detail.astype(wide)
            self._detail_term -= reference.astype(wide)

    @property
    def shape(self) -> tuple[int, int, int]:
        return self._shape

    @property
    def dtype(self) -> np.dtype[np.generic]:
        return self._dtype

    def blend(self, mask: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """The blend under ``mask`` (H×W float in [0, 1], 1 = detail; float32 C-contiguous avoids a copy).

        Written into ``out`` (H×W×C, this dtype, C-contiguous) when given — reusing a buffer saves the allocation —
        else into a new array; returns the array written. Raises ``BlendInputError`` for a bad mask or ``out``.
        """
        height, width, _ = self._shape
        weight = check_mask(mask, height, width)
        target = self._output(out)
        self._blend_box(weight, PixelBox.full(height, width), target)
        return target

    def reblend_region(self, mask: np.ndarray, box: PixelBox, out: np.ndarray) -> np.ndarray:
        """Update ``out`` (a previous blend of this pair) inside ``box`` only, for a mask that changed only there.

        Gives exactly what ``blend(mask)`` gives when the mask outside ``box`` is the one ``out`` was blended with;
        only the mask inside the box is read. ``box`` is clipped to the image. Returns ``out``.
        """
        height, width, _ = self._shape
        mask = np.asarray(mask)
        if mask.shape != (height, width):
            check_mask(mask, height, width)  # raises the error that names both sizes
        box = box.clipped(height, width)
        target = self._output(out)
        if not box.is_empty:
            inside = check_mask(mask[box.slices()], box.height, box.width)
            self._blend_box(inside, box, target)
        return target

    def _output(self, out: np.ndarray | None) -> np.ndarray:
        if out is None:
            return np.empty(self._shape, self._dtype)
        if out.shape != self._shape or out.dtype != self._dtype:
            raise BlendInputError(
                f"the output buffer is {_describe(out)} but the layers are "
                f"{'×'.join(str(side) for side in self._shape)} {self._dtype}",
                "pass a buffer from a previous blend of the same layers, or none",
            )
        if not (out.flags.c_contiguous and out.flags.writeable):
            raise BlendInputError(
                "the output buffer must be a writable C-contiguous array", "pass np.empty(shape, dtype) or none"
            )
        return out

    def _blend_box(self, weight: np.ndarray, box: PixelBox, out: np.ndarray) -> None:
        """Blend inside ``box`` with ``weight``, the checked mask of that box (box.height × box.width float32)."""
        channels = self._shape[2]
        band = max(1, _BAND_SAMPLES // (box.width * channels))
        kernel = self._float_rows if self._dtype == np.float32 else self._integer_rows

        def run(first: int, stop: int) -> None:
            scratch = np.empty((2, min(band, stop - first), box.width, channels), np.float32)
            for top in range(first, stop, band):
                bottom = min(top + band, stop)
                rows = slice(box.top + top, box.top + bottom)
                columns = slice(box.left, box.right)
                kernel(weight[top:bottom], rows, columns, out[rows, columns], scratch[:, : bottom - top])

        bands = -(-box.height // band)
        # A brush stroke's box is done before threads would have started.
        workers = 1 if box.height * box.width * channels < _THREADED_SAMPLES else min(_worker_count(), bands)
        if workers == 1:
            run(0, box.height)
            return
        # More tasks than threads: whichever thread has a core free takes the next one.
        tasks = min(bands, 4 * workers)
        step = -(-bands // tasks) * band
        with ThreadPoolExecutor(workers) as pool:
            futures = [pool.submit(run, first, min(first + step, box.height)) for first in range(0, box.height, step)]
            for future in futures:
                future.result()

    def _integer_rows(
        self, weight: np.ndarray, rows: slice, columns: slice, out: np.ndarray, scratch: np.ndarray
    ) -> None:
        mixed = np.multiply(
            self._detail_term[rows, columns],
            _repeat_channels(weight, self._shape[2], scratch[0]),
            out=scratch[1],
            dtype=np.float32,
        )
        np.add(mixed, self._reference[rows, columns], out=mixed, dtype=np.float32)
        mixed += np.float32(0.5)  # the float→int cast truncates; every value is ≥ 0.5, so this rounds to nearest
        np.copyto(out, mixed, casting="unsafe")

    def _float_rows(
        self, weight: np.ndarray, rows: slice, columns: slice, out: np.ndarray, scratch: np.ndarray
    ) -> None:
        # lerp's two-sided form: reference + w·(detail − reference) below w = 0.5, detail − (1 − w)·(…) from 0.5
        # on. Exact at w = 0 and w = 1 and monotone, where the one-sided form misses the detail at w = 1.
        low, high = self._reference[rows, columns], self._detail_term[rows, columns]
        upper = weight >= 0.5
        offset = np.subtract(weight, upper, dtype=np.float32)
        step = np.subtract(high, low, out=scratch[1])
        step *= _repeat_channels(offset, self._shape[2], scratch[0])
        np.add(low, step, out=out)
        cv2.add(high, step, dst=out, mask=upper.view(np.uint8))  # only where w ≥ 0.5


def blend(detail: np.ndarray, reference: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """reference + mask·(detail − reference) for H×W×C layers of one dtype (uint8, uint16, float32) and an H×W mask
    in [0, 1]; the result has the layers' dtype (see the module notes on rounding). To re-blend the same layers under
    many masks, build a ``Blender`` once. Raises ``BlendInputError`` for mismatched or unsupported layers or a bad mask.
    """
    return Blender(detail, reference).blend(mask)


class ImageBlender:
    """``Blender`` for ``ImageData`` layers: the colour is blended; alpha and metadata come from the detail layer
    (both layers are upscales of the same image, so their alpha is the same upscale). Gray (C = 1) works too.

    Raises ``BlendInputError`` when the colours do not match or only one layer has alpha.
    """

    def __init__(self, detail: ImageData, reference: ImageData) -> None:
        if (detail.alpha is None) != (reference.alpha is None):
            which = "detail" if detail.alpha is not None else "reference"
            raise BlendInputError(
                f"only the {which} layer has alpha", "blend two upscales of the same image (with or without alpha)"
            )
        self._colour = Blender(detail.colour, reference.colour)
        self._alpha = None if detail.alpha is None else detail.alpha.copy()
        self._metadata = detail.metadata

    def blend(self, mask: np.ndarray, out: ImageData | None = None) -> ImageData:
        """The blended image under ``mask``; with ``out`` (a previous result) its colour buffer is reused."""
        colour = self._colour.blend(mask, None if out is None else out.colour)
        return ImageData(colour, self._alpha_for(out), self._metadata)

    def reblend_region(self, mask: np.ndarray, box: PixelBox, out: ImageData) -> ImageData:
        """``out`` (a previous result) with its colour updated inside ``box`` only; see ``Blender.reblend_region``."""
        colour = self._colour.reblend_region(mask, box, out.colour)
        return ImageData(colour, self._alpha_for(out), self._metadata)

    def _alpha_for(self, out: ImageData | None) -> np.ndarray | None:
        # Each new result owns its alpha; a reused result already holds a copy of the same alpha.
        if self._alpha is None:
            return None
        if out is not None and out.alpha is not None and out.alpha.shape == self._alpha.shape:
            return out.alpha
        return self._alpha.copy()


def blend_image(detail: ImageData, reference: ImageData, mask: np.ndarray) -> ImageData:
    """One-shot ``ImageBlender(detail, reference).blend(mask)``."""
    return ImageBlender(detail, reference).blend(mask)
