"""Which catalog model a front end lists first and selects: the same rule in the app, the Krita and GIMP dialogs."""

from __future__ import annotations

from collections.abc import Sequence

from .options import DEFAULT_MODEL
from .records import Availability, ModelInfo


def model_order(model: ModelInfo) -> tuple[bool, bool, str]:
    """Sort key: models that run now first, the default model first among them, then by name."""
    return (not model.usable, model.name != DEFAULT_MODEL, model.name)


def preferred_model(models: Sequence[ModelInfo], wanted: str = "") -> ModelInfo | None:
    """``wanted`` (the last choice) when it runs now, else the default model when it does, else the first that does
    in ``model_order``; with none usable, the default model (its note says how to get it), else the first."""
    by_name = {model.name: model for model in models}
    for name in (wanted, DEFAULT_MODEL):
        if name in by_name and by_name[name].usable:
            return by_name[name]
    usable = sorted((model for model in models if model.usable), key=model_order)
    if usable:
        return usable[0]
    return by_name.get(DEFAULT_MODEL) or (models[0] if models else None)


def availability_text(model: ModelInfo) -> str:
    """A short line on whether the model runs now, for a note or tooltip: empty when installed."""
    if model.availability is Availability.PACKAGED:
        return model.note or "converted on first use"
    if model.usable:
        return ""
    return f"not installed: {model.note or 'see `ldl models list`'}"
