"""JPEG compression artifacts by a real encode and decode through OpenCV (libjpeg).

Real-ESRGAN trains with DiffJPEG, a differentiable re-implementation; LR synthesis needs no gradient, so the
real codec is used here. Its default 4:2:0 chroma subsampling matches DiffJPEG's.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import torch


def jpeg_roundtrip(images: torch.Tensor, qualities: Sequence[int]) -> torch.Tensor:
    """Compress each image of an N×3×H×W RGB float batch in [0, 1] at its quality (1–100) and decode it.

    Values are clamped and rounded to 8 bits first (the codec takes uint8), so the result is on 8-bit levels.
    Returns a float tensor of the same shape, dtype and device.
    """
    if len(qualities) != images.shape[0]:
        raise ValueError(f"{len(qualities)} JPEG qualities for a batch of {images.shape[0]}")
    pixels = torch.clamp((images.detach() * 255.0).round(), 0, 255).to(torch.uint8).cpu().numpy()
    decoded = np.empty_like(pixels)
    for i, quality in enumerate(qualities):
        # OpenCV expects BGR; the channel order matters because the YCbCr transform weighs channels differently.
        bgr = np.ascontiguousarray(pixels[i, ::-1].transpose(1, 2, 0))
        ok, encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
        if not ok:
            raise RuntimeError(f"OpenCV could not JPEG-encode a {bgr.shape} image")
        bgr = cv2.imdecode(encoded, cv2.IMREAD_COLOR)
        if bgr is None:
            raise RuntimeError("OpenCV could not decode the JPEG it had just encoded")
        decoded[i] = bgr.transpose(2, 0, 1)[::-1]
    return torch.from_numpy(decoded).to(device=images.device, dtype=images.dtype) / 255.0
