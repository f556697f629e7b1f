"""Atomic file writes: a reader sees the old file or the whole new one, never a partial file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


def _plain_file_mode() -> int:
    # Read once at import (single-threaded): os.umask can only be read by setting it, which would race with
    # threads creating files later.
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


# mkstemp creates files 0600; results get the permissions a plain open() would give them.
_PLAIN_FILE_MODE = _plain_file_mode()


@contextlib.contextmanager
def atomic_output(path: Path, mode: int | None = None) -> Iterator[BinaryIO]:
    """Yield a temporary file beside ``path``; on success it is synced and renamed over ``path``, with ``mode``
    (None: what a plain ``open()`` gives, as this process's umask was at import).

    On any exception the temporary file is removed and ``path`` is left as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        os.fchmod(descriptor, _PLAIN_FILE_MODE if mode is None else mode)
        with os.fdopen(descriptor, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_atomically(path: Path, payload: bytes) -> None:
    with atomic_output(path) as stream:
        stream.write(payload)
