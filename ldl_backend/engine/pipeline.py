"""Upscale an ``ImageData``: colour through the model, alpha beside it, premultiplied so edges stay clean."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ldl_backend.engine.progress import CancelToken, ProgressCallback, ProgressTracker
from ldl_backend.engine.runners import ResizeRunner, TileRunner
from ldl_backend.engine.tiled import TiledUpscaler, TileSettings
from ldl_backend.imageio.image import ImageData, dtype_max
from ldl_client.options import AlphaMode

# Below this alpha, colour cannot be recovered from premultiplied values; such pixels are (almost) invisible.
_MIN_ALPHA = 1.0 / 1024.0


@dataclass(frozen=True)
class OutputSize:
    """The size wanted after the model: ``scale`` (e.g. 2 from a ×4 model) or a ``width`` and/or ``height``."""

    scale: float | None = None
    width: int | None = None
    height: int | None = None

    def __post_init__(self) -> None:
        if self.scale is not None and (self.width is not None or self.height is not None):
            raise ValueError("give either a scale or a target width/height, not both")
        if self.scale is not None and not 0 < self.scale <= 16:
            raise ValueError(f"scale must be between 0 and 16, not {self.scale}")
        for name in ("width", "height"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1 pixel, not {value}")

    def resolve(self, width: int, height: int, model_scale: int) -> tuple[int, int]:
        """(width, height) of the final image for an input of ``width``×``height``."""
        if self.width is not None and self.height is not None:
            return self.width, self.height
        if self.width is not None:
            return self.width, max(1, round(height * self.width / width))
        if self.height is not None:
            return max(1, round(width * self.height / height)), self.height
        factor = self.scale if self.scale is not None else model_scale
        return max(1, round(width * factor)), max(1, round(height * factor))


def upscale_image(
    image: ImageData,
    runner: TileRunner,
    settings: TileSettings,
    *,
    alpha_mode: AlphaMode = AlphaMode.RESIZE,
    output_size: OutputSize | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> ImageData:
    """The upscaled image, same dtype, channels and metadata as ``image``.

    Colour runs through ``runner``; alpha through a bicubic resize or the runner (``alpha_mode``). With alpha,
    colour is premultiplied before the model and divided back after, so colour bleeding from transparent pixels
    cannot make dark fringes. Raises ``CancelledError`` (between tiles) and ``OutOfMemoryError``.
    """
    scale = runner.scale
    tracker = ProgressTracker(tile_steps(image, runner, settings), progress, cancel)
    out_shape = (image.height * scale, image.width * scale)
    alpha_out: np.ndarray | None = None
    if image.alpha is not None:
        alpha_out = np.empty((*out_shape, 1), dtype=image.dtype)
        alpha_runner = runner if alpha_mode is AlphaMode.MODEL else ResizeRunner(scale)
        TiledUpscaler(alpha_runner, settings, tracker).upscale(image.alpha[..., None], alpha_out, stage="alpha")
    colour_out = np.empty((*out_shape, image.colour.shape[2]), dtype=image.dtype)
    finalize = _unpremultiplier(alpha_out) if alpha_out is not None else None
    TiledUpscaler(runner, settings, tracker).upscale(
        image.colour, colour_out, stage="colour", premultiply=image.alpha, finalize=finalize
    )
    result = ImageData(colour_out, None if alpha_out is None else alpha_out[..., 0], image.metadata)
    if output_size is None:
        return result
    return resample(result, *output_size.resolve(image.width, image.height, scale))


def tile_steps(image: ImageData, runner: TileRunner, settings: TileSettings) -> int:
    """How many tiles ``upscale_image`` reports for ``image``: the tiles of one plane, once for the colour and once
    more for the alpha when there is one."""
    probe = TiledUpscaler(runner, settings, ProgressTracker(0))
    return probe.plan(image.height, image.width).count * (2 if image.alpha is not None else 1)


def _unpremultiplier(alpha_out: np.ndarray):
    top = np.float32(dtype_max(alpha_out.dtype))

    def unpremultiply(piece: np.ndarray, y: int, x: int) -> np.ndarray:
        alpha = alpha_out[y : y + piece.shape[0], x : x + piece.shape[1]].astype(np.float32) / top
        return np.where(alpha > _MIN_ALPHA, piece / np.maximum(alpha, _MIN_ALPHA), piece)

    return unpremultiply


def resample(image: ImageData, width: int, height: int) -> ImageData:
    """A high-quality resize to ``width``×``height``: area averaging down, Lanczos up; dtype kept."""
    if (width, height) == (image.width, image.height):
        return image
    shrinking = width * height < image.width * image.height
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LANCZOS4

    def plane(values: np.ndarray) -> np.ndarray:
        resized = cv2.resize(values, (width, height), interpolation=interpolation)
        if resized.ndim == 2:
            resized = resized[..., None] if values.ndim == 3 else resized
        if values.dtype == np.float32 and interpolation == cv2.INTER_LANCZOS4:
            np.clip(resized, 0.0, 1.0, out=resized)  # Lanczos overshoots; integer types saturate already
        return resized

    alpha = plane(image.alpha) if image.alpha is not None else None
    return ImageData(plane(image.colour), alpha, image.metadata)
