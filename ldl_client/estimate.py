"""How long an upscale will take: a prior by network kind, then what this user's finished jobs taught. Pure, and
shared by the desktop app and the plug-ins (their run dialogs show it).

The priors are seconds per output megapixel per model pass, measured on a two-core laptop CPU
(docs/engineering-notes.md: RRDBNet ×4 runs at about 0.16 output MP/s in bf16; the compact SRVGG net is about ten
times faster). A finished job moves the rate of its model and device halfway to what it measured.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, MutableMapping

_PRIOR_SECONDS = {"rrdbnet": 6.5, "srvggnetcompact": 0.7, "swinir": 15.0}
_UNKNOWN_SECONDS = 8.0
_LEARNING_WEIGHT = 0.5


def model_passes(reference: str) -> float:
    """Model passes the reference costs: TTA runs the model k times (one of them is the detail itself), another
    model runs once more, Lanczos costs no pass."""
    if reference.startswith("tta"):
        tail = reference[3:].lstrip(":")
        return float(max(1, int(tail) if tail.isdigit() else 8))
    if reference.startswith("model:"):
        return 2.0
    return 1.0


def rate_key(model: str, device: str) -> str:
    return f"{model}@{device}"


def estimate_seconds(
    model: str, architecture: str, device: str, reference: str, output_pixels: int, learned: Mapping[str, float]
) -> float:
    """Seconds for a job whose output has ``output_pixels`` pixels."""
    prior = _PRIOR_SECONDS.get(architecture.lower(), _UNKNOWN_SECONDS)
    rate = learned.get(rate_key(model, device), prior)
    return rate * model_passes(reference) * output_pixels / 1e6


def learn(
    model: str, device: str, reference: str, output_pixels: int, seconds: float, learned: MutableMapping[str, float]
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
