"""A job's input as received: the submitted bytes, stored unchanged with what their header said, and decoded only
by the worker when the job runs.

The API process never decodes an image: a small file can hold a huge image (a PNG of 20 KB decoded to 1.4 GB),
and decoding it there would grow the server for good. The header is checked at submit (``submission``); a file
whose pixel data turns out damaged fails its job with ``bad_image`` in the worker.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from ldl_backend.artifacts.job_memory import ImageShape
from ldl_backend.errors import ImageFileError
from ldl_backend.imageio import ImageData, read_image
from ldl_backend.server import raw_image
from ldl_client.raw_image import RawHeader

_BODY = "upload.bin"
_HEADER = "header.json"
# What messages call the stored file (its own name means nothing to the user).
_NAME = "the uploaded image"


@dataclass(frozen=True)
class Upload:
    """A submitted image, checked from its header, not decoded. ``raw``: the header of an
    ``application/x-ldl-raw`` body; None for an encoded file (PNG, TIFF, JPEG, WebP)."""

    body: bytes
    shape: ImageShape
    raw: RawHeader | None = None


def write_input(folder: Path, upload: Upload) -> None:
    """Store ``upload`` in ``folder``, which appears whole or not at all (written beside, then renamed)."""
    partial = folder.with_name(f".{folder.name}.{os.getpid()}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        (partial / _BODY).write_bytes(upload.body)
        header = {"pixels": upload.shape.pixels, "raw": None if upload.raw is None else upload.raw.headers()}
        (partial / _HEADER).write_text(json.dumps(header))
        partial.rename(folder)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def read_input(folder: Path) -> ImageData:
    """Decode the stored input. Raises ``ImageFileError`` (``bad_image``) for pixel data that does not decode, and
    ``ImageTooLargeError`` should the file no longer be the one checked at submit."""
    header = json.loads((folder / _HEADER).read_text())
    body = folder / _BODY
    if header["raw"] is not None:
        return raw_image.decode_image(RawHeader.from_headers(header["raw"]), body.read_bytes())
    try:
        # The budget is the checked pixel count: the decoded image is exactly the one the budgets allowed.
        return read_image(body, max_pixels=int(header["pixels"]))
    except ImageFileError as error:
        raise type(error)(error.message.replace(str(body), _NAME).replace(_BODY, _NAME), error.hint) from error


def input_bytes(folder: Path) -> int:
    """Bytes the stored input takes on disk."""
    return sum(item.stat().st_size for item in folder.iterdir() if item.is_file()) if folder.is_dir() else 0
