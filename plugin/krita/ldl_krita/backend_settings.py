"""Where the backend lives, as the installer recorded it in ``backend.json`` beside this package.

Inside Krita ``sys.executable`` is Krita itself, not a Python, so the client needs the interpreter that has
``ldl_backend`` to start a server; the installer writes it down together with ``LDL_STUDIO_HOME`` when it was set:
``{"python": "/path/to/python", "ldl_studio_home": "/path/or/null"}``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from .client_import import ConnectSettings
from .errors import PluginError

BACKEND_FILE = "backend.json"
HOME_VARIABLE = "LDL_STUDIO_HOME"
_KEYS = frozenset({"python", "ldl_studio_home"})


@dataclass(frozen=True)
class BackendRecord:
    python: str
    ldl_studio_home: str | None


def read_backend_record(package_dir: Path) -> BackendRecord | None:
    """The installer's record in ``package_dir``, or None when there is none (a plugin run from the repository).

    Raises ``PluginError`` for a file that is not the installer's JSON (unknown keys included).
    """
    path = Path(package_dir) / BACKEND_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as e:
        raise PluginError(f"cannot read {path}: {e}", _REINSTALL) from e
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise PluginError(f"{path} is not valid JSON: {e}", _REINSTALL) from e
    if not isinstance(data, dict):
        raise PluginError(f"{path} must hold a JSON object", _REINSTALL)
    unknown = sorted(set(data) - _KEYS)
    python, home = data.get("python"), data.get("ldl_studio_home")
    if unknown or not isinstance(python, str) or not python or not (home is None or isinstance(home, str)):
        raise PluginError(
            f"{path} is not what the installer writes (python: a path, ldl_studio_home: a path or null"
            + (f"; unknown keys {', '.join(unknown)})" if unknown else ")"),
            _REINSTALL,
        )
    return BackendRecord(python, home or None)


def connect_settings(package_dir: Path) -> ConnectSettings:
    """How the plugin finds or starts the backend: the recorded interpreter, and ``LDL_STUDIO_HOME`` in the
    environment when one was recorded; plain ``ConnectSettings()`` when there is no record."""
    record = read_backend_record(package_dir)
    if record is None:
        return ConnectSettings()
    environment = None
    if record.ldl_studio_home is not None:
        environment = {**os.environ, HOME_VARIABLE: record.ldl_studio_home}
    return ConnectSettings(python=record.python, environment=environment)


_REINSTALL = "run 'python installer/install.py --krita' again to rewrite it"
