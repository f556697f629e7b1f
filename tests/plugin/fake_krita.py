"""A small stub of Krita's Python API (libkis), enough for the plugin's document code, recording every change.

It reproduces the behaviour the plugin depends on, as seen in Krita 5.1.5 (see ``ldl_krita/host_api.py``):
integer RGBA pixels as B, G, R, A; ``scaleImage`` truncating the resolution to a multiple of 72 ppi; masks from
``createNode(..., "transparencymask")`` without pixels before 5.2; Krita's "add transparency mask" action working on
the active view's active layer and turning the global selection into the mask.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

BYTES_PER_PIXEL = {
    ("RGBA", "U8"): 4,
    ("RGBA", "U16"): 8,
    ("RGBA", "F16"): 8,
    ("RGBA", "F32"): 16,
    ("GRAYA", "U8"): 2,
    ("GRAYA", "U16"): 4,
    ("GRAYA", "F16"): 4,
    ("GRAYA", "F32"): 8,
    ("CMYKA", "U8"): 5,
    ("LABA", "U16"): 8,
}
_ids = itertools.count(1)


class Surface:
    """Unbounded pixels: a dense buffer grown to cover whatever was written, ``default`` elsewhere."""

    def __init__(self, pixel_bytes: int, default: bytes | None = None) -> None:
        self.pixel_bytes = pixel_bytes
        self.default = default if default is not None else bytes(pixel_bytes)
        self.x = self.y = self.width = self.height = 0
        self.rows: list[bytearray] = []

    def write(self, data: bytes, x: int, y: int, w: int, h: int) -> None:
        assert len(data) >= w * h * self.pixel_bytes, "setPixelData needs w*h pixels"
        self._grow(x, y, w, h)
        line = w * self.pixel_bytes
        for row in range(h):
            target = self.rows[y + row - self.y]
            start = (x - self.x) * self.pixel_bytes
            target[start : start + line] = data[row * line : (row + 1) * line]

    def read(self, x: int, y: int, w: int, h: int) -> bytes:
        out = bytearray(self.default * (w * h))
        for row in range(h):
            source_row = y + row - self.y
            if not 0 <= source_row < self.height:
                continue
            for column in range(w):
                source_column = x + column - self.x
                if 0 <= source_column < self.width:
                    start = source_column * self.pixel_bytes
                    offset = (row * w + column) * self.pixel_bytes
                    out[offset : offset + self.pixel_bytes] = self.rows[source_row][start : start + self.pixel_bytes]
        return bytes(out)

    def _grow(self, x: int, y: int, w: int, h: int) -> None:
        if self.width == 0:
            self.x, self.y, self.width, self.height = x, y, w, h
            self.rows = [bytearray(self.default * w) for _ in range(h)]
            return
        left, top = min(self.x, x), min(self.y, y)
        right, bottom = max(self.x + self.width, x + w), max(self.y + self.height, y + h)
        if (left, top, right, bottom) == (self.x, self.y, self.x + self.width, self.y + self.height):
            return
        old = Surface(self.pixel_bytes, self.default)
        old.x, old.y, old.width, old.height, old.rows = self.x, self.y, self.width, self.height, self.rows
        self.x, self.y, self.width, self.height = left, top, right - left, bottom - top
        self.rows = [bytearray(old.read(left, top + row, self.width, 1)) for row in range(self.height)]


class FakeNode:
    def __init__(self, document: FakeDocument, name: str, node_type: str) -> None:
        self.document = document
        self._name = name
        self._type = node_type
        self._visible = True
        self._children: list[FakeNode] = []
        self._parent: FakeNode | None = None
        self._id = f"node-{next(_ids)}"
        self.surface: Surface | None = None
        if node_type == "paintlayer":
            self.surface = Surface(document.pixel_bytes)
        elif node_type == "transparencymask" and document.host.masks_have_pixels:
            self.surface = Surface(1, b"\xff")

    def __repr__(self) -> str:
        return f"<{self._type} {self._name!r}>"

    # -- what the plugin calls --
    def name(self) -> str:
        return self._name

    def setName(self, name: str) -> None:
        self._record("setName", name)
        self._name = name

    def type(self) -> str:
        return self._type

    def colorModel(self) -> str:
        return self.document.model

    def colorDepth(self) -> str:
        return self.document.depth

    def childNodes(self) -> list[FakeNode]:
        return list(self._children)

    def parentNode(self) -> FakeNode | None:
        return self._parent

    def addChildNode(self, child: Any, above: Any) -> bool:
        assert child._parent is None, "Krita adds a node to one parent only"
        index = len(self._children) if above is None else self._children.index(above) + 1
        self._children.insert(index, child)
        child._parent = self
        self._record("addChildNode", child.name())
        return True

    def setChildNodes(self, nodes: list[Any]) -> None:
        """Replaces the children (Krita: through the image, without an undo step)."""
        for child in self._children:
            child._parent = None
        self._children = []
        for node in nodes:
            assert node._parent is None, "Krita adds a node to one parent only"
            node._parent = self
            self._children.append(node)
        self._record("setChildNodes", [node.name() for node in nodes])

    def remove(self) -> bool:
        if self._parent is None:
            return False
        self._record("remove", self._name)
        self._parent._children.remove(self)
        self._parent = None
        return True

    def pixelData(self, x: int, y: int, w: int, h: int) -> bytes:
        return b"" if self.surface is None else self.surface.read(x, y, w, h)

    def setPixelData(self, data: bytes, x: int, y: int, w: int, h: int) -> None:
        if self.surface is not None:
            self._record("setPixelData", self._name)
            self.surface.write(bytes(data), x, y, w, h)

    def setVisible(self, visible: bool) -> None:
        self._record("setVisible", visible)
        self._visible = visible

    def visible(self) -> bool:
        return self._visible

    def uniqueId(self) -> str:
        return self._id

    # -- for the tests --
    def attached(self) -> bool:
        node: FakeNode | None = self
        while node is not None:
            if node is self.document.root:
                return True
            node = node._parent
        return False

    def _record(self, *change: Any) -> None:
        if self.attached():
            self.document.changes.append(change)


class FakeSelection:
    """A global selection: 8-bit coverage over the bounding box at (x, y)."""

    def __init__(self, x: int, y: int, w: int, h: int, coverage: bytes | None = None) -> None:
        self._x, self._y, self._w, self._h = x, y, w, h
        self.coverage = coverage if coverage is not None else b"\xff" * (w * h)

    def x(self) -> int:
        return self._x

    def y(self) -> int:
        return self._y

    def width(self) -> int:
        return self._w

    def height(self) -> int:
        return self._h

    def pixelData(self, x: int, y: int, w: int, h: int) -> bytes:
        surface = Surface(1)
        surface.write(self.coverage, self._x, self._y, self._w, self._h)
        return surface.read(x, y, w, h)

    def duplicate(self) -> FakeSelection:
        return FakeSelection(self._x, self._y, self._w, self._h, self.coverage)


class FakeDocument:
    def __init__(self, host: FakeKrita, width: int, height: int, model: str, depth: str, resolution: float) -> None:
        self.host = host
        self._width, self._height = width, height
        self.model, self.depth = model, depth
        self._xres = self._yres = resolution
        self.pixel_bytes = BYTES_PER_PIXEL[(model, depth)]
        self.root = FakeNode(self, "root", "grouplayer")
        self._selection: FakeSelection | None = None
        self.changes: list[tuple[Any, ...]] = []
        self.title = "photo"
        self.closed = False
        background = FakeNode(self, "Background", "paintlayer")
        self.root.addChildNode(background, None)
        self._active: FakeNode | None = background
        self.changes.clear()

    def name(self) -> str:
        return self.title

    def width(self) -> int:
        return self._width

    def height(self) -> int:
        return self._height

    def colorModel(self) -> str:
        return self.model

    def colorDepth(self) -> str:
        return self.depth

    def colorProfile(self) -> str:
        return "sRGB-elle-V2-srgbtrc.icc"

    def xRes(self) -> float:
        return self._xres

    def yRes(self) -> float:
        return self._yres

    def setXRes(self, value: float) -> None:
        self.changes.append(("setXRes", value))
        self._xres = value

    def setYRes(self, value: float) -> None:
        self.changes.append(("setYRes", value))
        self._yres = value

    def scaleImage(self, w: int, h: int, xres: int, yres: int, strategy: str) -> None:
        self.changes.append(("scaleImage", w, h, xres, yres, strategy))
        for node in self.walk():
            if node.surface is not None and node.surface.width:
                old = node.surface
                scaled = Surface(old.pixel_bytes, old.default)
                data = old.read(0, 0, self._width, self._height)
                rows = []
                for y in range(h):
                    source = data[(y * self._height // h) * self._width * old.pixel_bytes :]
                    rows.append(
                        b"".join(
                            source[(x * self._width // w) * old.pixel_bytes :][: old.pixel_bytes] for x in range(w)
                        )
                    )
                scaled.write(b"".join(rows), 0, 0, w, h)
                node.surface = scaled
        self._width, self._height = w, h
        # libkis 5.1 divides the integer resolution by 72 in integers.
        self._xres, self._yres = float(xres // 72 * 72), float(yres // 72 * 72)

    def waitForDone(self) -> None:
        pass

    def refreshProjection(self) -> None:
        pass

    def rootNode(self) -> FakeNode:
        return self.root

    def activeNode(self) -> FakeNode | None:
        return self._active

    def setActiveNode(self, node: Any) -> None:
        self._active = node

    def selection(self) -> FakeSelection | None:
        return self._selection

    def setSelection(self, selection: Any) -> None:
        self._selection = selection

    def createNode(self, name: str, node_type: str) -> FakeNode:
        return FakeNode(self, name, node_type)

    def close(self) -> bool:
        self.closed = True
        return True

    # -- for the tests --
    def walk(self, node: FakeNode | None = None) -> list[FakeNode]:
        found: list[FakeNode] = []
        for child in (node or self.root).childNodes():
            found.append(child)
            found.extend(self.walk(child))
        return found

    def node(self, name: str) -> FakeNode:
        return next(node for node in self.walk() if node.name() == name)

    def tree(self) -> list[tuple[int, str, str]]:
        def visit(node: FakeNode, depth: int) -> list[tuple[int, str, str]]:
            out: list[tuple[int, str, str]] = []
            for child in node.childNodes():
                out.append((depth, child.name(), child.type()))
                out.extend(visit(child, depth + 1))
            return out

        return visit(self.root, 0)


class FakeDocumentWithMaskApi(FakeDocument):
    """Krita 5.2 and later: ``createTransparencyMask`` (a mask with pixels)."""

    def createTransparencyMask(self, name: str) -> FakeNode:
        return FakeNode(self, name, "transparencymask")


@dataclass
class FakeView:
    _document: FakeDocument

    def document(self) -> FakeDocument:
        return self._document


@dataclass
class FakeWindow:
    views_shown: list[FakeView] = field(default_factory=list)
    active: FakeView | None = None

    def activeView(self) -> FakeView | None:
        return self.active

    def views(self) -> list[FakeView]:
        return list(self.views_shown)

    def addView(self, document: Any) -> FakeView:
        view = FakeView(document)
        self.views_shown.append(view)
        self.active = view
        return view

    def showView(self, view: Any) -> None:
        self.active = view


class FakeMaskAction:
    """Krita's "Add Transparency Mask": on the active view's active layer; the global selection becomes the mask."""

    def __init__(self, host: FakeKrita) -> None:
        self.host = host
        self.triggered = 0

    def trigger(self) -> None:
        self.triggered += 1
        view = self.host.window.activeView()
        if view is None:
            return
        document = view.document()
        layer = document.activeNode()
        if layer is None or layer.type() == "transparencymask":
            return
        mask = FakeNode(document, f"Transparency Mask {self.triggered}", "transparencymask")
        mask.surface = Surface(1, b"\xff")
        selection = document.selection()
        if selection is not None:
            mask.surface = Surface(1, b"\x00")
            mask.surface.write(selection.coverage, selection.x(), selection.y(), selection.width(), selection.height())
            document.setSelection(None)
        layer.addChildNode(mask, None)
        document.setActiveNode(mask)


class FakeKrita:
    """``Krita.instance()``: ``version`` "5.1.5" makes masks without pixels and needs the action, "5.2.0" has
    ``createTransparencyMask``; ``masks_have_pixels`` overrides what the version implies."""

    def __init__(self, version: str = "5.2.0", masks_have_pixels: bool | None = None) -> None:
        self._version = version
        self.masks_have_pixels = not version.startswith("5.1") if masks_have_pixels is None else masks_have_pixels
        self.window = FakeWindow()
        self.mask_action = FakeMaskAction(self)
        self.documents: list[FakeDocument] = []

    def version(self) -> str:
        return self._version

    def activeWindow(self) -> FakeWindow:
        return self.window

    def action(self, name: str) -> FakeMaskAction | None:
        return self.mask_action if name == "add_new_transparency_mask" else None

    def createDocument(
        self, width: int, height: int, name: str, model: str, depth: str, profile: str, resolution: float
    ) -> FakeDocument:
        kind = FakeDocumentWithMaskApi if self.masks_have_pixels else FakeDocument
        document = kind(self, width, height, model, depth, resolution)
        document.title = name
        self.documents.append(document)
        return document

    def open_document(self, pixels: bytes, width: int, height: int, model: str, depth: str) -> FakeDocument:
        """A document like one opened from a file, shown in the window, its pixels on "Background"."""
        document = self.createDocument(width, height, "photo", model, depth, "", 300.0)
        document.node("Background").setPixelData(pixels, 0, 0, width, height)
        document.changes.clear()
        self.window.addView(document)
        return document
