"""Where the backend lives: the installer's ``backend.json`` beside this package, read by the client's one definition
(``ldl_client.backend_record``); its errors become the plug-in's, so the action shows them like any other."""

from __future__ import annotations

from pathlib import Path

from .client_import import BackendRecordError, ConnectSettings
from .client_import import connect_settings as recorded_settings
from .errors import PluginError


def connect_settings(package_dir: Path) -> ConnectSettings:
    """How the plug-in finds or starts the backend (plain ``ConnectSettings()`` when there is no record). Raises
    ``PluginError`` with the client's message and hint for a damaged record."""
    try:
        return recorded_settings(package_dir)
    except BackendRecordError as e:
        raise PluginError(e.message, e.hint) from e
