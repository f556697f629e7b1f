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
