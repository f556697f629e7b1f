"""Where the backend lives, as the installer records it in ``backend.json`` beside a host plug-in: one definition for
the installer that writes it and the Krita and GIMP plug-ins that read it.

Inside a host, ``sys.executable`` is the host itself (or its own Python, without LDL Studio), so a plug-in needs the
interpreter that has ``ldl_backend`` to start a server; the installer writes it down together with
``LDL_STUDIO_HOME`` when it was set: ``{"ldl_studio_home": "/path/or/null", "python": "/path/to/python"}``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from .connection import ConnectSettings
from .errors import ClientError
from .locations import HOME_VARIABLE

BACKEND_FILE = "backend.json"
_KEYS = frozenset({"python", "ldl_studio_home"})
_REINSTALL = "run 'python installer/install.py' for this host again to rewrite it"


class BackendRecordError(ClientError):
    """``backend.json`` exists but is not what the installer writes."""


@dataclass(frozen=True)
class BackendRecord:
    """``python``: the interpreter that has ``ldl_backend``; ``ldl_studio_home``: ``$LDL_STUDIO_HOME`` or None."""

    python: str
    ldl_studio_home: str | None

    def to_json(self) -> bytes:
        data = {"python": self.python, "ldl_studio_home": self.ldl_studio_home}
        return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8")

    def connect_settings(self) -> ConnectSettings:
        """How a plug-in finds or starts this backend: the recorded interpreter, with ``LDL_STUDIO_HOME`` in the
        environment when one was recorded."""
        environment = None
        if self.ldl_studio_home is not None:
            environment = {**os.environ, HOME_VARIABLE: self.ldl_studio_home}
        return ConnectSettings(python=self.python, environment=environment)


def read_backend_record(folder: Path) -> BackendRecord | None:
    """The installer's record in ``folder``, or None when there is none (a plug-in run from the repository).

    Raises ``BackendRecordError`` for a file that is not the installer's JSON (unknown keys included).
    """
    path = Path(folder) / BACKEND_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as e:
        raise BackendRecordError(f"cannot read {path}: {e}", _REINSTALL) from e
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise BackendRecordError(f"{path} is not valid JSON: {e}", _REINSTALL) from e
    if not isinstance(data, dict):
        raise BackendRecordError(f"{path} must hold a JSON object", _REINSTALL)
    unknown = sorted(set(data) - _KEYS)
    python, home = data.get("python"), data.get("ldl_studio_home")
    if unknown or not isinstance(python, str) or not python or not (home is None or isinstance(home, str)):
        raise BackendRecordError(
            f"{path} is not what the installer writes (python: a path, ldl_studio_home: a path or null"
            + (f"; unknown keys {', '.join(unknown)})" if unknown else ")"),
            _REINSTALL,
        )
    return BackendRecord(python, home or None)


def connect_settings(folder: Path) -> ConnectSettings:
    """How a plug-in installed in ``folder`` finds or starts the backend; plain ``ConnectSettings()`` when there is
    no record."""
    record = read_backend_record(folder)
    return ConnectSettings() if record is None else record.connect_settings()
