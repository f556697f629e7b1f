"""The real menubar of Krita's main window, walked through its QMenus (what a user clicks, not Krita's action
registry)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class MenuEntry:
    path: tuple[str, ...]  # menu titles from the menubar down, without mnemonics ("Filter", "Enhance")
    text: str
    name: str  # objectName: Krita's action id
    action: Any  # QAction


def plain(text: str) -> str:
    """A menu title without its mnemonic marker: "Filte&r" -> "Filter", "Sa&&ve" -> "Sa&ve"."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def walk(menubar: Any) -> list[MenuEntry]:
    entries: list[MenuEntry] = []

    def visit(actions: list[Any], path: tuple[str, ...]) -> None:
        for action in actions:
            menu = action.menu()
            if menu is not None:
                visit(menu.actions(), (*path, plain(action.text())))
            elif not action.isSeparator():
                entries.append(MenuEntry(path, plain(action.text()), action.objectName(), action))

    visit(menubar.actions(), ())
    return entries


def menu_action(window: Any, name: str, path: tuple[str, ...] = ("Filter", "Enhance")) -> Any:
    """The QAction with objectName ``name`` in the menu at ``path`` of ``window``'s menubar."""
    found = [entry.action for entry in walk(window.qwindow().menuBar()) if entry.name == name and entry.path == path]
    assert len(found) == 1, f"{len(found)} actions {name!r} in {' › '.join(path)}"
    return found[0]
