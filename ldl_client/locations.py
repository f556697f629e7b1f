"""Where the server's discovery file lives and where a server a client starts writes its log: one implementation,
used by the server to write the file and by every client to find it.

The folder follows platformdirs' ``user_runtime_dir("ldl-studio", appauthor=False)`` where that is a private
folder, and the user state folder elsewhere (never a folder under the shared temporary directory). This package
may not import platformdirs (it runs inside Krita's and GIMP's Pythons), so the rules are restated here from
platformdirs 4.14; ``tests/client/test_locations.py`` checks them against the installed platformdirs:

- ``$LDL_STUDIO_HOME/run`` when that variable is set (tests, portable installs).
- Linux and other Unixes: ``$XDG_RUNTIME_DIR/APP`` when that is an absolute path to a folder the user owns with
  mode 0700 (platformdirs' own check); else the state folder ``$XDG_STATE_HOME/APP`` or ``~/.local/state/APP``
  (where platformdirs would fall back to ``/run/user/UID`` only if it passes the same check, and then to the shared
  temporary directory).
- macOS: ``$XDG_RUNTIME_DIR/APP`` when set to an absolute path (platformdirs' XDG variables take precedence), else
  ``~/Library/Caches/TemporaryItems/APP``.
- Windows: ``%LOCALAPPDATA%\\Temp\\APP``.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "ldl-studio"
HOME_VARIABLE = "LDL_STUDIO_HOME"
DISCOVERY_NAME = "server.json"
LOG_NAME = "server.log"


@dataclass(frozen=True)
class Locations:
    """``discovery_files``: where to look for ``server.json``, most likely first; ``log_file``: a started server's."""

    discovery_files: tuple[Path, ...]
    log_file: Path


def runtime_dir(environment: Mapping[str, str] | None = None, platform: str | None = None) -> Path:
    """The folder a server writes its discovery file into, for this user. ``environment`` and ``platform``
    (``sys.platform`` form) are for tests."""
    environment = os.environ if environment is None else environment
    platform = sys.platform if platform is None else platform
    override = environment.get(HOME_VARIABLE)
    if override:
        return Path(override) / "run"
    if platform == "win32":
        return _local_app_data(environment) / "Temp" / APP_NAME
    home = Path(environment.get("HOME") or Path.home())
    xdg_runtime = _xdg(environment, "XDG_RUNTIME_DIR")
    if platform == "darwin":
        return (xdg_runtime or home / "Library" / "Caches" / "TemporaryItems") / APP_NAME
    if xdg_runtime is not None and _private_folder(xdg_runtime):
        return xdg_runtime / APP_NAME
    return _unix_state(environment, home)


def default_locations(environment: Mapping[str, str] | None = None, platform: str | None = None) -> Locations:
    """The discovery file and a started server's log for this user (see ``runtime_dir``)."""
    environment = os.environ if environment is None else environment
    platform = sys.platform if platform is None else platform
    discovery = (runtime_dir(environment, platform) / DISCOVERY_NAME,)
    override = environment.get(HOME_VARIABLE)
    if override:
        return Locations(discovery, Path(override) / "logs" / LOG_NAME)
    if platform == "win32":
        return Locations(discovery, _local_app_data(environment) / APP_NAME / "Logs" / LOG_NAME)
    home = Path(environment.get("HOME") or Path.home())
    if platform == "darwin":
        return Locations(discovery, home / "Library" / "Logs" / APP_NAME / LOG_NAME)
    # platformdirs' user_log_dir on Unix: the state folder's "log" folder.
    return Locations(discovery, _unix_state(environment, home) / "log" / LOG_NAME)


def _xdg(environment: Mapping[str, str], name: str) -> Path | None:
    # platformdirs ignores relative XDG values, as the XDG spec asks.
    value = environment.get(name, "")
    return Path(value) if value and Path(value).is_absolute() else None


def _unix_state(environment: Mapping[str, str], home: Path) -> Path:
    return (_xdg(environment, "XDG_STATE_HOME") or home / ".local" / "state") / APP_NAME


def _local_app_data(environment: Mapping[str, str]) -> Path:
    return Path(environment.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")


def _private_folder(path: Path) -> bool:
    """A real folder (not a link) of this user that nobody else may enter: the XDG spec's runtime folder."""
    try:
        info = path.lstat()
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() and not stat.S_IMODE(info.st_mode) & 0o077
