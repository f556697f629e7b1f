"""How long an upscale will take: the server's prior for the model, then what this user's finished jobs taught.
Pure, and shared by the desktop app and the plug-ins (their run dialogs show it).

Rates are seconds per output megapixel per model pass. The prior is the model's architecture's, measured on a
two-core CPU and sent by the server in ``ModelInfo.seconds_per_megapixel``. A finished job moves the rate of its
model and device halfway to what it measured.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, MutableMapping

from .options import ReferenceSource
from .records import ModelInfo

# For a model whose server does not say (an older server): RRDBNet ×4's rate in fp32 on two cores.
_UNKNOWN_SECONDS = 8.0
_LEARNING_WEIGHT = 0.5


def model_passes(reference: ReferenceSource) -> float:
    """Model passes of a job: the detail itself plus what its reference adds (TTA k − 1, another model 1)."""
    return float(1 + reference.model_passes)


def rate_key(model: str, device: str) -> str:
    return f"{model}@{device}"


def estimate_seconds(
    model: ModelInfo, device: str, reference: ReferenceSource, output_pixels: int, learned: Mapping[str, float]
) -> float:
    """Seconds for a job whose output has ``output_pixels`` pixels."""
    prior = model.seconds_per_megapixel or _UNKNOWN_SECONDS
    rate = learned.get(rate_key(model.name, device), prior)
    return rate * model_passes(reference) * output_pixels / 1e6


def learn(
    model: str,
    device: str,
    reference: ReferenceSource,
    output_pixels: int,
    seconds: float,
    learned: MutableMapping[str, float],
) -> None:
    """Fold a finished job's duration into ``learned`` (seconds per output megapixel per pass)."""
    if output_pixels <= 0 or seconds <= 0:
        return
    key = rate_key(model, device)
    measured = seconds / (output_pixels / 1e6) / model_passes(reference)
    previous = learned.get(key)
    learned[key] = measured if previous is None else previous + _LEARNING_WEIGHT * (measured - previous)


def load_rates(text: str) -> dict[str, float]:
    """Rates saved by ``dump_rates``; anything unreadable counts as nothing learned yet."""
    try:
        data = json.loads(text) if text else {}
    except json.JSONDecodeError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        str(k): float(v) for k, v in data.items() if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0
    }


def dump_rates(rates: Mapping[str, float]) -> str:
    return json.dumps(dict(sorted(rates.items())))


def describe_seconds(seconds: float) -> str:
    if seconds < 1:
        return "under a second"
    if seconds < 90:
        return f"about {seconds:.0f} s"
    if seconds < 90 * 60:
        return f"about {seconds / 60:.0f} min"
    return f"about {seconds / 3600:.1f} h"
