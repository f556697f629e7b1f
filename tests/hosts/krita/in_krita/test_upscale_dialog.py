"""Filter › Enhance › "Upscale with LDL…" as a user runs it: the menu action, the backend found through the
installer's record, the dialog (compact model and Lanczos chosen, OK), the progress dialog, the result."""

from __future__ import annotations

import time
from typing import Any

from .dialogs import Dialogs, choose, describe
from .documents import COMPACT, open_photo, settle
from .layers import GROUP, check_ldl_stack
from .menus import menu_action

DIALOG_TITLE = "Upscale with LDL"
WAIT_S = 120.0


def test_upscale_through_the_menu_and_its_dialog(
    krita: Any, window: Any, dialogs: Dialogs, host_config: dict[str, Any]
) -> None:
    document, _ = open_photo(krita, window, host_config["photo"], "U8")
    width, height = document.width(), document.height()
    offered: list[str] = []

    def answer(widget: Any) -> bool:
        if widget.windowTitle() != DIALOG_TITLE:
            return False
        offered.append(describe(widget))
        if choose(widget, COMPACT) and choose(widget, "lanczos"):
            widget.accept()
        else:
            dialogs.seen.append(f"the dialog offers no {COMPACT} or no lanczos reference: {describe(widget)}")
            widget.reject()
        return True

    dialogs.handlers.append(answer)
    try:
        menu_action(window, "ldl_upscale").trigger()
        deadline = time.monotonic() + WAIT_S
        while not any(node.name() == GROUP for node in document.topLevelNodes()):
            assert not dialogs.seen, f"the upscale showed {dialogs.take()}"
            assert time.monotonic() < deadline, f"no {GROUP} group after {WAIT_S:.0f} s; the dialog: {offered}"
            settle(0.1)
        document.waitForDone()
        settle()
        assert len(offered) == 1, offered
        assert (document.width(), document.height()) == (4 * width, 4 * height)
        check_ldl_stack(document)
    finally:
        document.setModified(False)
