"""A job submission: the query parameters (options only) and the image in the body."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

from ldl_backend.errors import CatalogError, ImageFileError
from ldl_backend.imageio import ImageData, read_image
from ldl_backend.imageio.formats import sniff_format
from ldl_backend.models.catalog import Catalog, check_model_name
from ldl_backend.server import raw_image
from ldl_backend.server.errors import ApiError, bad_request, unknown_model
from ldl_client.options import OptionError, ReferenceKind, SubmitOptions

ENCODED_TYPES = ("image/png", "image/tiff", "image/jpeg", "image/webp")


def parse_options(query: Sequence[tuple[str, str]], catalog: Catalog) -> SubmitOptions:
    """The query parameters of ``POST /jobs`` as the client's options; 400 for a malformed value, 404 for a model
    (or a reference model) that is not in the catalog."""
    try:
        options = SubmitOptions.from_query(query)
    except OptionError as error:
        if error.option == "model":
            model = next((value for key, value in query if key == "model"), "")
            raise unknown_model(model, error.hint) from error
        raise bad_request(error.message, error.hint) from error
    _model(options.model, catalog)
    reference = options.reference
    if reference.kind is ReferenceKind.MODEL and reference.model_name is not None:
        _model(reference.model_name, catalog)
    return options


def check_device(device: str, devices: Sequence[str]) -> None:
    """400 unless ``device`` (a valid ``device`` option) is ``auto`` or one of ``devices`` (``cuda``: any GPU)."""
    if device == "auto" or device in devices or (device == "cuda" and any(d.startswith("cuda:") for d in devices)):
        return
    raise bad_request(f"device {device!r} is not available on this machine", f"use auto or one of {', '.join(devices)}")


def _model(name: str, catalog: Catalog) -> str:
    try:
        check_model_name(name)
    except CatalogError as error:
        raise unknown_model(name, error.hint) from error
    if name not in catalog:
        raise unknown_model(name)
    return name


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def decode_body(
    body: bytes, content_type: str | None, headers: Mapping[str, str], scratch: Path, max_pixels: int
) -> ImageData:
    """The submitted image. 400 empty body, 415 unsupported type or format, 422 damaged or over the pixel budget."""
    kind = media_type(content_type)
    if kind == raw_image.RAW_TYPE:
        return raw_image.decode_image(raw_image.parse_header(headers, max_pixels), body)
    if kind not in ENCODED_TYPES:
        raise ApiError(
            415,
            "unsupported_image",
            f"unsupported Content-Type {kind or '(none)'!r}",
            f"send the image as {', '.join(ENCODED_TYPES)} or {raw_image.RAW_TYPE}",
        )
    if not body:
        raise bad_request("the request body is empty", "send the image itself as the body")
    try:
        sniff_format(body[:32], "the uploaded image")
    except ImageFileError as error:
        raise ApiError(415, "unsupported_image", error.message, error.hint) from error
    scratch.mkdir(parents=True, exist_ok=True)
    upload = scratch / f"{uuid.uuid4().hex}.upload"
    try:
        upload.write_bytes(body)
        return read_image(upload, max_pixels)
    except ImageFileError as error:
        raise ApiError(
            422 if error.code in ("bad_image", "image_too_large") else 400,
            error.code,
            error.message.replace(upload.name, "the uploaded image"),
            error.hint,
        ) from error
    finally:
        upload.unlink(missing_ok=True)
