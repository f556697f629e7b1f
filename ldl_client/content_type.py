"""The ``Content-Type`` of an image file, told from its first bytes rather than trusted from a file name."""

from __future__ import annotations

from .errors import UnsupportedImageError

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"II+\x00", "image/tiff"),  # BigTIFF
    (b"MM\x00+", "image/tiff"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


def sniff_content_type(data: bytes | bytearray | memoryview) -> str:
    """``image/png``, ``image/tiff``, ``image/jpeg`` or ``image/webp``; raises ``UnsupportedImageError`` otherwise."""
    head = bytes(data[:16])
    for signature, content_type in _SIGNATURES:
        if head.startswith(signature):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    raise UnsupportedImageError(
        f"the image is not a PNG, TIFF, JPEG or WebP file (it starts with {head[:8]!r})",
        "save the image in one of those formats, or send the pixels as a RawImage",
    )
