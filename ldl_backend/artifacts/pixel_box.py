"""Half-open pixel rectangles: the area an edit touches and a partial re-blend redoes."""

from __future__ import annotations

from dataclasses import dataclass

from ldl_backend.errors import BlendInputError


@dataclass(frozen=True)
class PixelBox:
    """Half-open pixel rectangle: rows [top, bottom), columns [left, right). Empty when either side is zero."""

    left: int
    top: int
    right: int
    bottom: int

    def __post_init__(self) -> None:
        if self.right < self.left or self.bottom < self.top:
            raise BlendInputError(
                f"the box ({self.left}, {self.top}) – ({self.right}, {self.bottom}) has a negative size",
                "give left ≤ right and top ≤ bottom",
            )

    @classmethod
    def full(cls, height: int, width: int) -> PixelBox:
        return cls(0, 0, width, height)

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def is_empty(self) -> bool:
        return self.width == 0 or self.height == 0

    def clipped(self, height: int, width: int) -> PixelBox:
        """This box limited to an image of ``height`` × ``width`` (possibly empty)."""
        return self.intersection(PixelBox.full(height, width))

    def union(self, other: PixelBox) -> PixelBox:
        """The smallest box holding both (an empty box adds nothing)."""
        if self.is_empty:
            return other
        if other.is_empty:
            return self
        return PixelBox(
            min(self.left, other.left),
            min(self.top, other.top),
            max(self.right, other.right),
            max(self.bottom, other.bottom),
        )

    def intersection(self, other: PixelBox) -> PixelBox:
        """The pixels in both boxes (an empty box when they do not overlap)."""
        left, top = max(self.left, other.left), max(self.top, other.top)
        return PixelBox(left, top, max(left, min(self.right, other.right)), max(top, min(self.bottom, other.bottom)))

    def slices(self) -> tuple[slice, slice]:
        """(rows, columns) to index an H×W or H×W×C array with."""
        return slice(self.top, self.bottom), slice(self.left, self.right)
