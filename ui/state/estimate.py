"""How long a job will take, from the model's kind at first and from the user's own finished jobs after that."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping

# Seconds per output megapixel per model pass on a two-core laptop CPU, measured here (docs/engineering-notes.md):
# RRDBNet ×4 runs at about 0.16 output MP/s in bf16; the compact SRVGG net is about ten times faster.
_PRIOR_SECONDS = {"rrdbnet": 6.5, "srvggnetcompact": 0.7, "swinir": 15.0}
_UNKNOWN_SECONDS = 8.0
# How much a new measurement moves the learned rate.
_LEARNING_WEIGHT = 0.5


def model_passes(reference: str) -> float:
    """Model passes the reference costs on top of the detail: TTA averages k transforms (the detail is one)."""
    if reference.startswith("tta"):
        tail = reference[3:].lstrip(":")
        count = int(tail) if tail.isdigit() else 8
        return float(max(1, count))
    if reference.startswith("model:"):
        return 2.0
    return 1.0  # lanczos: no extra model pass


def estimate_seconds(
    model: str, architecture: str, reference: str, output_pixels: int, learned: Mapping[str, float]
) -> float:
    """Seconds for a job whose output has ``output_pixels`` pixels."""
    rate = learned.get(model, _PRIOR_SECONDS.get(architecture.lower(), _UNKNOWN_SECONDS))
    return rate * model_passes(reference) * output_pixels / 1e6


def learn(model: str, reference: str, output_pixels: int, seconds: float, learned: MutableMapping[str, float]) -> None:
    """Fold a finished job's duration into ``learned`` (seconds per output megapixel per pass)."""
    if output_pixels <= 0 or seconds <= 0:
        return
    measured = seconds / (output_pixels / 1e6) / model_passes(reference)
    previous = learned.get(model)
    learned[model] = measured if previous is None else previous + _LEARNING_WEIGHT * (measured - previous)


def describe_seconds(seconds: float) -> str:
    if seconds < 1:
        return "under a second"
    if seconds < 90:
        return f"about {seconds:.0f} s"
    if seconds < 90 * 60:
        return f"about {seconds / 60:.0f} min"
    return f"about {seconds / 3600:.1f} h"
