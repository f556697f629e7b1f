"""Where an upscale reads and where its LDL group goes: pure geometry, decided before any pixel moves.

Without a selection the whole drawable is upscaled and the image is scaled by the factor (GIMP's own scaling,
``Gimp.Image.scale``, for the image and every other layer); the group lands where the drawable's scaled copy is.
With a selection only its bounding box (within the drawable) is upscaled, either into a new image of the result's
size, or into a group in this image whose top left corner is the selection's (the image keeps its size, so the group
reaches past the selection by the factor: move or scale it as needed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .errors import UnsupportedImage

Target = Literal["image", "new-image", "layer-group"]


@dataclass(frozen=True)
class Region:
    """The pixels to upscale: ``width``×``height`` at (``x``, ``y``) in the drawable, whose top left corner is at
    ``offset`` in the image; ``target`` says where the result goes."""

    x: int
    y: int
    width: int
    height: int
    offset: tuple[int, int]
    target: Target

    @classmethod
    def choose(
        cls,
        drawable_size: tuple[int, int],
        offset: tuple[int, int],
        selection: tuple[int, int, int, int] | None,
        selection_target: str,
    ) -> Region:
        """The region for a drawable of ``drawable_size`` at ``offset``; ``selection``: the selection's bounding box
        within the drawable, in drawable coordinates (``Gimp.Drawable.mask_intersect``), None without a selection.
        Raises ``UnsupportedImage`` when the selection misses the drawable."""
        width, height = drawable_size
        if selection is None:
            return cls(0, 0, width, height, offset, "image")
        x, y, w, h = selection
        left, top = max(0, x), max(0, y)
        right, bottom = min(width, x + w), min(height, y + h)
        if right <= left or bottom <= top:
            raise UnsupportedImage(
                "the selection does not touch the layer to upscale",
                "select part of the layer, or remove the selection (Select › None) to upscale the whole image",
            )
        target: Target = "new-image" if selection_target == "new-image" else "layer-group"
        return cls(left, top, right - left, bottom - top, offset, target)

    def place(self, image_size: tuple[int, int], scale: int) -> Placement:
        """Where the result of a ×``scale`` upscale goes in an image of ``image_size``."""
        if scale < 1:
            raise ValueError(f"scale {scale} must be 1 or more")
        size = (self.width * scale, self.height * scale)
        if self.target == "image":
            scaled = (image_size[0] * scale, image_size[1] * scale)
            origin = ((self.offset[0] + self.x) * scale, (self.offset[1] + self.y) * scale)
            return Placement(scale_image_to=scaled, new_image_size=None, offset=origin, size=size)
        if self.target == "new-image":
            return Placement(scale_image_to=None, new_image_size=size, offset=(0, 0), size=size)
        origin = (self.offset[0] + self.x, self.offset[1] + self.y)
        return Placement(scale_image_to=None, new_image_size=None, offset=origin, size=size)


@dataclass(frozen=True)
class Placement:
    """``scale_image_to``: the image's new size (None: it keeps its size); ``new_image_size``: the size of a new
    image that gets the group (None: the group goes into this image); the group's layers' ``offset`` and ``size``."""

    scale_image_to: tuple[int, int] | None
    new_image_size: tuple[int, int] | None
    offset: tuple[int, int]
    size: tuple[int, int]
