"""Decoded sample arrays brought to the product's shapes and dtypes: H×W×C colour + H×W alpha, uint8/uint16/float32."""

from __future__ import annotations

import numpy as np

_UINT16_MAX = 65535


def to_supported_dtype(samples: np.ndarray) -> np.ndarray:
    """Return ``samples`` as uint8, uint16 or float32 in native byte order, keeping every value.

    bool becomes 0/255 uint8. Other integer types become uint16 when every value fits in 0–65535, else float32
    divided by 65535 (so a value means the same brightness on either path; float32 is exact below 2**24).
    float16/float64 become float32. The choice for wider integers depends on the values because their type alone
    cannot say how many bits are used; 8- and 16-bit files are never judged by their values.
    """
    if samples.dtype == np.bool_:
        return samples.astype(np.uint8) * np.uint8(255)
    if samples.dtype.kind == "f":
        return samples.astype(np.float32, copy=False)
    if samples.dtype.kind in "ui":
        if samples.dtype.itemsize == 1 and samples.dtype.kind == "u":
            return samples
        if samples.dtype.itemsize == 2 and samples.dtype.kind == "u":
            return samples.astype(np.uint16, copy=False)
        if samples.size == 0 or (int(samples.min()) >= 0 and int(samples.max()) <= _UINT16_MAX):
            return samples.astype(np.uint16)
        return (samples.astype(np.float64) / _UINT16_MAX).astype(np.float32)
    raise ValueError(f"unsupported sample type {samples.dtype}")


def split_alpha(samples: np.ndarray, has_alpha: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Split H×W or H×W×N samples into H×W×C colour (C = 1 or 3) and an H×W alpha plane (the last channel)."""
    if samples.ndim == 2:
        samples = samples[:, :, np.newaxis]
    if has_alpha:
        colour, alpha = samples[:, :, :-1], samples[:, :, -1]
        return np.ascontiguousarray(colour), np.ascontiguousarray(alpha)
    return np.ascontiguousarray(samples), None


def unpremultiply(colour: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Colour stored multiplied by alpha (TIFF "associated alpha") back to straight colour, same dtype."""
    if colour.dtype.kind == "f":
        safe = np.where(alpha > 0, alpha, 1.0)[:, :, np.newaxis]
        return np.where(alpha[:, :, np.newaxis] > 0, colour / safe, 0.0).astype(colour.dtype)
    top = float(np.iinfo(colour.dtype).max)
    wide_alpha = alpha.astype(np.float64)[:, :, np.newaxis]
    straight = np.where(wide_alpha > 0, colour * (top / np.maximum(wide_alpha, 1.0)), 0.0)
    return np.clip(np.rint(straight), 0, top).astype(colour.dtype)


def to_uint8(samples: np.ndarray) -> np.ndarray:
    """8-bit samples, rounded (65535 → 255, 32896 → 128); float is clipped to 0–1 first (NaN → 0)."""
    if samples.dtype == np.uint8:
        return samples
    if samples.dtype == np.uint16:
        # (v + 128) // 257 equals round(v / 257) for every 16-bit v, in integers.
        return ((samples.astype(np.uint32) + 128) // 257).astype(np.uint8)
    return np.rint(np.clip(np.nan_to_num(samples, nan=0.0), 0.0, 1.0) * 255.0).astype(np.uint8)


def float_to_uint16(samples: np.ndarray) -> np.ndarray:
    """16-bit samples from float ones: clipped to 0–1 (NaN → 0), times 65535, rounded."""
    return np.rint(np.clip(np.nan_to_num(samples, nan=0.0), 0.0, 1.0) * 65535.0).astype(np.uint16)
