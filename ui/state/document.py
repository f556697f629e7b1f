"""One open image: its source, the finished job's layers, the mask being edited, the blend and what the screen shows.

Every edit updates the mask, the blend and the display buffers of the box it changed, and says so with
``display_changed``. A threshold change touches the whole image: the part the user sees is redone at once and the
rest in bands on the event loop (``flush`` finishes it, e.g. before an export), so the slider never stutters.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from qtpy.QtCore import QObject, QRect, QTimer
from qtpy.QtGui import QImage

from ldl_backend.artifacts.blend import Blender
from ldl_backend.artifacts.pixel_box import PixelBox
from ldl_backend.imageio import ImageData
from ldl_client import RawImage, UnsupportedImageError, sniff_content_type
from ui.qt import Signal
from ui.state import display
from ui.state.display import MaskStyle
from ui.state.layers import ResultLayers
from ui.state.mask_editor import Brush, MaskEditor, Ramp
from ui.state.raw_arrays import array_to_raw

# Rows of the image redone per event-loop turn after a threshold change (about 10 ms each at 2048 wide).
_PENDING_ROWS = 128


class View(enum.Enum):
    ORIGINAL = "original"  # the input, resized to the output size for comparison
    REFERENCE = "reference"  # the faithful upscale
    DETAIL = "detail"  # the generator's output
    RESULT = "result"  # the blend under the mask


class Resample(enum.Enum):
    NEAREST = "nearest"
    BICUBIC = "bicubic"


@dataclass(frozen=True)
class SourceImage:
    """The file the user opened: its bytes (sent to the backend as they are) and its decoded pixels."""

    path: Path
    data: bytes
    image: ImageData

    def payload(self) -> bytes | RawImage:
        """What to send: the file itself when the backend reads its format, else its decoded pixels (e.g. BMP)."""
        try:
            sniff_content_type(self.data)
        except UnsupportedImageError:
            image = self.image
            pixels = image.colour if image.alpha is None else np.dstack([image.colour, image.alpha])
            if pixels.shape[2] == 2:  # gray + alpha travels as RGBA
                pixels = np.dstack([pixels[:, :, :1]] * 3 + [pixels[:, :, 1:]])
            return array_to_raw(pixels)
        return self.data


def box_rect(box: PixelBox) -> QRect:
    return QRect(box.left, box.top, box.width, box.height)


def rect_box(rect: QRect) -> PixelBox:
    return PixelBox(rect.left(), rect.top(), rect.left() + rect.width(), rect.top() + rect.height())


class Document(QObject):
    """The state of one open image; widgets observe it through its signals."""

    display_changed = Signal(QRect)  # display buffers changed inside this rect (output pixels)
    result_changed = Signal()  # a new result (or none): sizes and images changed
    modified_changed = Signal(bool)
    history_changed = Signal()

    def __init__(self, source: SourceImage, resample: Resample = Resample.BICUBIC) -> None:
        super().__init__()
        self.source = source
        self._resample = resample
        self._layers: ResultLayers | None = None
        self._editor: MaskEditor | None = None
        self._blender: Blender | None = None
        self._blend: np.ndarray | None = None
        self._mask_style = MaskStyle.TINT
        self._modified = False
        self._pending: list[PixelBox] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._work_pending)
        self._buffers: dict[str, np.ndarray] = {}
        self._images: dict[str, QImage] = {}
        self._set_buffer("original", self._original_pixels(source.image.height, source.image.width))

    # What there is ---------------------------------------------------------------------------------------------

    @property
    def layers(self) -> ResultLayers | None:
        return self._layers

    @property
    def has_result(self) -> bool:
        return self._layers is not None

    @property
    def editor(self) -> MaskEditor | None:
        return self._editor

    @property
    def modified(self) -> bool:
        """True when there is a result or mask edit that has not been exported."""
        return self._modified

    @property
    def mask_style(self) -> MaskStyle:
        return self._mask_style

    def image(self, view: View) -> QImage:
        """The picture of ``view`` (the original before a job has finished). Valid until ``result_changed``."""
        name = view.value if self._layers is not None else View.ORIGINAL.value
        return self._images[name]

    def overlay_image(self) -> QImage | None:
        """The artifact map in heat colours, or None before a result."""
        return self._images.get("heat")

    def decoration_image(self) -> QImage | None:
        """The mask as a tint or outline, or None before a result."""
        return self._images.get("decoration")

    # The result --------------------------------------------------------------------------------------------------

    def set_result(self, layers: ResultLayers, ramp: Ramp) -> None:
        """Show a finished job with the mask at ``ramp``; strokes painted on a previous result of the same size are
        kept (a re-run with another model or reference must not lose the user's painting)."""
        self.flush()
        previous = self._editor
        self._layers = layers
        self._editor = MaskEditor(layers.artifact_map, ramp)
        if previous is not None:
            self._editor.adopt_strokes(previous)
        self._blender = Blender(layers.detail, layers.reference)
        self._blend = self._blender.blend(self._editor.mask)
        height, width = layers.height, layers.width
        full = PixelBox.full(height, width)
        self._set_buffer("original", self._original_pixels(height, width))
        for name, colour in (("detail", layers.detail), ("reference", layers.reference), ("result", self._blend)):
            buffer = display.new_rgba(height, width)
            display.write_colour(colour, layers.alpha, buffer, full)
            self._set_buffer(name, buffer)
        heat = display.new_rgba(height, width)
        display.write_heat(layers.artifact_map, heat, full, display.heat_table())
        self._set_buffer("heat", heat)
        decoration = display.new_rgba(height, width)
        display.write_decoration(self._editor.mask, decoration, full, self._mask_style)
        self._set_buffer("decoration", decoration)
        self._set_modified(True)
        self.result_changed.emit()
        self.history_changed.emit()

    @property
    def resample(self) -> Resample:
        return self._resample

    def set_resample(self, resample: Resample) -> None:
        """How the original is enlarged for comparison (nearest shows its pixels, bicubic a plain upscale)."""
        if resample is self._resample:
            return
        self._resample = resample
        height, width = (
            (self._layers.height, self._layers.width) if self._layers else self.source.image.colour.shape[:2]
        )
        self._set_buffer("original", self._original_pixels(height, width))
        self.result_changed.emit()

    def set_mask_style(self, style: MaskStyle) -> None:
        self._mask_style = style
        if self._editor is not None:
            self.flush()
            full = self._editor.full
            display.write_decoration(self._editor.mask, self._buffers["decoration"], full, style)
            self.display_changed.emit(box_rect(full))

    def result_image(self) -> ImageData:
        """The blend as an image with the source's metadata (ICC profile, EXIF, resolution), for export."""
        layers, blend = self._require_result()
        self.flush()
        return ImageData(blend, layers.alpha, self.source.image.metadata)

    def mask(self) -> np.ndarray:
        """The current mask (H×W float32 in [0, 1], 1 = keep detail), complete."""
        self._require_result()
        self.flush()
        assert self._editor is not None
        return self._editor.mask

    def mark_saved(self) -> None:
        self._set_modified(False)

    # Editing -----------------------------------------------------------------------------------------------------

    def set_ramp(self, ramp: Ramp, visible: PixelBox | None = None) -> None:
        """Use a new threshold and softness: ``visible`` (output pixels) is redone now, the rest on the event loop."""
        editor = self._editor
        if editor is None:
            return
        editor.set_ramp(ramp)
        full = editor.full
        first = full if visible is None else visible.clipped(full.height, full.width)
        self._pending = [] if first == full else _remainder(full, first)
        self._update(first)
        if self._pending:
            self._timer.start()
        self._set_modified(True)

    def begin_stroke(self, x: float, y: float, brush: Brush) -> None:
        if self._editor is not None:
            self._update(self._editor.begin_stroke(x, y, brush), refresh_mask=False)

    def extend_stroke(self, x: float, y: float) -> None:
        if self._editor is not None and self._editor.stroking:
            self._update(self._editor.extend_stroke(x, y), refresh_mask=False)

    def end_stroke(self) -> None:
        if self._editor is not None and self._editor.stroking:
            self._editor.end_stroke()
            self._set_modified(True)
            self.history_changed.emit()

    def invert(self) -> None:
        self._whole_mask_edit("invert")

    def clear(self) -> None:
        self._whole_mask_edit("clear")

    def undo(self) -> None:
        self._whole_mask_edit("undo")

    def redo(self) -> None:
        self._whole_mask_edit("redo")

    def _whole_mask_edit(self, action: str) -> None:
        if self._editor is None:
            return
        # The pending bands are redone by the edit itself where it reaches; finish them first for the rest.
        self.flush()
        changed = getattr(self._editor, action)()
        self._update(changed, refresh_mask=False)
        self._set_modified(True)
        self.history_changed.emit()

    def flush(self) -> None:
        """Finish the bands a threshold change left for later."""
        self._timer.stop()
        while self._pending:
            self._update(self._pending.pop(0))

    # Internals ---------------------------------------------------------------------------------------------------

    def _update(self, box: PixelBox, *, refresh_mask: bool = True) -> None:
        if box.is_empty or self._editor is None or self._blender is None or self._blend is None:
            return
        layers = self._layers
        assert layers is not None
        if refresh_mask:
            self._editor.refresh(box)
        self._blender.reblend_region(self._editor.mask, box, self._blend)
        display.write_colour(self._blend, layers.alpha, self._buffers["result"], box)
        shown = display.write_decoration(self._editor.mask, self._buffers["decoration"], box, self._mask_style)
        self.display_changed.emit(box_rect(shown))

    def _work_pending(self) -> None:
        if self._pending:
            self._update(self._pending.pop(0))
        if self._pending:
            self._timer.start()

    def _require_result(self) -> tuple[ResultLayers, np.ndarray]:
        if self._layers is None or self._blend is None:
            raise RuntimeError("there is no result yet: run the upscale first")
        return self._layers, self._blend

    def _set_modified(self, modified: bool) -> None:
        if modified != self._modified:
            self._modified = modified
            self.modified_changed.emit(modified)

    def _set_buffer(self, name: str, buffer: np.ndarray) -> None:
        self._buffers[name] = buffer
        self._images[name] = display.qimage_of(buffer)

    def _original_pixels(self, height: int, width: int) -> np.ndarray:
        image = self.source.image
        small = display.new_rgba(image.height, image.width)
        display.write_colour(image.colour, image.alpha, small, PixelBox.full(image.height, image.width))
        if (height, width) == small.shape[:2]:
            return small
        interpolation = cv2.INTER_NEAREST if self._resample is Resample.NEAREST else cv2.INTER_CUBIC
        return np.ascontiguousarray(cv2.resize(small, (width, height), interpolation=interpolation))


def _remainder(full: PixelBox, done: PixelBox) -> list[PixelBox]:
    """``full`` minus ``done`` as bands of at most _PENDING_ROWS rows: above, left, right, below."""
    if done.is_empty:
        pieces = [full]
    else:
        pieces = [
            PixelBox(full.left, full.top, full.right, done.top),
            PixelBox(full.left, done.top, done.left, done.bottom),
            PixelBox(done.right, done.top, full.right, done.bottom),
            PixelBox(full.left, done.bottom, full.right, full.bottom),
        ]
    bands: list[PixelBox] = []
    for piece in pieces:
        for top in range(piece.top, piece.bottom, _PENDING_ROWS):
            band = PixelBox(piece.left, top, piece.right, min(top + _PENDING_ROWS, piece.bottom))
            if not band.is_empty:
                bands.append(band)
    return bands
