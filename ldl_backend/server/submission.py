"""A job submission: the query parameters (options only) and the image in the body."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ldl_backend.artifacts.job_memory import ImageShape
from ldl_backend.errors import CatalogError, ImageFileError
from ldl_backend.imageio import check_image_bytes
from ldl_backend.imageio.formats import sniff_format
from ldl_backend.models.catalog import Catalog, check_model_name
from ldl_backend.server import raw_image
from ldl_backend.server.errors import ApiError, bad_request, unknown_model
from ldl_backend.server.job_inputs import Upload
from ldl_client.options import OptionError, ReferenceKind, SubmitOptions

ENCODED_TYPES = ("image/png", "image/tiff", "image/jpeg", "image/webp")
_SAMPLE_BYTES = {"uint8": 1, "uint16": 2, "float32": 4}


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
        detail_scale, reference_scale = catalog.get(options.model).scale, catalog.get(reference.model_name).scale
        if reference_scale != detail_scale:
            raise bad_request(
                f"the reference model {reference.model_name} upscales ×{reference_scale}, the model "
                f"{options.model} ×{detail_scale}",
                "choose a reference model of the same scale, or reference=tta",
            )
    return options


def model_names(options: SubmitOptions) -> tuple[str, ...]:
    """Every model a job runs: its model, and its reference model when the reference is ``model:NAME``."""
    reference = options.reference.model_name if options.reference.kind is ReferenceKind.MODEL else None
    return (options.model,) if reference is None else (options.model, reference)


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


def inspect_body(body: bytes, content_type: str | None, headers: Mapping[str, str], max_pixels: int) -> Upload:
    """The submitted image, checked from its header and never decoded (``job_inputs`` says why). 400 empty body or a
    raw body that does not match its headers, 415 unsupported type or format, 422 damaged, incomplete or over the
    pixel budget."""
    kind = media_type(content_type)
    if kind == raw_image.RAW_TYPE:
        header = raw_image.parse_header(headers, max_pixels)
        raw_image.check_body(header, body)
        colour = 1 if header.channels == 1 else 3
        shape = ImageShape(header.width, header.height, colour, header.channels == 4, _SAMPLE_BYTES[header.dtype])
        return Upload(body, shape, header)
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
    try:
        info = check_image_bytes(body, "the uploaded image", max_pixels)
    except ImageFileError as error:
        status = 422 if error.code in ("bad_image", "image_too_large") else 400
        raise ApiError(status, error.code, error.message, error.hint) from error
    # read_image's dtypes: 8 bits or fewer → uint8, 16 → uint16, anything wider → float32 (or uint16).
    sample_bytes = 1 if info.bit_depth <= 8 else 2 if info.bit_depth == 16 else 4
    return Upload(body, ImageShape(info.width, info.height, info.channels, info.has_alpha, sample_bytes))
