"""The desktop app's launchers, as text: the XDG desktop entry (Linux), the app bundle's ``Info.plist`` and start
script (macOS), the PowerShell that makes a Start-menu shortcut (Windows), and the icon (SVG, written by hand).
Pure functions, so every platform's files are tested here; ``steps/app.py`` writes them."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

APP_ID = "ldl-studio"
APP_NAME = "LDL Studio"
COMMENT = "Upscale images and see where the generated detail is likely an artifact"
BUNDLE_ID = "org.ldl-studio.LDLStudio"


def desktop_entry(executable: Path, icon: str) -> str:
    """``$XDG_DATA_HOME/applications/ldl-studio.desktop`` (Desktop Entry Specification 1.4, the newest that
    desktop-file-validate 0.26 knows). ``Exec`` quotes the path as the spec asks; ``%F``: files dropped on the launcher
    open in the app."""
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Version=1.4\n"
        f"Name={APP_NAME}\n"
        "GenericName=Image Upscaler\n"
        f"Comment={COMMENT}\n"
        f"Exec={_exec_quote(str(executable))} %F\n"
        f"TryExec={executable}\n"
        f"Icon={icon}\n"
        "Terminal=false\n"
        "Categories=Graphics;2DGraphics;RasterGraphics;Photography;\n"
        "MimeType=image/png;image/jpeg;image/tiff;image/webp;image/bmp;\n"
        "Keywords=upscale;super-resolution;enlarge;ESRGAN;\n"
        "StartupNotify=true\n"
        f"StartupWMClass={APP_NAME}\n"
    )


def _exec_quote(path: str) -> str:
    """One ``Exec`` argument: quoted when it holds a reserved character (with ``"`$\\`` escaped inside), ``%``
    doubled, then backslashes doubled once more for the desktop file's own string escaping."""
    reserved = set(" \t\n\"'\\><~|&;$*?#()`")
    argument = path
    if any(c in reserved for c in path):
        argument = '"' + "".join(f"\\{c}" if c in '"`$\\' else c for c in path) + '"'
    return argument.replace("%", "%%").replace("\\", "\\\\")


def info_plist(executable_name: str) -> str:
    """``LDL Studio.app/Contents/Info.plist``."""
    entries = {
        "CFBundleName": APP_NAME,
        "CFBundleDisplayName": APP_NAME,
        "CFBundleIdentifier": BUNDLE_ID,
        "CFBundleExecutable": executable_name,
        "CFBundlePackageType": "APPL",
        "CFBundleShortVersionString": "0.1.0",
        "LSMinimumSystemVersion": "11.0",
        "NSHighResolutionCapable": "true",
    }
    body = "".join(
        f"\t<key>{key}</key>\n\t<{value}/>\n"
        if value == "true"
        else f"\t<key>{key}</key>\n\t<string>{escape(value)}</string>\n"
        for key, value in entries.items()
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n'
        f'<plist version="1.0">\n<dict>\n{body}</dict>\n</plist>\n'
    )


def mac_start_script(executable: Path) -> str:
    """``LDL Studio.app/Contents/MacOS/ldl-studio``: starts the environment's ``ldl-studio`` with the files given."""
    quoted = "'" + str(executable).replace("'", "'\\''") + "'"
    return f'#!/bin/sh\nexec {quoted} "$@"\n'


def windows_shortcut_script(shortcut: Path, executable: Path, working_folder: Path) -> str:
    """PowerShell that writes the Start-menu shortcut ``shortcut`` (a ``.lnk``, which only Windows' shell writes)."""

    def quote(value: object) -> str:
        return "'" + str(value).replace("'", "''") + "'"

    return (
        "$shell = New-Object -ComObject WScript.Shell\n"
        f"$link = $shell.CreateShortcut({quote(shortcut)})\n"
        f"$link.TargetPath = {quote(executable)}\n"
        f"$link.WorkingDirectory = {quote(working_folder)}\n"
        f"$link.Description = {quote(COMMENT)}\n"
        f"$link.IconLocation = {quote(str(executable) + ',0')}\n"
        "$link.Save()\n"
    )


def icon_svg() -> str:
    """The app's icon: a coarse 4×4 pixel grid growing into a smooth curve (what the app does), 128×128."""
    cells = []
    shades = ("#5b8def", "#3f6fd8", "#2f5bc0", "#234aa6")
    for row in range(4):
        for column in range(4):
            x, y = 20 + 12 * column, 60 + 12 * row
            cells.append(f'<rect x="{x}" y="{y}" width="11" height="11" fill="{shades[(row + column) % 4]}"/>')
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="128" height="128" viewBox="0 0 128 128">\n'
        '  <rect x="4" y="4" width="120" height="120" rx="24" fill="#10192e"/>\n'
        f"  {''.join(cells)}\n"
        '  <path d="M72 108 C72 70 84 40 108 24" fill="none" stroke="#f5b83d" stroke-width="8" '
        'stroke-linecap="round"/>\n'
        '  <circle cx="108" cy="24" r="7" fill="#f5b83d"/>\n'
        "</svg>\n"
    )
