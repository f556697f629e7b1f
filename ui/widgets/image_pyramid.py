"""Halved copies of one image, so a zoomed-out canvas never scales a 16-megapixel image at every repaint."""

from __future__ import annotations

from qtpy.QtCore import QRect, QRectF, Qt
from qtpy.QtGui import QImage, QPainter

# Below this zoom, drawing straight from the full image would both alias (bilinear sampling skips pixels)
# and cost a scan over far more source pixels than the screen shows.
PYRAMID_BELOW_ZOOM = 0.5

# A dirty area larger than this share of a level is cheaper to rebuild whole than to patch piece by piece.
_REBUILD_SHARE = 0.25


def _halve(image: QImage) -> QImage:
    return image.scaled(
        max(1, (image.width() + 1) // 2),
        max(1, (image.height() + 1) // 2),
        Qt.AspectRatioMode.IgnoreAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    )


def _area(rect: QRect) -> int:
    return 0 if rect.isEmpty() else rect.width() * rect.height()


class ImagePyramid:
    """Levels 1, 2, … of ``image`` at scale 1/2, 1/4, …, built lazily and patched where the image changed.

    ``image`` may wrap a buffer its owner changes in place; the owner then calls :meth:`invalidate` with the
    changed rect, and the next :meth:`level_for` re-scales only that part of each level it needs.
    """

    def __init__(self, image: QImage) -> None:
        self._image = image
        self._levels: list[QImage] = []  # _levels[k] has scale 2 ** -(k + 1)
        self._dirty: list[QRect] = []  # per level, in full-image pixels

    @property
    def image(self) -> QImage:
        return self._image

    def invalidate(self, rect: QRect | None = None) -> None:
        """Mark image pixels ``rect`` (None: all of them) as changed since the levels were built."""
        if rect is None:
            self._levels.clear()
            self._dirty.clear()
            return
        rect = rect.intersected(self._image.rect())
        if rect.isEmpty():
            return
        self._dirty = [dirty.united(rect) if not dirty.isEmpty() else QRect(rect) for dirty in self._dirty]

    def level_for(self, zoom: float) -> tuple[QImage, float, float]:
        """The image to draw at ``zoom`` and its x and y scale relative to the full image.

        Below zoom 0.5, the first level at most twice the displayed size, so the final draw scales by a factor
        in (0.5, 1] where bilinear filtering still sees every source pixel. At zoom 0.5 and above, the image.
        """
        image = self._image
        scale = 1.0
        depth = 0
        while zoom < PYRAMID_BELOW_ZOOM and scale > 2 * zoom and min(image.width(), image.height()) > 1:
            image = self._level(depth)
            scale /= 2
            depth += 1
        return image, image.width() / self._image.width(), image.height() / self._image.height()

    def _level(self, k: int) -> QImage:
        if k == len(self._levels):
            parent = self._image if k == 0 else self._level(k - 1)
            self._levels.append(_halve(parent))
            self._dirty.append(QRect())
            return self._levels[k]
        dirty = self._dirty[k]
        if dirty.isEmpty():
            return self._levels[k]
        parent = self._image if k == 0 else self._level(k - 1)
        self._dirty[k] = QRect()
        level = self._levels[k]
        patch = self._parent_rect(dirty, k, parent)
        # A patch halves exactly like the whole only when every 2×2 block is whole, i.e. the parent is even.
        if parent.width() % 2 or parent.height() % 2 or _area(patch) > _REBUILD_SHARE * _area(parent.rect()):
            self._levels[k] = _halve(parent)
            return self._levels[k]
        half = parent.copy(patch).scaled(
            patch.width() // 2,
            patch.height() // 2,
            Qt.AspectRatioMode.IgnoreAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        painter = QPainter(level)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
        painter.drawImage(patch.x() // 2, patch.y() // 2, half)
        painter.end()
        return level

    def _parent_rect(self, dirty: QRect, k: int, parent: QImage) -> QRect:
        """``dirty`` (full-image pixels) in the parent of level k, widened to whole 2×2 blocks."""
        sx = parent.width() / self._image.width()
        sy = parent.height() / self._image.height()
        r = QRectF(dirty.x() * sx, dirty.y() * sy, dirty.width() * sx, dirty.height() * sy).toAlignedRect()
        left, top = r.left() // 2 * 2, r.top() // 2 * 2
        right, bottom = (r.right() + 2) // 2 * 2, (r.bottom() + 2) // 2 * 2  # exclusive, even
        return QRect(left, top, right - left, bottom - top).intersected(parent.rect())
