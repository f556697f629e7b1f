"""Tiles along one axis for exact tiled feature maps: each tile owns a range and is read with a margin.

With ``tile`` and ``halo`` multiples of the network's total stride, a crop starts at a multiple of every layer's
stride, so crop feature j is whole-image feature j + start/stride; with ``halo`` at least the receptive field, the
owned features never see the crop's own zero padding. Owned ranges partition every layer's feature map.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    owned_start: int
    owned_end: int
    crop_start: int
    crop_end: int
    length: int

    @property
    def crop_slice(self) -> slice:
        return slice(self.crop_start, self.crop_end)

    @property
    def last(self) -> bool:
        return self.owned_end == self.length

    def owned(self, stride: int, crop_features: int) -> slice:
        """The owned features of a layer with ``stride`` in the crop's map of ``crop_features`` positions.

        A crop that reaches the image's far edge ends where the whole image ends, so its map is the whole map's
        tail: the last span owns all of it, and ranges past the map's end (the floor of the layer sizes drops the
        edge pixels) are cut. A crop ending inside the image always holds its owned features, margin permitting.
        """
        end = crop_features if self.last else (self.owned_end - self.crop_start) // stride
        if self.crop_end == self.length:
            end = min(end, crop_features)
        elif end > crop_features:
            raise RuntimeError(f"tiling margin too small: feature {end} of a {crop_features}-wide crop map")
        return slice(min((self.owned_start - self.crop_start) // stride, end), end)


def tile_spans(length: int, tile: int, halo: int) -> list[Span]:
    """Spans covering ``0..length`` with owned ranges of ``tile`` and crops widened by ``halo`` on both sides."""
    if tile <= 0 or halo < 0:
        raise ValueError("tile must be positive and halo non-negative")
    spans: list[Span] = []
    for start in range(0, length, tile):
        end = min(start + tile, length)
        spans.append(Span(start, end, max(0, start - halo), min(length, end + halo), length))
    return spans
