"""How much host memory one ``upscale_with_layers`` job takes at its peak, from the image's header alone.

The server checks this against its budget before a pixel is decoded. The figures follow what the pipeline holds
(selective.py): the decoded input for the whole job; the detail and reference layers at the model's scale; at the
peak, on top of them, the largest of the stages' temporaries (TTA's float mean, the map's row band, the resize to
the final size, the blend's layers); and the working set of the networks (weights and one tile's activations).
Measured against ``tracemalloc`` peaks of real jobs (8/16-bit, float, alpha, TTA and Lanczos references), the
estimate stays above them by 4–25 % for outputs from 0.2 to 8 megapixels.
"""

from __future__ import annotations

from dataclasses import dataclass

from ldl_backend.artifacts.estimate import DEFAULT_BAND_ROWS

# The artifact map's row band: its float32 cues take about this many bytes per pixel of the band, whose rows and
# columns carry this much context on each side (features.HALO plus the smoothing's reach; measured peaks).
_MAP_BAND_BYTES_PER_PIXEL = 470
_MAP_BAND_CONTEXT = 48


@dataclass(frozen=True)
class ImageShape:
    """The decoded input as the header describes it. ``channels``: colour channels (1 gray or 3), alpha not
    counted; ``sample_bytes``: 1 (8-bit), 2 (16-bit) or 4 (float)."""

    width: int
    height: int
    channels: int
    has_alpha: bool
    sample_bytes: int

    def __post_init__(self) -> None:
        if self.width < 1 or self.height < 1:
            raise ValueError(f"an image has at least 1×1 pixels, not {self.width}×{self.height}")
        if self.channels not in (1, 3) or self.sample_bytes not in (1, 2, 4):
            raise ValueError(f"unsupported layout: {self.channels} channels of {self.sample_bytes} bytes")

    @property
    def pixels(self) -> int:
        return self.width * self.height

    @property
    def planes(self) -> int:
        """Colour channels plus alpha."""
        return self.channels + int(self.has_alpha)

    @property
    def bytes(self) -> int:
        return self.pixels * self.planes * self.sample_bytes


@dataclass(frozen=True)
class JobMemory:
    """Bytes, each part at the job's peak: ``input`` (decoded), ``layers`` (output-sized arrays), ``working`` (the
    networks' weights and one tile's activations)."""

    input: int
    layers: int
    working: int

    @property
    def total(self) -> int:
        return self.input + self.layers + self.working


def estimate_job_memory(
    image: ImageShape, model_scale: int, final_size: tuple[int, int], *, tta: bool, working: int
) -> JobMemory:
    """The peak of a layered upscale of ``image`` at ``model_scale``, resized to ``final_size`` (width, height) when
    that differs; ``tta``: the reference is a TTA mean (float temporaries of the output's size); ``working``: what
    the networks take (weights and one tile's activations)."""
    width, height = image.width * model_scale, image.height * model_scale
    model_pixels = width * height
    final_pixels = final_size[0] * final_size[1]
    sample, colour = image.sample_bytes, image.channels
    # Detail (with its alpha) and reference, at the model's scale: alive from their stage to the end.
    held = (colour + image.planes) * sample * model_pixels
    # The blend's difference term is int16 for 8-bit layers, float32 otherwise.
    difference = 2 if sample == 1 else 4
    stages = (
        # TTA: the detail and the passes' mean in float32, and their weighted sum.
        3 * colour * 4 * model_pixels if tta else 0,
        # The map: its logits and the band of cues.
        4 * model_pixels
        + _MAP_BAND_BYTES_PER_PIXEL
        * (min(height, DEFAULT_BAND_ROWS) + 2 * _MAP_BAND_CONTEXT)
        * (width + 2 * _MAP_BAND_CONTEXT),
        # The resize to the final size: detail, reference and map there, the map at the model's scale beside them.
        (colour + image.planes) * sample * final_pixels + 4 * (final_pixels + model_pixels)
        if final_pixels != model_pixels
        else 0,
        # The blend: map and mask, the blender's reference copy and difference, and the blended layer.
        8 * final_pixels + colour * (2 * sample + difference) * final_pixels,
    )
    return JobMemory(image.bytes, held + max(stages), working)
