"""A stored layer as the bytes a client asked for: PNG or TIFF in the job's depth (map and mask: 16-bit gray), or
raw pixels (map and mask: one float32 channel)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np

from ldl_backend.artifacts.overlay import map_to_uint16
from ldl_backend.errors import ImageFileError
from ldl_backend.imageio import ImageData, write_image
from ldl_backend.server import raw_image
from ldl_backend.server.errors import ApiError, bad_request
from ldl_backend.server.layer_cache import LayerCache
from ldl_client.layers import IMAGE_LAYERS, LAYER_NAMES

FORMATS = {"png": "image/png", "tiff": "image/tiff", "raw": raw_image.RAW_TYPE}


@dataclass(frozen=True)
class LayerFile:
    body: bytes
    media_type: str
    headers: dict[str, str]


def check_request(name: str, file_format: str) -> None:
    if name not in LAYER_NAMES:
        raise ApiError(404, "not_found", f"no layer named {name!r}", f"the layers are {', '.join(LAYER_NAMES)}")
    if file_format not in FORMATS:
        raise bad_request(f"format must be png, tiff or raw, not {file_format!r}")


def layer_file(cache: LayerCache, job_id: str, name: str, file_format: str) -> LayerFile:
    if file_format == "raw":
        if name in IMAGE_LAYERS:
            image = cache.image_layer(job_id, name)
            pixels = image.colour if image.alpha is None else np.concatenate([image.colour, image.alpha[..., None]], 2)
        else:
            pixels = cache.plane(job_id, name)
        body, header = raw_image.encode(pixels)
        return LayerFile(body, raw_image.RAW_TYPE, header.headers())
    picture = (
        cache.image_layer(job_id, name) if name in IMAGE_LAYERS else ImageData(map_to_uint16(cache.plane(job_id, name)))
    )
    cache.scratch.mkdir(parents=True, exist_ok=True)
    path = cache.scratch / f"{uuid.uuid4().hex}.{file_format}"
    try:
        write_image(path, picture, file_format=file_format, overwrite=True)
        return LayerFile(path.read_bytes(), FORMATS[file_format], {})
    except ImageFileError as error:
        raise bad_request(
            error.message.replace(path.name, f"the {name} layer"), "ask for format=tiff or raw"
        ) from error
    finally:
        path.unlink(missing_ok=True)
