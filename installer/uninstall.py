"""``--uninstall``: remove exactly what the manifest lists, and nothing else.

Files and links go when they are still as the installer wrote them; a file changed since is kept and reported.
The kritarc line goes back to what it was (or is removed, with a ``[python]`` group the installer added). The
environment goes when the installer created it. Folders the installer created go when nothing else is left in them
(Python's caches inside the plug-in folders do not count). ``--purge`` then removes the user's models, settings,
caches and logs too.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .files import write_atomically
from .kritarc import disable_plugin, remove_group
from .locations import UserLocations, gimp_locations, krita_locations
from .manifest import MANIFEST_NAME, KritarcEdit, Manifest, load_manifest, matches
from .report import Report

STEP = "uninstall"
HOME_SUBFOLDERS = ("models", "assets", "config", "cache", "logs", "run")  # what the backend keeps in LDL_STUDIO_HOME
KRITA_SETTINGS_GROUP = "ldl_krita"  # the Krita plug-in's settings in kritarc (extension.SETTINGS_GROUP)
GIMP_RATES_FILE = "ldl-studio-rates.json"  # the GIMP plug-in's learned speeds, in GIMP's user folder


def uninstall(prefix: Path, purge: bool, locations: UserLocations, home: str | None, report: Report) -> None:
    manifest_path = prefix / MANIFEST_NAME
    manifest = load_manifest(manifest_path)
    kritarc = Path(manifest.kritarc.path) if manifest and manifest.kritarc else krita_locations().kritarc
    if manifest is None:
        report.same(STEP, f"nothing to uninstall: there is no {manifest_path}")
    else:
        _remove(manifest, manifest_path, report)
    if purge:
        targets = [Path(home) / name for name in HOME_SUBFOLDERS] if home else [locations.data, *locations.settings]
        for target in targets:
            if target.exists():
                if not report.dry_run:
                    shutil.rmtree(target)
                report.changed("purge", f"{'remove' if report.dry_run else 'removed'} {target} (models, settings)")
        _purge_host_settings(kritarc, gimp_locations().directory / GIMP_RATES_FILE, report)
    else:
        report.same(STEP, "your models and settings are kept (--purge removes them too)")


def _remove(manifest: Manifest, manifest_path: Path, report: Report) -> None:
    verb = "remove" if report.dry_run else "removed"
    removed: dict[str, list[Path]] = {}
    for key in sorted(manifest.files):
        entry = manifest.files[key]
        path = Path(entry.path)
        if not (path.exists() or path.is_symlink()):
            report.same(STEP, f"{path} is already gone")
        elif matches(entry, path):
            if not report.dry_run:
                path.unlink()
            removed.setdefault(entry.part, []).append(path)
        else:
            report.warn(STEP, f"kept {path}: it was changed after the install")
    for part, paths in removed.items():
        where = paths[0] if len(paths) == 1 else f"{len(paths)} files under {Path(os.path.commonpath(paths))}"
        report.changed(STEP, f"{verb} {where} ({part})")
    if manifest.kritarc is not None:
        _restore_kritarc(manifest.kritarc, report)
    environment = manifest.environment
    if environment is not None and Path(environment.path).exists():
        if environment.created:
            if not report.dry_run:
                shutil.rmtree(environment.path)
            report.changed(STEP, f"{verb} the environment {environment.path}")
        else:
            report.same(STEP, f"kept {environment.path}: it was there before the installer")
    if not report.dry_run:
        manifest_path.unlink(missing_ok=True)
    report.changed(STEP, f"{verb} {manifest_path}")
    for key in sorted(manifest.folders, key=lambda k: len(Path(k).parts), reverse=True):
        folder = Path(key)
        if not folder.is_dir() or folder.is_symlink():
            continue
        left = [child for child in folder.iterdir() if not (child.name == "__pycache__" and child.is_dir())]
        if report.dry_run:
            continue  # its contents are only removed in a real run, so emptiness cannot be judged here
        if left:
            names = ", ".join(sorted(child.name for child in left)[:5])
            report.warn(STEP, f"kept the folder {folder}: it holds files the installer did not put there ({names})")
            continue
        shutil.rmtree(folder)
        report.changed(STEP, f"{verb} the folder {folder}")


def _restore_kritarc(edit: KritarcEdit, report: Report) -> None:
    path = Path(edit.path)
    try:
        before = path.read_bytes()
    except FileNotFoundError:
        return
    text = before.decode("utf-8", "surrogateescape")
    after = disable_plugin(text, edit.plugin, edit.previous, edit.added_group)
    if after == text:
        return
    line = f"enable_{edit.plugin}"
    what = f"removed {line} from" if edit.previous is None else f"restored {line}={edit.previous} in"
    if report.dry_run:
        report.changed(STEP, f"edit {path} ({what.split()[0][:-1]} {line})")
        return
    if edit.created and not after.strip():
        path.unlink()
        report.changed(STEP, f"removed {path} (the installer created it; nothing else was in it)")
        return
    write_atomically(path, after.encode("utf-8", "surrogateescape"))
    report.changed(STEP, f"{what} {path}")


def _purge_host_settings(kritarc: Path, rates: Path, report: Report) -> None:
    """The plug-ins' own settings: the Krita plug-in's group in kritarc, the GIMP plug-in's learned speeds."""
    verb = "remove" if report.dry_run else "removed"
    if kritarc.is_file():
        text = kritarc.read_bytes().decode("utf-8", "surrogateescape")
        after = remove_group(text, KRITA_SETTINGS_GROUP)
        if after != text:
            if not report.dry_run:
                write_atomically(kritarc, after.encode("utf-8", "surrogateescape"))
            report.changed("purge", f"{verb} the [{KRITA_SETTINGS_GROUP}] settings from {kritarc}")
    if rates.is_file():
        if not report.dry_run:
            rates.unlink()
        report.changed("purge", f"{verb} {rates}")
