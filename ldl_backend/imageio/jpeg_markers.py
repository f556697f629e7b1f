"""JPEG marker walk, only to tell whether a file is complete.

libjpeg (through Pillow) accepts a JPEG whose end-of-image marker was cut off as long as the scan data it needed
was there, so a file that lost its last bytes would pass as whole. Entropy-coded data never contains FF D9 (a data
byte FF is always followed by 00 or a restart marker), so after the first start-of-scan any FF D9 is the real end.
"""

from __future__ import annotations

_START_OF_SCAN = 0xDA
_END_OF_IMAGE = b"\xff\xd9"
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM and restart markers carry no length


def has_end_of_image(data: bytes) -> bool:
    """Whether ``data`` (starting with SOI) holds a start-of-scan followed somewhere by the end-of-image marker.

    Segments before the first scan are skipped by their lengths, so an EXIF thumbnail's own markers cannot
    be mistaken for the main image's.
    """
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return False
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker in _STANDALONE:
            position += 2
            continue
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        if marker == _START_OF_SCAN:
            return data.find(_END_OF_IMAGE, position + 2 + length) != -1
        position += 2 + length
    return False
