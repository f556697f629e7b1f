"""Documents for the in-Krita tests: the photo crop opened at a colour depth, and each depth's upscale, run once."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ldl_krita.upscale import UpscaleOutcome

COMPACT = "realesr-animevideov3"
SRGB = "sRGB-elle-V2-srgbtrc.icc"  # Krita's own sRGB profile: float documents stay gamma-encoded like the photo
SETTLE_S = 0.3


def settle(seconds: float = SETTLE_S) -> None:
    """Let Krita's event loop run (view updates, canvas repaints) while a test holds the GUI thread."""
    from PyQt5.QtWidgets import QApplication  # pyright: ignore[reportMissingImports]

    deadline = time.monotonic() + seconds
    while True:
        QApplication.processEvents()
        if time.monotonic() >= deadline:
            return
        time.sleep(0.01)


def open_photo(krita: Any, window: Any, photo: str, depth: str) -> tuple[Any, Any]:
    """The photo crop as a document of ``depth`` (U8, U16, F16, F32) and the view showing it, its layer active."""
    document = krita.openDocument(photo)
    assert document is not None, f"Krita could not open {photo}"
    if depth != "U8":
        assert document.setColorSpace("RGBA", depth, SRGB), f"converting to RGBA {depth} failed"
    document.waitForDone()
    view = window.addView(document)
    settle()
    assert (document.colorModel(), document.colorDepth()) == ("RGBA", depth)
    (layer,) = document.topLevelNodes()
    document.setActiveNode(layer)
    return document, view


def show(window: Any, document: Any) -> None:
    """Bring ``document``'s tab to the front, as a click on it would. (``View.setVisible()`` makes the view Krita's
    active one but leaves another tab on screen.) The window's views and its tabs are both in opening order."""
    from PyQt5.QtWidgets import QMdiArea  # pyright: ignore[reportMissingImports]

    shown = [view.document() == document for view in window.views()].index(True)
    area = window.qwindow().findChild(QMdiArea)
    area.setActiveSubWindow(area.subWindowList()[shown])
    settle()
    assert window.activeView().document() == document, "the document's tab did not come to the front"


@dataclass
class Upscaled:
    depth: str
    document: Any
    view: Any
    outcome: UpscaleOutcome
    source: tuple[int, int]  # the photo's width and height
    progress: list[tuple[Any, ...]] = field(default_factory=list)


@dataclass
class Upscales:
    """Each depth's upscale runs once, when a test first asks for it (tests run in file order: no reordering)."""

    make: Callable[[str], Upscaled]
    done: dict[str, Upscaled | BaseException] = field(default_factory=dict)

    def __call__(self, depth: str) -> Upscaled:
        if depth not in self.done:
            try:
                self.done[depth] = self.make(depth)
            except BaseException as error:  # reported again by every test of this depth, never re-run
                self.done[depth] = error
        found = self.done[depth]
        if isinstance(found, BaseException):
            raise AssertionError(f"the {depth} upscale failed: {found!r}") from found
        return found

    def finished(self) -> list[Upscaled]:
        return [done for done in self.done.values() if isinstance(done, Upscaled)]
