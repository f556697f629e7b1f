"""The dialog's model list: the backend's catalog, the models that run now first (the default model first), which
ones to grey out, and which one to show selected. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from ldl_client import ModelInfo, model_order, preferred_model


class ModelRows(NamedTuple):
    rows: list[tuple[str, str]]  # (id, label) for the combo box
    chosen: str  # the id to select
    usable: frozenset[str]  # the ids that run now; the dialog greys out the others


def model_rows(models: Sequence[ModelInfo], current: str) -> ModelRows:
    """``current`` (the argument's value: the default, or the last run's) stays selected when it runs now, or when
    nothing does; otherwise the default model does when it runs (``ldl_client.preferred_model``), since the backend
    refuses a model that is not available. An id the catalog does not list gets a row of its own, so the dialog never
    silently changes a batch caller's value."""
    ordered = sorted(models, key=model_order)
    rows = [(model.name, model_label(model)) for model in ordered]
    if current not in {model.name for model in models}:
        rows.append((current, f"{current} (not in the backend's catalog)"))
    usable = frozenset(model.name for model in models if model.usable)
    preferred = preferred_model(ordered, current)
    chosen = preferred.name if preferred is not None and preferred.usable else current
    return ModelRows(rows, chosen, usable)


def model_label(model: ModelInfo) -> str:
    state = "" if model.usable else ", not installed"
    return f"{model.name} (×{model.scale}, {model.architecture}{state})"
