"""Where the artifact map's *reference* comes from: a faithful estimate of the image the generator upscaled.

Three sources, each a user choice with a cost (measured by ``benchmarks/artifact_map.py``):

- ``tta``: the mean of the generator over k dihedral transforms of the input (k = 2, 4 or 8). k model passes, so
  k times the upscale; GAN texture that is not equivariant averages away, structure that is stays.
- ``model:NAME``: a fidelity-oriented generator from the catalog (e.g. ``realesrnet-x4plus``): one more pass of a
  network the size of the detail model's.
- ``lanczos``: a classical resample of the input: nearly free, but blurry, so blending towards it costs sharpness.

``TtaRunner`` wraps any ``TileRunner``, so the engine tiles the TTA reference exactly as it tiles the upscale.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from ldl_backend.engine.progress import CancelToken
from ldl_backend.engine.runners import TileRunner
from ldl_client.options import TTA_COUNTS as REFERENCE_TTA_COUNTS

# The identity alone (1) is the detail itself; the references average 2, 4 or 8 transforms.
TTA_COUNTS = (1, *REFERENCE_TTA_COUNTS)


def dihedral(batch: np.ndarray, index: int) -> np.ndarray:
    """Transform ``index`` (0–7) of the dihedral group applied to the last two axes of ``batch``.

    Ordered so that the first 2 and the first 4 are subgroups: identity, horizontal flip, vertical flip,
    rotation by 180°, then transpose and its three compositions with the flips."""
    result = batch
    if index >= 4:
        result = np.swapaxes(result, -1, -2)
    if index % 4 in (1, 3):
        result = result[..., ::-1]
    if index % 4 in (2, 3):
        result = result[..., ::-1, :]
    return result


def inverse_dihedral(batch: np.ndarray, index: int) -> np.ndarray:
    """Undo :func:`dihedral` ``index``: the flips first, then the transpose."""
    result = batch
    if index % 4 in (2, 3):
        result = result[..., ::-1, :]
    if index % 4 in (1, 3):
        result = result[..., ::-1]
    if index >= 4:
        result = np.swapaxes(result, -1, -2)
    return result


class TtaRunner:
    """A ``TileRunner`` whose output is the mean of ``inner`` over the first ``count`` dihedral transforms.

    Costs ``count`` passes of ``inner`` per tile. Tiles must be square-agnostic: transposed tiles are h×w swapped,
    which every convolutional runner accepts (the tiler pads both sides to the size multiple).
    ``skip_identity``: average only the other ``count − 1`` transforms, for a caller that already has the plain
    upscale (the detail layer) and mixes it in itself — one network pass fewer. ``cancel`` is polled between
    transforms, so a cancelled job stops within one network pass even when the image is a single tile.
    ``on_pass(index)`` is called after each pass of ``inner`` with the transform's index (0–7), so progress can
    move pass by pass rather than 7 passes at a time.
    """

    def __init__(
        self,
        inner: TileRunner,
        count: int,
        *,
        skip_identity: bool = False,
        cancel: CancelToken | None = None,
        on_pass: Callable[[int], None] | None = None,
    ) -> None:
        if count not in TTA_COUNTS or (skip_identity and count < 2):
            raise ValueError(f"TTA averages 1, 2, 4 or 8 transforms (2 or more without the identity), not {count}")
        self.scale = inner.scale
        self.description = f"{inner.description}, mean of {count} flips/rotations"
        self._inner = inner
        self._count = count
        self._first = 1 if skip_identity else 0
        self._cancel = cancel
        self._on_pass = on_pass

    def run(self, batch: np.ndarray) -> np.ndarray:
        total: np.ndarray | None = None
        for index in range(self._first, self._count):
            if self._cancel is not None:
                self._cancel.raise_if_cancelled()
            # A copy, not ascontiguousarray: a flipped axis of length 1 counts as contiguous yet keeps its negative
            # stride, which torch.from_numpy refuses (1-pixel-wide or -high images).
            transformed = dihedral(batch, index).copy()
            restored = inverse_dihedral(self._inner.run(transformed), index)
            total = restored.astype(np.float32, copy=True) if total is None else total + restored
            if self._on_pass is not None:
                self._on_pass(index)
        assert total is not None  # at least one transform
        return total / np.float32(self._count - self._first)

    def release_memory(self) -> None:
        self._inner.release_memory()


def lanczos_reference(low_res: np.ndarray, scale: int) -> np.ndarray:
    """Lanczos (8×8 taps) ×``scale`` of an H×W×C float image, clipped to [0, 1]: the cheapest reference."""
    if low_res.ndim != 3 or not np.issubdtype(low_res.dtype, np.floating):
        raise ValueError(f"expected an H×W×C float image, got {low_res.dtype} of shape {low_res.shape}")
    height, width = low_res.shape[:2]
    size = (width * scale, height * scale)
    resized = cv2.resize(low_res.astype(np.float32, copy=False), size, interpolation=cv2.INTER_LANCZOS4)
    if resized.ndim == 2:
        resized = resized[..., None]
    return np.clip(resized, 0.0, 1.0)
