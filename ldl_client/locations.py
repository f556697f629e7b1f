"""Where the server's discovery file can be, and where a server this client starts writes its log.

The server writes ``server.json`` into ``platformdirs.user_runtime_dir("ldl-studio")``, or the user state dir
where there is no runtime dir, or ``$LDL_STUDIO_HOME/run`` (docs/server-api.md). This package may not import
platformdirs (it runs inside Krita's and GIMP's Pythons), so the rules are restated here from platformdirs
4.14 (``unix.py``, ``macos.py``, ``windows.py``, ``_xdg.py``; the same paths as 3.x and earlier 4.x where those
had a rule):

- Linux and other Unixes: ``$XDG_RUNTIME_DIR/APP`` when that is an absolute path (platformdirs also wants it owned
  by the user with mode 0700), else ``/run/user/UID/APP`` (``/var/run/user/UID`` on FreeBSD/NetBSD,
  ``TMP/run/user/UID`` on OpenBSD) when that exists, else ``TMP/runtime-UID/APP``. State dir:
  ``$XDG_STATE_HOME/APP`` or ``~/.local/state/APP``.
- macOS: ``$XDG_RUNTIME_DIR/APP`` when set (platformdirs >= 4.10), else ``~/Library/Caches/TemporaryItems/APP``.
  State dir: ``$XDG_STATE_HOME/APP`` or ``~/Library/Application Support/APP``.
- Windows: ``%LOCALAPPDATA%\\Temp\\AUTHOR\\APP``, where AUTHOR is APP unless the caller passed
  ``appauthor=False`` (then it is left out). State dir: ``%LOCALAPPDATA%\\AUTHOR\\APP``.

Rather than re-create platformdirs' ownership and mode checks (which decide between those fallbacks), the client
looks in every candidate, in platformdirs' order, and takes the first fresh file: a server is found wherever the
server's own platformdirs put it.
"""

from __future__ import annotations

import os
import sys
import tempfile
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


def default_locations(environment: Mapping[str, str] | None = None, platform: str | None = None) -> Locations:
    """The candidates for this user; ``environment`` and ``platform`` (``sys.platform`` form) are for tests."""
    environment = os.environ if environment is None else environment
    platform = sys.platform if platform is None else platform
    override = environment.get(HOME_VARIABLE)
    if override:
        root = Path(override)
        return Locations((root / "run" / DISCOVERY_NAME,), root / "logs" / LOG_NAME)
    if platform == "win32":
        return _windows(environment)
    home = Path(environment.get("HOME") or Path.home())
    if platform == "darwin":
        return _macos(environment, home)
    return _unix(environment, home, platform)


def _unique(paths: list[Path]) -> tuple[Path, ...]:
    return tuple(dict.fromkeys(paths))


def _xdg(environment: Mapping[str, str], name: str) -> Path | None:
    # platformdirs ignores relative XDG values, as the XDG spec asks.
    value = environment.get(name, "")
    return Path(value) if value and Path(value).is_absolute() else None


def _unix(environment: Mapping[str, str], home: Path, platform: str) -> Locations:
    uid = getattr(os, "geteuid", lambda: 0)()
    if platform.startswith("openbsd"):
        # platformdirs' OpenBSD runtime directory lives in the system temporary folder
        run_user = Path(tempfile.gettempdir()) / "run" / "user" / str(uid)
    elif platform.startswith(("freebsd", "netbsd")):
        run_user = Path(f"/var/run/user/{uid}")
    else:
        run_user = Path(f"/run/user/{uid}")
    runtime = [run_user / APP_NAME, Path(tempfile.gettempdir()) / f"runtime-{uid}" / APP_NAME]
    if xdg_runtime := _xdg(environment, "XDG_RUNTIME_DIR"):
        runtime.insert(0, xdg_runtime / APP_NAME)
    state = (_xdg(environment, "XDG_STATE_HOME") or home / ".local" / "state") / APP_NAME
    # platformdirs' user_log_dir on Unix: the state dir's "log" folder.
    return Locations(
        _unique([*(path / DISCOVERY_NAME for path in runtime), state / DISCOVERY_NAME]), state / "log" / LOG_NAME
    )


def _macos(environment: Mapping[str, str], home: Path) -> Locations:
    runtime = [home / "Library" / "Caches" / "TemporaryItems" / APP_NAME]
    if xdg_runtime := _xdg(environment, "XDG_RUNTIME_DIR"):
        runtime.insert(0, xdg_runtime / APP_NAME)
    state = (_xdg(environment, "XDG_STATE_HOME") or home / "Library" / "Application Support") / APP_NAME
    paths = [*(path / DISCOVERY_NAME for path in runtime), state / DISCOVERY_NAME]
    return Locations(_unique(paths), home / "Library" / "Logs" / APP_NAME / LOG_NAME)


def _windows(environment: Mapping[str, str]) -> Locations:
    local = Path(environment.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    # user_runtime_dir("ldl-studio") repeats the name as the author; appauthor=False (as paths.py uses) does not.
    runtime = [local / "Temp" / APP_NAME / APP_NAME, local / "Temp" / APP_NAME]
    state = [local / APP_NAME / APP_NAME, local / APP_NAME]
    paths = [path / DISCOVERY_NAME for path in (*runtime, *state)]
    return Locations(_unique(paths), local / APP_NAME / "Logs" / LOG_NAME)
