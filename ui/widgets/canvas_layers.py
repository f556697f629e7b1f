"""The images one canvas shows (main, "before", heat overlay, mask decoration), each with its pyramid."""

from __future__ import annotations

import math
from dataclasses import dataclass

from qtpy.QtCore import QRect
from qtpy.QtGui import QImage

from ui.widgets.image_pyramid import ImagePyramid


@dataclass
class Layer:
    """One image and the opacity in [0, 1] it is drawn with."""

    pyramid: ImagePyramid
    opacity: float = 1.0

    @property
    def image(self) -> QImage:
        return self.pyramid.image


def _replace(current: Layer | None, image: QImage | None, opacity: float = 1.0) -> Layer | None:
    """``current`` with a new opacity when ``image`` is the very QImage it shows, else a new layer (and pyramid).

    Callers pass the same QImage again whenever any display setting changes; rebuilding its pyramid each time
    would cost a full downscale of up to 64 megapixels for nothing. Its pixels changing in place is what
    ``invalidate`` is for.
    """
    if math.isnan(opacity):
        raise ValueError("opacity must be a number in [0, 1], got NaN")
    opacity = min(max(opacity, 0.0), 1.0)
    if image is None or image.isNull():
        return None
    if current is not None and current.image is image:
        current.opacity = opacity
        return current
    return Layer(ImagePyramid(image), opacity)


class CanvasLayers:
    """Which images a canvas draws, in order: main (or "before" left of a split), overlay, decoration."""

    def __init__(self) -> None:
        self.main: Layer | None = None
        self.before: Layer | None = None
        self.overlay: Layer | None = None
        self.decoration: Layer | None = None

    def set_main(self, image: QImage | None) -> bool:
        """Replace the main image; True when its size changed (None counts as a size of its own)."""
        old = None if self.main is None else self.main.image.size()
        self.main = _replace(self.main, image)
        return (None if self.main is None else self.main.image.size()) != old

    def set_before(self, image: QImage | None) -> None:
        self.before = _replace(self.before, image)

    def set_overlay(self, image: QImage | None, opacity: float) -> None:
        self.overlay = _replace(self.overlay, image, opacity)

    def set_decoration(self, image: QImage | None, opacity: float) -> None:
        self.decoration = _replace(self.decoration, image, opacity)

    def invalidate(self, rect: QRect | None) -> None:
        """Image pixels ``rect`` (None: all) changed in place in some of the buffers."""
        for layer in (self.main, self.before, self.overlay, self.decoration):
            if layer is not None:
                layer.pyramid.invalidate(rect)

    def after_side(self) -> list[Layer]:
        """The layers right of a split, or everywhere without one; empty without a main image."""
        if self.main is None:
            return []
        return [layer for layer in (self.main, self.overlay, self.decoration) if layer is not None]

    def before_side(self) -> list[Layer]:
        """The layers left of a split: the "before" image under the same overlays."""
        if self.main is None or self.before is None:
            return []
        return [layer for layer in (self.before, self.overlay, self.decoration) if layer is not None]
