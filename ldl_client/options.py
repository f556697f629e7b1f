"""What ``POST /jobs`` is asked to do, sent as query parameters (options only: never paths, never the token)."""

from __future__ import annotations

import math
import re
import urllib.parse
from dataclasses import dataclass

# The catalog's id rule from docs/server-api.md; checked here so a typo fails before megabytes are uploaded.
_MODEL_ID = re.compile(r"[a-z0-9][a-z0-9._+-]{0,63}")
ALPHA_MODES = ("resize", "model")
# The device forms the server takes; which of them this machine has is ``Client.health().devices``.
_DEVICE = re.compile(r"auto|cpu|mps|cuda(?::(?:0|[1-9][0-9]?))?")
PRECISIONS = ("auto", "fp32", "fp16", "bf16")
# Tile sides (input pixels) the server takes; a model with a wide tile overlap needs more than the minimum.
MIN_TILE = 16
MAX_TILE = 8192


@dataclass(frozen=True)
class SubmitOptions:
    """Options of one upscale job.

    ``model``: a catalog id (see ``Client.models()``); ``scale``: the output factor, None for the model's own;
    ``reference``: ``tta``, ``tta:2|4|8``, ``model:NAME`` or ``lanczos`` (as ``ldl upscale --reference``);
    ``threshold``/``softness`` in [0, 1]: where and how wide generated detail fades out in the blend;
    ``alpha``: ``resize`` (bicubic) or ``model``.
    Advanced: ``device``: ``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps`` (``Client.health().devices`` lists
    this machine's); ``precision``: one of ``PRECISIONS`` (``auto``: the fastest the device and model support);
    ``tile``: the tile side in input pixels, ``MIN_TILE`` to ``MAX_TILE``, None for automatic (from free memory).
    Raises ``ValueError`` with the rule that was broken.
    """

    model: str
    scale: int | None = None
    reference: str = "tta:8"
    threshold: float = 0.3
    softness: float = 0.4
    alpha: str = "resize"
    device: str = "auto"
    precision: str = "auto"
    tile: int | None = None

    def __post_init__(self) -> None:
        if not _MODEL_ID.fullmatch(self.model):
            raise ValueError(
                f"model {self.model!r} is not a catalog id; ids are lowercase letters, digits and . _ + - "
                "(up to 64), see Client.models()"
            )
        if self.scale is not None and (isinstance(self.scale, bool) or self.scale < 1):
            raise ValueError(f"scale {self.scale!r} must be a positive whole number, or None for the model's own")
        for name, value in (("threshold", self.threshold), ("softness", self.softness)):
            if not (math.isfinite(value) and 0.0 <= value <= 1.0):
                raise ValueError(f"{name} {value!r} is outside [0, 1]")
        if not self.reference or any(char.isspace() for char in self.reference):
            raise ValueError(f"reference {self.reference!r} must be tta, tta:N, model:NAME or lanczos")
        if self.alpha not in ALPHA_MODES:
            raise ValueError(f"alpha {self.alpha!r} must be one of {', '.join(ALPHA_MODES)}")
        if not isinstance(self.device, str) or not _DEVICE.fullmatch(self.device):
            raise ValueError(
                f"device {self.device!r} must be auto, cpu, cuda, cuda:N or mps (see Client.health().devices)"
            )
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision {self.precision!r} must be one of {', '.join(PRECISIONS)}")
        if self.tile is not None and (
            isinstance(self.tile, bool) or not isinstance(self.tile, int) or not MIN_TILE <= self.tile <= MAX_TILE
        ):
            raise ValueError(
                f"tile {self.tile!r} must be a whole number of pixels from {MIN_TILE} to {MAX_TILE}, or None for auto"
            )

    def query(self) -> str:
        """The URL query string, e.g. ``model=x4&reference=tta%3A8&threshold=0.3&softness=0.4&alpha=resize``;
        ``device``, ``precision`` and ``tile`` only when they are not automatic (older servers refuse them)."""
        pairs = [("model", self.model)]
        if self.scale is not None:
            pairs.append(("scale", str(self.scale)))
        pairs += [
            ("reference", self.reference),
            ("threshold", repr(float(self.threshold))),
            ("softness", repr(float(self.softness))),
            ("alpha", self.alpha),
        ]
        if self.device != "auto":
            pairs.append(("device", self.device))
        if self.precision != "auto":
            pairs.append(("precision", self.precision))
        if self.tile is not None:
            pairs.append(("tile", str(self.tile)))
        return urllib.parse.urlencode(pairs)
