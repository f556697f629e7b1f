"""Download a file with a checksum: verified while streaming, written atomically, nothing left on failure."""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from ldl_backend.errors import ChecksumMismatchError, DownloadError
from ldl_backend.storage import atomic_output

ProgressCallback = Callable[[int, int | None], None]
_CHUNK = 1 << 20
_TIMEOUT_SECONDS = 60


def download_verified(
    url: str,
    destination: Path,
    sha256: str,
    *,
    max_bytes: int = 4 << 30,
    progress: ProgressCallback | None = None,
) -> None:
    """Fetch ``url`` into ``destination`` only if its SHA-256 equals ``sha256``.

    ``progress(received, total)`` is called per chunk (total is None when the server gives no length).
    Raises ``DownloadError`` (network, HTTP status, size limit) or ``ChecksumMismatchError``; in every failure
    ``destination`` is left as it was.
    """
    if not url.startswith(("https://", "http://127.0.0.1", "http://localhost", "file:")):
        raise DownloadError(f"refusing to download from {url}", "model addresses must use https")
    digest = hashlib.sha256()
    try:
        with (
            urllib.request.urlopen(url, timeout=_TIMEOUT_SECONDS) as response,
            atomic_output(destination) as out,
        ):
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            received = 0
            while chunk := response.read(_CHUNK):
                received += len(chunk)
                if received > max_bytes:
                    raise DownloadError(f"{url} is larger than {max_bytes} bytes", "check the address")
                digest.update(chunk)
                out.write(chunk)
                if progress is not None:
                    progress(received, total)
            if digest.hexdigest() != sha256.lower():
                raise ChecksumMismatchError(
                    f"the file from {url} has sha256 {digest.hexdigest()}, expected {sha256.lower()}",
                    "the download was corrupted or the file changed upstream; nothing was saved, try again",
                )
    except urllib.error.HTTPError as error:
        raise DownloadError(f"{url} answered HTTP {error.code}", "check the address or try later") from error
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        reason = getattr(error, "reason", error)
        raise DownloadError(f"could not download {url}: {reason}", "check the network connection") from error
