"""Both LDL actions are where users look for them: Filter › Enhance in the real menubar."""

from __future__ import annotations

from typing import Any

import pytest

from .dialogs import Dialogs
from .menus import menu_action, walk


def test_filter_enhance_lists_both_ldl_actions(window: Any) -> None:
    entries = walk(window.qwindow().menuBar())
    enhance = [entry for entry in entries if entry.path == ("Filter", "Enhance")]
    assert enhance, f"no Filter › Enhance menu; menus seen: {sorted({entry.path for entry in entries})}"
    found = {entry.name: entry for entry in entries if entry.name in ("ldl_upscale", "ldl_blend_selection")}
    assert set(found) == {"ldl_upscale", "ldl_blend_selection"}, f"Filter › Enhance holds {enhance}"
    assert found["ldl_upscale"].path == ("Filter", "Enhance")
    assert found["ldl_upscale"].text == "Upscale with LDL…"
    assert found["ldl_blend_selection"].path == ("Filter", "Enhance")
    assert found["ldl_blend_selection"].text == "LDL: blend detail into selection"
    assert all(entry.action.isVisible() for entry in found.values())


@pytest.mark.parametrize("name", ["ldl_upscale", "ldl_blend_selection"])
def test_without_an_image_each_action_says_so(krita: Any, window: Any, dialogs: Dialogs, name: str) -> None:
    assert krita.activeDocument() is None, "this test runs before any document is opened"
    menu_action(window, name).trigger()
    seen = dialogs.take()
    assert len(seen) == 1 and seen[0].startswith("QMessageBox"), seen
    assert "there is no image open" in seen[0], seen
