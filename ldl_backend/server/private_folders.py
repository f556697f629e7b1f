"""The server's folders hold the user's photos (cached inputs, result layers), the job table and the token: they are
the user's alone. Folders are 0700 and files 0600 (a folder too open but the user's own is tightened); a folder that
someone else owns or that others can write to is refused, as Jupyter refuses such a runtime folder, since anyone who
can write there could swap the files the server trusts. POSIX only: Windows has no such modes, and its per-user
folders (``%LOCALAPPDATA%``) are private already."""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from pathlib import Path

from ldl_backend.errors import LdlError

FOLDER_MODE = 0o700
FILE_MODE = 0o600
# Applied to the server process and its worker: anything they create without an explicit mode (SQLite's -wal and
# -shm files, layers, scratch files) is the user's alone.
PRIVATE_UMASK = 0o077


class InsecureFolderError(LdlError):
    code = "insecure_folder"


def ensure_private_folder(path: Path) -> None:
    """Create ``path`` (and its parents) with ``path`` itself 0700, or check an existing one: tightened to 0700 when it
    is this user's and nobody else can write to it, else ``InsecureFolderError`` with the command that fixes it."""
    path.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
    if sys.platform == "win32":
        return
    info = path.stat()
    if not stat.S_ISDIR(info.st_mode):
        raise InsecureFolderError(f"{path} is not a folder", "remove it, or point LDL_STUDIO_HOME elsewhere")
    if info.st_uid != os.geteuid():
        raise InsecureFolderError(
            f"{path} belongs to another user (uid {info.st_uid})",
            "remove it, or set LDL_STUDIO_HOME to a folder of your own",
        )
    mode = stat.S_IMODE(info.st_mode)
    if mode & stat.S_IWOTH:
        raise InsecureFolderError(
            f"{path} can be written by other users (mode {mode:o}); the server will not keep its files there",
            f"check nothing in it is foreign, then run: chmod 700 '{path}'",
        )
    if mode != FOLDER_MODE:
        path.chmod(FOLDER_MODE)


def tighten_files(root: Path) -> None:
    """Make every file under ``root`` 0600 and every folder 0700 (files an older version left readable by others)."""
    if sys.platform == "win32" or not root.is_dir():
        return
    for folder, folders, files in os.walk(root):
        for name in folders:
            _chmod(Path(folder, name), FOLDER_MODE)
        for name in files:
            _chmod(Path(folder, name), FILE_MODE)


def _chmod(path: Path, mode: int) -> None:
    with contextlib.suppress(OSError):  # vanished meanwhile (the worker deletes scratch files): nothing to protect
        info = path.lstat()
        if not stat.S_ISLNK(info.st_mode) and stat.S_IMODE(info.st_mode) & ~mode:
            path.chmod(mode)
