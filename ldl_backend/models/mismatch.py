"""The signal a per-architecture detector gives when a state dict is not its architecture."""

from __future__ import annotations

from collections.abc import Sequence


class DetectionMismatch(Exception):  # noqa: N818 - a signal between detectors, never shown to users as is
    """Raised by ``detect_*`` functions; the registry turns the best near-miss into ``UnknownArchitectureError``.

    ``missing_keys``: keys the architecture needs that the state dict lacks. ``score``: fraction of the
    architecture's signature found (0..1), used to name the closest architecture. ``detail``: a shape or value
    that did not fit, in words.
    """

    def __init__(self, missing_keys: Sequence[str] = (), score: float = 0.0, detail: str = "") -> None:
        super().__init__(detail or f"missing keys: {', '.join(missing_keys)}")
        self.missing_keys = tuple(missing_keys)
        self.score = score
        self.detail = detail
