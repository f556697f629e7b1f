"""What ``POST /jobs`` is asked to do, sent as query parameters (options only: never paths, never the token)."""

from __future__ import annotations

import math
import re
import urllib.parse
from dataclasses import dataclass

# The catalog's id rule from docs/server-api.md; checked here so a typo fails before megabytes are uploaded.
_MODEL_ID = re.compile(r"[a-z0-9][a-z0-9._+-]{0,63}")
ALPHA_MODES = ("resize", "model")


@dataclass(frozen=True)
class SubmitOptions:
    """Options of one upscale job.

    ``model``: a catalog id (see ``Client.models()``); ``scale``: the output factor, None for the model's own;
    ``reference``: ``tta``, ``tta:2|4|8``, ``model:NAME`` or ``lanczos`` (as ``ldl upscale --reference``);
    ``threshold``/``softness`` in [0, 1]: where and how wide generated detail fades out in the blend;
    ``alpha``: ``resize`` (bicubic) or ``model``. Raises ``ValueError`` with the rule that was broken.
    """

    model: str
    scale: int | None = None
    reference: str = "tta:8"
    threshold: float = 0.3
    softness: float = 0.4
    alpha: str = "resize"

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

    def query(self) -> str:
        """The URL query string, e.g. ``model=x4&reference=tta%3A8&threshold=0.3&softness=0.4&alpha=resize``."""
        pairs = [("model", self.model)]
        if self.scale is not None:
            pairs.append(("scale", str(self.scale)))
        pairs += [
            ("reference", self.reference),
            ("threshold", repr(float(self.threshold))),
            ("softness", repr(float(self.softness))),
            ("alpha", self.alpha),
        ]
        return urllib.parse.urlencode(pairs)
