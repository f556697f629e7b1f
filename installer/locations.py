"""Where each host keeps its plugins and settings, per platform (the folders Krita and GIMP themselves use)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class KritaLocations:
    """``pykrita``: the folder of Python plugins; ``kritarc``: Krita's settings file."""

    pykrita: Path
    kritarc: Path


def krita_locations(
    environment: Mapping[str, str] | None = None, platform: str | None = None, home: Path | None = None
) -> KritaLocations:
    """Linux and other Unixes: ``$XDG_DATA_HOME/krita/pykrita`` (``~/.local/share``) and ``$XDG_CONFIG_HOME/kritarc``
    (``~/.config``); Windows: ``%APPDATA%\\krita\\pykrita`` and ``%LOCALAPPDATA%\\kritarc``; macOS:
    ``~/Library/Application Support/krita/pykrita`` and ``~/Library/Preferences/kritarc``."""
    environment = os.environ if environment is None else environment
    platform = sys.platform if platform is None else platform
    home = Path(environment.get("HOME") or Path.home()) if home is None else home
    if platform == "win32":
        roaming = Path(environment.get("APPDATA") or home / "AppData" / "Roaming")
        local = Path(environment.get("LOCALAPPDATA") or home / "AppData" / "Local")
        return KritaLocations(roaming / "krita" / "pykrita", local / "kritarc")
    if platform == "darwin":
        support = home / "Library" / "Application Support"
        return KritaLocations(support / "krita" / "pykrita", home / "Library" / "Preferences" / "kritarc")
    data = _xdg(environment, "XDG_DATA_HOME") or home / ".local" / "share"
    config = _xdg(environment, "XDG_CONFIG_HOME") or home / ".config"
    return KritaLocations(data / "krita" / "pykrita", config / "kritarc")


@dataclass(frozen=True)
class GimpLocations:
    """``directory``: GIMP 3.0's user folder (``gimp_directory()``); ``plug_ins``: its plug-ins folder."""

    directory: Path

    @property
    def plug_ins(self) -> Path:
        return self.directory / "plug-ins"


GIMP_VERSION_FOLDER = "3.0"  # GIMP 3.x keeps one user folder per minor series; 3.0 is the series this plug-in targets


def gimp_locations(
    environment: Mapping[str, str] | None = None, platform: str | None = None, home: Path | None = None
) -> GimpLocations:
    """GIMP 3.0's user folder as ``gimp_directory()`` finds it: ``$GIMP3_DIRECTORY`` when set (a relative value is
    taken under the home folder); else ``GIMP/3.0`` in ``$XDG_CONFIG_HOME`` (``~/.config``) on Linux and other
    Unixes, in ``%APPDATA%`` on Windows and in ``~/Library/Application Support`` on macOS."""
    environment = os.environ if environment is None else environment
    platform = sys.platform if platform is None else platform
    home = Path(environment.get("HOME") or Path.home()) if home is None else home
    override = environment.get("GIMP3_DIRECTORY")
    if override:
        return GimpLocations(home / override)  # an absolute value replaces home
    if platform == "win32":
        base = Path(environment.get("APPDATA") or home / "AppData" / "Roaming")
    elif platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        base = _xdg(environment, "XDG_CONFIG_HOME") or home / ".config"
    return GimpLocations(base / "GIMP" / GIMP_VERSION_FOLDER)


def _xdg(environment: Mapping[str, str], name: str) -> Path | None:
    # The XDG spec says relative values are to be ignored.
    value = environment.get(name, "")
    return Path(value) if value and Path(value).is_absolute() else None


APP_NAME = "ldl-studio"  # the folder name the backend uses (ldl_client.locations.APP_NAME, platformdirs' appname)


@dataclass(frozen=True)
class UserLocations:
    """Where the installer puts what is not a host plug-in, for one user and platform.

    ``data``: the user data folder (``platformdirs.user_data_dir("ldl-studio", appauthor=False)``, as the backend
    keeps its models there); ``bin``: the per-user command folder on PATH (None on Windows, which has none by
    custom); ``applications``: where the app's launcher goes (the XDG applications folder, the Start menu's
    Programs folder, or ``~/Applications``); ``icons``: the hicolor theme's scalable apps folder (Linux only);
    ``settings``: the folders of the user's own settings, caches and logs (removed only by ``--purge``).
    """

    data: Path
    bin: Path | None
    applications: Path
    icons: Path | None
    settings: tuple[Path, ...]


def user_locations(
    environment: Mapping[str, str] | None = None, platform: str | None = None, home: Path | None = None
) -> UserLocations:
    """Linux and other Unixes: ``$XDG_DATA_HOME/ldl-studio`` (``~/.local/share``), ``~/.local/bin``,
    ``$XDG_DATA_HOME/applications``; macOS: ``~/Library/Application Support/ldl-studio``, ``~/.local/bin``,
    ``~/Applications``; Windows: ``%LOCALAPPDATA%\\ldl-studio``, no command folder, and the Start menu's
    ``%APPDATA%\\Microsoft\\Windows\\Start Menu\\Programs``. The settings folders restate platformdirs' config, cache
    and log folders for ``ldl-studio``."""
    environment = os.environ if environment is None else environment
    platform = sys.platform if platform is None else platform
    home = Path(environment.get("HOME") or Path.home()) if home is None else home
    if platform == "win32":
        local = Path(environment.get("LOCALAPPDATA") or home / "AppData" / "Local")
        roaming = Path(environment.get("APPDATA") or home / "AppData" / "Roaming")
        start_menu = roaming / "Microsoft" / "Windows" / "Start Menu" / "Programs"
        return UserLocations(local / APP_NAME, None, start_menu, None, ())
    if platform == "darwin":
        library = home / "Library"
        settings = (library / "Caches" / APP_NAME, library / "Logs" / APP_NAME)
        return UserLocations(
            library / "Application Support" / APP_NAME, home / ".local" / "bin", home / "Applications", None, settings
        )
    data = _xdg(environment, "XDG_DATA_HOME") or home / ".local" / "share"
    settings = (
        (_xdg(environment, "XDG_CONFIG_HOME") or home / ".config") / APP_NAME,
        (_xdg(environment, "XDG_CACHE_HOME") or home / ".cache") / APP_NAME,
        (_xdg(environment, "XDG_STATE_HOME") or home / ".local" / "state") / APP_NAME,
    )
    return UserLocations(
        data / APP_NAME,
        home / ".local" / "bin",
        data / "applications",
        data / "icons" / "hicolor" / "scalable" / "apps",
        settings,
    )
