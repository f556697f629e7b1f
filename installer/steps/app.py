"""Step "app": the desktop app's launcher and the commands on PATH.

- Linux: ``$XDG_DATA_HOME/applications/ldl-studio.desktop`` (checked with ``desktop-file-validate`` where it is
  installed) and its icon in ``$XDG_DATA_HOME/icons/hicolor/scalable/apps/ldl-studio.svg``.
- macOS: ``~/Applications/LDL Studio.app`` (``Info.plist`` and a start script).
- Windows: ``LDL Studio.lnk`` in the Start menu's Programs folder, made by PowerShell (Windows' shell writes .lnk).

Step "commands": ``ldl`` (and with the app ``ldl-studio``) linked into ``~/.local/bin`` on Linux and macOS; Windows
has no per-user command folder on PATH by custom, so the step says where the commands are instead.

A launcher that fails its check is removed again with the files the step wrote.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import InstallError
from ..launchers import APP_ID, APP_NAME, desktop_entry, icon_svg, info_plist, mac_start_script, windows_shortcut_script
from ..locations import UserLocations
from ..manifest import Manifest
from ..owned import Writer
from ..report import Report


def install_launcher(
    platform: str, locations: UserLocations, executable: Path, manifest: Manifest, report: Report
) -> None:
    """Raises ``InstallError`` after removing what it wrote."""
    writer = Writer("app", "app", manifest, report)
    try:
        if platform == "win32":
            _windows(locations, executable, writer)
        elif platform == "darwin":
            bundle = locations.applications / f"{APP_NAME}.app" / "Contents"
            writer.file(bundle / "Info.plist", info_plist(APP_ID).encode())
            writer.file(bundle / "MacOS" / APP_ID, mac_start_script(executable).encode(), executable=True)
        else:
            assert locations.icons is not None
            icon = locations.icons / f"{APP_ID}.svg"
            writer.file(icon, icon_svg().encode())
            entry = locations.applications / f"{APP_ID}.desktop"
            writer.file(entry, desktop_entry(executable, APP_ID).encode())
            if not report.dry_run:
                _validate(entry)
    except (InstallError, OSError) as e:
        writer.undo()
        if isinstance(e, InstallError):
            raise
        raise InstallError(f"cannot write the app's launcher: {e}", "check the folder's permissions") from e


def link_commands(
    platform: str, locations: UserLocations, scripts: Path, names: tuple[str, ...], manifest: Manifest, report: Report
) -> None:
    if locations.bin is None:
        report.same("commands", f"Windows: the commands are in {scripts} (no per-user folder on PATH to link into)")
        return
    writer = Writer("commands", "commands", manifest, report)
    try:
        for name in names:
            writer.link(locations.bin / name, scripts / name)
    except OSError as e:
        writer.undo()
        raise InstallError(f"cannot link the commands into {locations.bin}: {e}", "check its permissions") from e
    on_path = [Path(p) for p in os.environ.get("PATH", "").split(os.pathsep) if p]
    if locations.bin not in on_path:
        report.warn("commands", f"{locations.bin} is not on PATH: add it (e.g. in ~/.profile) to type `ldl`")


def _validate(entry: Path) -> None:
    validator = shutil.which("desktop-file-validate")
    if validator is None:
        return
    done = subprocess.run([validator, str(entry)], capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise InstallError(f"{entry} is not a valid desktop entry: {done.stdout}{done.stderr}", "report this bug")


def _windows(locations: UserLocations, executable: Path, writer: Writer) -> None:
    shortcut = locations.applications / f"{APP_NAME}.lnk"
    if shortcut.exists() and writer.manifest.owns_unchanged(shortcut):
        writer.report.same("app", f"{shortcut} is in place")
        return
    if not writer.may_replace(shortcut):
        return
    if writer.report.dry_run:
        writer.report.changed("app", f"create the Start-menu shortcut {shortcut}")
        return
    writer.folder(shortcut.parent)
    with tempfile.TemporaryDirectory() as scratch:
        script = Path(scratch) / "shortcut.ps1"
        script.write_text(windows_shortcut_script(shortcut, executable, executable.parent), "utf-8")
        command = ["powershell", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-File", str(script)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0 or not shortcut.is_file():
        raise InstallError(f"PowerShell could not create {shortcut}: {done.stderr.strip()}", "run the installer again")
    writer.created.append(shortcut)
    writer.manifest.add_file(shortcut, "app")
    writer.report.changed("app", f"created the Start-menu shortcut {shortcut}")
