"""numpy arrays ↔ the client library's ``RawImage`` (the API's uncompressed pixels)."""

from __future__ import annotations

import numpy as np

from ldl_client import RawImage

_DTYPES = {"uint8": np.dtype("<u1"), "uint16": np.dtype("<u2"), "float32": np.dtype("<f4")}


def raw_to_array(raw: RawImage) -> np.ndarray:
    """H×W×C array in the machine's byte order (C = channels; 1 for map and mask layers)."""
    samples = np.frombuffer(raw.data, dtype=_DTYPES[raw.dtype]).reshape(raw.height, raw.width, raw.channels)
    return samples.astype(samples.dtype.newbyteorder("="), copy=True)


def array_to_raw(array: np.ndarray) -> RawImage:
    """A RawImage of an H×W or H×W×C array (C = 1, 3 or 4) of uint8, uint16 or float32."""
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.dtype.name not in _DTYPES:
        raise ValueError(f"cannot send a {array.shape} {array.dtype} array; use H×W×C uint8, uint16 or float32")
    dtype = array.dtype.name
    data = np.ascontiguousarray(array, dtype=_DTYPES[dtype]).tobytes()
    height, width, channels = array.shape
    return RawImage(width, height, channels, dtype, data)
