"""A job submission: the query parameters (options only) and the image in the body."""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

from ldl_backend.artifacts.estimate import DEFAULT_REFERENCE
from ldl_backend.artifacts.references import ReferenceKind, ReferenceSource
from ldl_backend.artifacts.selective import DEFAULT_SOFTNESS, DEFAULT_THRESHOLD
from ldl_backend.engine.device import Precision
from ldl_backend.engine.pipeline import AlphaMode
from ldl_backend.errors import CatalogError, ImageFileError
from ldl_backend.imageio import ImageData, read_image
from ldl_backend.imageio.formats import sniff_format
from ldl_backend.models.catalog import DEFAULT_MODEL, Catalog, check_model_name
from ldl_backend.server import raw_image
from ldl_backend.server.errors import ApiError, bad_request, unknown_model
from ldl_backend.server.jobs import JobOptions

ENCODED_TYPES = ("image/png", "image/tiff", "image/jpeg", "image/webp")
OPTION_NAMES = ("model", "scale", "reference", "threshold", "softness", "alpha", "device", "precision", "tile")
DEVICE_FORMS = "auto, cpu, cuda, cuda:N or mps"
DEVICE_PATTERN = r"auto|cpu|mps|cuda(?::(?:0|[1-9][0-9]?))?"
_DEVICE = re.compile(DEVICE_PATTERN)
PRECISIONS = ("auto", *(precision.value for precision in Precision))
# The smallest tile EngineOptions accepts (tests/server/test_options.py keeps the two equal); a model with a wide
# overlap needs more, which its job's error then says. The largest: one tile of 8192² input pixels already needs
# gigabytes of activations with the smallest model, and covers any image the default pixel budget lets in.
MIN_TILE = 16
MAX_TILE = 8192
_TILE = re.compile(r"[0-9]{1,5}")


def parse_options(query: Sequence[tuple[str, str]], catalog: Catalog) -> JobOptions:
    """Validate the query parameters of ``POST /jobs``; 400 for a malformed value, 404 for an unknown model."""
    values: dict[str, str] = {}
    for key, value in query:
        if key not in OPTION_NAMES:
            raise bad_request(f"unknown option {key!r}", f"the options are {', '.join(OPTION_NAMES)}")
        if key in values:
            raise bad_request(f"option {key!r} is given twice")
        values[key] = value
    model = _model(values.get("model", DEFAULT_MODEL), catalog)
    try:
        reference = ReferenceSource.parse(values.get("reference", str(DEFAULT_REFERENCE)))
    except ValueError as error:
        raise bad_request(str(error), "use tta, tta:2, tta:4, tta:8, model:NAME or lanczos") from error
    if reference.kind is ReferenceKind.MODEL and reference.model_name is not None:
        _model(reference.model_name, catalog)
    alpha = values.get("alpha", AlphaMode.RESIZE.value)
    if alpha not in {mode.value for mode in AlphaMode}:
        raise bad_request(f"alpha must be one of {', '.join(m.value for m in AlphaMode)}, not {alpha!r}")
    scale = None if "scale" not in values else _number(values, "scale", 1e-6, 16.0)
    device = values.get("device", "auto")
    if not _DEVICE.fullmatch(device):
        raise bad_request(f"unknown device {device!r}", f"use {DEVICE_FORMS}; GET /health lists this machine's devices")
    precision = values.get("precision", "auto")
    if precision not in PRECISIONS:
        raise bad_request(
            f"unknown precision {precision!r}",
            f"use one of {', '.join(PRECISIONS)} (auto: the fastest that the device and the model support)",
        )
    return JobOptions(
        model=model,
        reference=str(reference),
        threshold=_number(values, "threshold", 0.0, 1.0, DEFAULT_THRESHOLD),
        softness=_number(values, "softness", 0.0, 1.0, DEFAULT_SOFTNESS),
        alpha=alpha,
        scale=scale,
        device=device,
        precision=precision,
        tile=_tile(values.get("tile", "auto")),
    )


def check_device(device: str, devices: Sequence[str]) -> None:
    """400 unless ``device`` (a valid ``device`` option) is ``auto`` or one of ``devices`` (``cuda``: any GPU)."""
    if device == "auto" or device in devices or (device == "cuda" and any(d.startswith("cuda:") for d in devices)):
        return
    raise bad_request(f"device {device!r} is not available on this machine", f"use auto or one of {', '.join(devices)}")


def _tile(text: str) -> int | None:
    if text == "auto":
        return None
    tile = int(text) if _TILE.fullmatch(text) else None
    if tile is None or not MIN_TILE <= tile <= MAX_TILE:
        raise bad_request(
            f"tile must be auto or a whole number of input pixels from {MIN_TILE} to {MAX_TILE}, not {text!r}",
            f"use auto (sized from free memory) or {MIN_TILE} to {MAX_TILE}; smaller tiles need less memory",
        )
    return tile


def _model(name: str, catalog: Catalog) -> str:
    try:
        check_model_name(name)
    except CatalogError as error:
        raise unknown_model(name, error.hint) from error
    if name not in catalog:
        raise unknown_model(name)
    return name


def _number(values: Mapping[str, str], name: str, low: float, high: float, default: float = 0.0) -> float:
    text = values.get(name)
    if text is None:
        return default
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and low <= number <= high):
        raise bad_request(f"{name} must be a number between {low:g} and {high:g}, not {text!r}")
    return number


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
