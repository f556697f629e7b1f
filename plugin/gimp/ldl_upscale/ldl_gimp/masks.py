"""The backend's float maps → the LDL layer mask and the gray artifact-map layer; the selection merge.

GIMP keeps layer masks and the selection as linear gray (``Y u8``, ``Y u16``, ``Y float``… with the image's
precision) whose value is the coverage: 0 hides, 1 shows. The backend's ``mask`` layer is float32 in [0, 1] with
1 = keep the detail, the same meaning, so it is written as ``Y float`` (linear) and babl stores it in the mask's own
precision: white keeps the detail, and GIMP's composite of the group equals the backend's blend up to that rounding.
The artifact map (1 = likely artifact) is a picture to look at, so it is written as perceptual gray (``Y' float``):
a value v shows as the gray level v, as in the backend's PNG of the map.
"""

from __future__ import annotations

import array
import math

from ldl_client import RawImage

from .pixels import native_samples

MASK_FORMAT = "Y float"
MAP_FORMAT = "Y' float"


def mask_pixels(mask: RawImage) -> tuple[str, bytes]:
    """The backend's ``mask`` layer (1 channel float32, 1 = keep detail) → (babl format, samples) for the layer mask;
    values are clamped to [0, 1] (NaN as 0). Raises ``ValueError`` for another shape."""
    return MASK_FORMAT, clamp_unit(_gray_floats(mask, "mask"))


def map_pixels(artifact_map: RawImage) -> tuple[str, bytes]:
    """The backend's ``map`` layer (1 channel float32, 1 = likely artifact) → (babl format, samples) for an opaque
    gray layer. Raises ``ValueError`` for another shape."""
    return MAP_FORMAT, clamp_unit(_gray_floats(artifact_map, "map"))


def merge_coverage(mask: bytes, selection: bytes) -> bytes:
    """max(mask, selection) per pixel, both ``Y float`` samples (machine order) of the same area.

    Both are coverages in [0, 1]: inside the selection the mask becomes white, a feathered edge only ever adds
    detail (a pixel half selected shows at least half the detail), and where nothing is selected the mask stays as
    it is. The max rather than mask + sel·(1 − mask) keeps painted mask values where the selection is weaker, so
    running the blend twice changes nothing. Raises ``ValueError`` when the lengths differ.
    """
    if len(mask) != len(selection):
        raise ValueError(f"the mask has {len(mask)} bytes and the selection {len(selection)}; they must match")
    current, covered = array.array("f", mask), array.array("f", selection)
    return array.array("f", map(max, current, covered)).tobytes()


def through_selection(current: bytes, wanted: bytes, selection: bytes) -> bytes:
    """What to write into a drawable's shadow buffer so that GIMP's merge leaves ``wanted`` (all ``Y float``
    samples, machine order, of the same area).

    ``Gimp.Drawable.merge_shadow`` applies the shadow through the selection: the result is
    current + selection·(shadow − current), seen in GIMP 3.0.4 for feathered selections. So the shadow gets
    current + (wanted − current) / selection where the selection covers the pixel (clamped to [0, 1]), and the
    current value elsewhere, where the merge keeps it anyway. Raises ``ValueError`` when the lengths differ.
    """
    if not len(current) == len(wanted) == len(selection):
        raise ValueError("the mask, the wanted values and the selection must cover the same area")
    shadow = array.array("f")
    for now, goal, covered in zip(
        array.array("f", current), array.array("f", wanted), array.array("f", selection), strict=True
    ):
        value = now + (goal - now) / covered if covered > 0.0 else now
        shadow.append(min(1.0, max(0.0, value)))
    return shadow.tobytes()


def clamp_unit(samples: array.array) -> bytes:
    """Float samples clamped to [0, 1] (NaN as 0), as bytes in the machine's order."""
    if not samples or (min(samples) >= 0.0 and max(samples) <= 1.0 and not math.isnan(sum(samples))):
        return samples.tobytes()
    return array.array("f", [0.0 if math.isnan(v) else min(1.0, max(0.0, v)) for v in samples]).tobytes()


def _gray_floats(image: RawImage, what: str) -> array.array:
    if image.channels != 1 or image.dtype != "float32":
        raise ValueError(f"the {what} layer must be 1 channel of float32, not {image.channels} of {image.dtype}")
    samples = array.array("f", native_samples(image))
    return samples
