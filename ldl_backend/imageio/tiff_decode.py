"""TIFF header and pixels through tifffile, which keeps 16-bit and float samples that Pillow cannot.

Gray and RGB (with or without alpha) in 8/16/32-bit integer or float go through tifffile. When tifffile lacks a
codec (LZW, JPEG… need the optional imagecodecs package) OpenCV's libtiff decodes images without alpha; libtiff
premultiplies 8-bit alpha, so those go to Pillow instead. Layouts tifffile leaves to the caller (palette, CMYK,
bilevel, YCbCr, Lab) are marked ``needs_pillow``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import cv2
import numpy as np
import tifffile

from ldl_backend.imageio.samples import split_alpha, to_supported_dtype, unpremultiply

_ORIENTATION, _XRES, _YRES, _RES_UNIT, _ICC = 274, 282, 283, 296, 34675
_INCH, _CENTIMETRE = 2, 3
_LONG = 4  # TIFF field type
_PHOTOMETRIC = tifffile.PHOTOMETRIC
_ALPHA_KINDS = (tifffile.EXTRASAMPLE.ASSOCALPHA, tifffile.EXTRASAMPLE.UNASSALPHA)
_DTYPE_SUFFIX = {"uint8": "", "uint16": ";16", "uint32": ";32", "int8": ";8S", "int16": ";16S", "int32": ";32S"}
_OTHER_LAYOUTS: dict[int, tuple[str, int]] = {
    _PHOTOMETRIC.PALETTE: ("P", 3),
    _PHOTOMETRIC.SEPARATED: ("CMYK", 3),
    _PHOTOMETRIC.MINISWHITE: ("L (min-is-white)", 1),
    _PHOTOMETRIC.YCBCR: ("YCbCr", 3),
    _PHOTOMETRIC.CIELAB: ("LAB", 3),
}


@dataclass(frozen=True)
class TiffHeader:
    """The first page's layout. ``width``/``height`` as stored (before orientation). ``channels``: colour
    channels we return (1 or 3). ``needs_pillow``: a layout only Pillow converts. ``orientation_offset`` and
    ``orientation_struct``: where and how the orientation value is stored (to neutralise it for OpenCV), or None.
    """

    width: int
    height: int
    mode: str
    bit_depth: int
    channels: int
    has_alpha: bool
    premultiplied: bool
    needs_pillow: bool
    orientation: int
    orientation_offset: int | None
    orientation_struct: str
    icc_profile: bytes | None
    dpi: tuple[float, float] | None


def read_tiff_header(tiff: tifffile.TiffFile) -> TiffHeader:
    page = tiff.pages.first
    photometric = page.photometric
    samples = page.samplesperpixel
    depth = _bit_depth(page.bitspersample)
    is_gray = photometric == _PHOTOMETRIC.MINISBLACK and depth > 1
    simple = (is_gray or photometric == _PHOTOMETRIC.RGB) and page.dtype is not None and depth in (8, 16, 32, 64)
    if simple:
        channels = 1 if is_gray else 3
        extras = page.extrasamples[: max(0, samples - channels)]
        has_alpha = bool(extras) and extras[0] in _ALPHA_KINDS
        premultiplied = has_alpha and extras[0] == tifffile.EXTRASAMPLE.ASSOCALPHA
        dtype = np.dtype(page.dtype)
        suffix = f";{depth}F" if dtype.kind == "f" else _DTYPE_SUFFIX.get(dtype.name, f";{dtype.name}")
        base = ("LA" if has_alpha else "L") if is_gray else ("RGBA" if has_alpha else "RGB")
        mode = base + suffix + (" (premultiplied)" if premultiplied else "")
    else:
        if depth == 1 and photometric in (_PHOTOMETRIC.MINISBLACK, _PHOTOMETRIC.MINISWHITE):
            label, channels = "1", 1
        else:
            label, channels = _OTHER_LAYOUTS.get(int(photometric), (f"photometric {int(photometric)}", 3))
        has_alpha = any(kind in _ALPHA_KINDS for kind in page.extrasamples)
        premultiplied = False
        mode = label + (f";{depth}" if depth not in (1, 8) else "")
    orientation_tag = page.tags.get(_ORIENTATION)
    orientation = int(orientation_tag.value) if orientation_tag is not None else 1
    icc_tag = page.tags.get(_ICC)
    return TiffHeader(
        width=int(page.imagewidth),
        height=int(page.imagelength),
        mode=mode,
        bit_depth=int(depth),
        channels=channels,
        has_alpha=has_alpha,
        premultiplied=premultiplied,
        needs_pillow=not simple,
        orientation=orientation if 1 <= orientation <= 8 else 1,
        orientation_offset=orientation_tag.valueoffset if orientation_tag is not None else None,
        orientation_struct=tiff.byteorder + ("I" if _is_long(orientation_tag) else "H"),
        icc_profile=bytes(icc_tag.value) if icc_tag is not None and icc_tag.value else None,
        dpi=_dpi(page.tags),
    )


def _bit_depth(value: int | tuple[int, ...]) -> int:
    """The one bit depth of all samples. tifffile gives a tuple when the file lists different ones per sample
    (seen in damaged files), which no decoder here reads: ValueError, reported as an unreadable TIFF."""
    depths = set(value) if isinstance(value, tuple) else {value}
    if len(depths) != 1:
        raise ValueError(f"its samples have different bit depths {value}")
    return int(depths.pop())


def decode_tiff_pixels(tiff: tifffile.TiffFile, header: TiffHeader) -> tuple[np.ndarray, np.ndarray | None]:
    """Colour H×W×C and alpha of a simple layout, as stored (orientation not applied). Raises the decoders' errors."""
    page = tiff.pages.first
    samples = np.asarray(page.asarray())
    count = page.samplesperpixel
    if page.planarconfig == tifffile.PLANARCONFIG.SEPARATE and count > 1:
        samples = np.moveaxis(samples.reshape(count, header.height, header.width), 0, -1)
    else:
        samples = samples.reshape(header.height, header.width, count)
    keep = header.channels + (1 if header.has_alpha else 0)
    return _finish(samples[:, :, :keep], header)


def without_orientation(data: bytes, header: TiffHeader) -> bytes:
    """``data`` with the orientation tag's value set to 1.

    OpenCV (5.0) and Pillow (13) apply a TIFF's orientation while decoding, tifffile does not, and other versions
    may differ; handing the fallback decoders an upright-tagged copy lets the caller apply it once, on every path.
    """
    if header.orientation_offset is None or header.orientation == 1:
        return data
    patched = bytearray(data)
    struct.pack_into(header.orientation_struct, patched, header.orientation_offset, 1)
    return bytes(patched)


def decode_tiff_with_opencv(data: bytes, header: TiffHeader) -> tuple[np.ndarray, np.ndarray | None]:
    """Pixels of a simple layout without alpha through OpenCV's libtiff, for codecs tifffile lacks.

    Raises ValueError when OpenCV fails or disagrees with the header.
    """
    if header.has_alpha:
        raise ValueError("OpenCV premultiplies alpha; not used for TIFFs with transparency")
    decoded = cv2.imdecode(np.frombuffer(without_orientation(data, header), np.uint8), cv2.IMREAD_UNCHANGED)
    if decoded is None:
        raise ValueError("OpenCV could not decode the TIFF either")
    if decoded.ndim == 2:
        decoded = decoded[:, :, np.newaxis]
    if decoded.shape != (header.height, header.width, header.channels):
        raise ValueError(f"OpenCV decoded {decoded.shape}, the header says {header.height}×{header.width}")
    if header.channels == 3:
        decoded = decoded[:, :, ::-1]
    return _finish(decoded, header)


def _finish(samples: np.ndarray, header: TiffHeader) -> tuple[np.ndarray, np.ndarray | None]:
    colour, alpha = split_alpha(to_supported_dtype(samples), header.has_alpha)
    if alpha is not None and header.premultiplied:
        colour = unpremultiply(colour, alpha)
    return colour, alpha


def _is_long(tag: tifffile.TiffTag | None) -> bool:
    return tag is not None and tag.dtype == _LONG


def _dpi(tags: tifffile.TiffTags) -> tuple[float, float] | None:
    x_tag, y_tag, unit_tag = tags.get(_XRES), tags.get(_YRES), tags.get(_RES_UNIT)
    unit = int(unit_tag.value) if unit_tag is not None else _INCH
    if x_tag is None or y_tag is None or unit not in (_INCH, _CENTIMETRE):
        return None
    try:
        x, y = (_rational(tag.value) for tag in (x_tag, y_tag))
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    scale = 2.54 if unit == _CENTIMETRE else 1.0
    return (x * scale, y * scale) if x > 0 and y > 0 else None


def _rational(value: object) -> float:
    if isinstance(value, tuple) and len(value) == 2:
        numerator, denominator = value
        return float(numerator) / float(denominator)
    if isinstance(value, (int, float)):
        return float(value)
    raise ValueError(f"not a resolution: {value!r}")
