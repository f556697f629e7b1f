"""Writing files and links the installer owns: each is recorded in the manifest with its hash, nothing of the user's
is overwritten (a file the installer did not write, or changed since, is kept and reported), and an unchanged file
is not written again, so a second run changes nothing."""

from __future__ import annotations

import stat
from dataclasses import dataclass, field
from pathlib import Path

from .files import write_atomically
from .manifest import Manifest
from .report import Report


def missing_folders(folder: Path) -> list[Path]:
    """``folder`` and its ancestors that do not exist yet, deepest first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


@dataclass
class Writer:
    """Writes for one step (``step`` names it in the report, ``part`` in the manifest); ``undo`` removes what this
    writer created, for a step that fails after writing."""

    step: str
    part: str
    manifest: Manifest
    report: Report
    created: list[Path] = field(default_factory=list)

    def folder(self, folder: Path) -> None:
        missing = missing_folders(folder)
        if self.report.dry_run:
            return
        folder.mkdir(parents=True, exist_ok=True)
        for path in reversed(missing):
            self.manifest.add_folder(path, self.part)
            self.created.append(path)

    def file(self, path: Path, data: bytes, executable: bool = False) -> None:
        if path.is_file() and not path.is_symlink() and path.read_bytes() == data and _mode_ok(path, executable):
            self.report.same(self.step, f"{path} is up to date")
            if not self.report.dry_run:
                self.manifest.add_file(path, self.part)
            return
        if not self.may_replace(path):
            return
        if self.report.dry_run:
            self.report.changed(self.step, f"write {path}")
            return
        self.folder(path.parent)
        is_new = not path.exists()
        write_atomically(path, data)
        if is_new:
            self.created.append(path)
        if executable:
            path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        self.manifest.add_file(path, self.part)
        self.report.changed(self.step, f"wrote {path}")

    def link(self, path: Path, target: Path) -> None:
        if path.is_symlink() and path.readlink() == target:
            self.report.same(self.step, f"{path} → {target} is in place")
            if not self.report.dry_run:
                self.manifest.add_file(path, self.part)
            return
        if not self.may_replace(path):
            return
        if self.report.dry_run:
            self.report.changed(self.step, f"link {path} → {target}")
            return
        self.folder(path.parent)
        path.unlink(missing_ok=True)
        path.symlink_to(target)
        self.created.append(path)
        self.manifest.add_file(path, self.part)
        self.report.changed(self.step, f"linked {path} → {target}")

    def undo(self) -> None:
        for path in reversed(self.created):
            if path.is_symlink() or path.is_file():
                path.unlink(missing_ok=True)
                self.manifest.files.pop(str(path), None)
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
                self.manifest.folders.pop(str(path), None)
        self.created.clear()

    def may_replace(self, path: Path) -> bool:
        if not (path.exists() or path.is_symlink()) or self.manifest.owns_unchanged(path):
            return True
        self.report.warn(
            self.step,
            f"kept {path}: this installer did not write it (or it was changed since); move it away and run the "
            "installer again to replace it",
        )
        return False


def _mode_ok(path: Path, executable: bool) -> bool:
    return not executable or bool(path.stat().st_mode & stat.S_IXUSR)
