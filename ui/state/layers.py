"""The layers of one finished job, as arrays the app edits and shows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ldl_client import RawImage
from ui.state.raw_arrays import raw_to_array


@dataclass(frozen=True)
class ResultLayers:
    """``detail`` and ``reference``: H×W×C colour (C = 1 or 3) of the job's dtype; ``alpha``: H×W of that dtype or
    None; ``artifact_map``: H×W float32 in [0, 1] (1 = likely artifact)."""

    job_id: str
    detail: np.ndarray
    reference: np.ndarray
    alpha: np.ndarray | None
    artifact_map: np.ndarray

    @property
    def height(self) -> int:
        return int(self.detail.shape[0])

    @property
    def width(self) -> int:
        return int(self.detail.shape[1])

    @classmethod
    def from_raw(cls, job_id: str, detail: RawImage, reference: RawImage, artifact_map: RawImage) -> ResultLayers:
        """Split the raw layers into colour and alpha. Raises ``ValueError`` when their sizes disagree."""
        detail_pixels, reference_pixels = raw_to_array(detail), raw_to_array(reference)
        map_pixels = raw_to_array(artifact_map)[:, :, 0]
        if detail_pixels.shape != reference_pixels.shape or map_pixels.shape != detail_pixels.shape[:2]:
            raise ValueError(
                f"the job's layers differ in size: detail {detail_pixels.shape}, reference {reference_pixels.shape}, "
                f"map {map_pixels.shape}"
            )
        detail_pixels, alpha = split_alpha(detail_pixels)
        reference_pixels, _ = split_alpha(reference_pixels)
        clean_map = np.clip(np.nan_to_num(map_pixels.astype(np.float32), nan=1.0), 0.0, 1.0)
        return cls(job_id, detail_pixels, reference_pixels, alpha, clean_map)


def split_alpha(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """H×W×C pixels as (colour H×W×1 or H×W×3, alpha H×W or None): RGBA carries alpha in its fourth channel."""
    if pixels.shape[2] == 4:
        return np.ascontiguousarray(pixels[:, :, :3]), np.ascontiguousarray(pixels[:, :, 3])
    return pixels, None
