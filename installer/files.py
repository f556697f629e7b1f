"""File operations the steps share: atomic writes and replacing a folder in one rename, with clear errors."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from .errors import InstallError

# Never copied into a host's plugin folder: caches, and what the installer writes there itself.
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")


def writable_folder(folder: Path, what: str, option: str) -> Path:
    """Create ``folder`` (and parents) if needed and check it can be written; raises ``InstallError``."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InstallError(f"cannot create the {what} {folder}: {e.strerror or e}", _choose(option)) from e
    if not folder.is_dir():
        raise InstallError(f"the {what} {folder} is not a folder", _choose(option))
    try:
        probe = tempfile.NamedTemporaryFile(dir=folder, prefix=".ldl-write-test-", delete=True)  # noqa: SIM115
        probe.close()
    except OSError as e:
        raise InstallError(f"cannot write to the {what} {folder}: {e.strerror or e}", _choose(option)) from e
    return folder


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and one rename."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        if path.exists():
            shutil.copymode(path, temporary)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def replace_folder(staged: Path, target: Path) -> None:
    """Put the folder ``staged`` where ``target`` is, replacing an older copy whole (same file system)."""
    old = None
    if target.exists() or target.is_symlink():
        old = target.with_name(f".{target.name}-old-{os.getpid()}")
        if old.exists():
            shutil.rmtree(old)
        target.rename(old)
    try:
        staged.rename(target)
    except BaseException:
        if old is not None:
            old.rename(target)  # put the previous copy back rather than leave none
        raise
    if old is not None:
        if old.is_symlink():
            old.unlink()
        else:
            shutil.rmtree(old)


def _choose(option: str) -> str:
    return f"choose another folder with {option}, or fix the folder's permissions"


def same_tree(a: Path, b: Path) -> bool:
    """Both folders hold the same files with the same contents and permission bits (caches ignored)."""
    return _listing(a) == _listing(b)


def _listing(folder: Path) -> dict[str, tuple[bytes, int]] | None:
    if not folder.is_dir() or folder.is_symlink():
        return None
    return {
        path.relative_to(folder).as_posix(): (path.read_bytes(), path.stat().st_mode & 0o777)
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
