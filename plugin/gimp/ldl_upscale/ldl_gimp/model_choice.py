"""The dialog's model list: the backend's catalog, installed models first, and which one to show selected. Pure."""

from __future__ import annotations

from collections.abc import Sequence

from ldl_client import ModelInfo


def model_rows(models: Sequence[ModelInfo], current: str) -> tuple[list[tuple[str, str]], str]:
    """(id, label) rows for the combo box, and the id to select.

    ``current`` (the argument's value: the default, or the last run's) stays selected when it is installed, or when
    nothing is; otherwise the first installed model is, since the backend refuses a model that is not installed. An
    id the catalog does not list gets a row of its own, so the dialog never silently changes a batch caller's value.
    """
    ordered = sorted(models, key=lambda model: (not model.installed, model.name))
    rows = [(model.name, _label(model)) for model in ordered]
    if current not in {model.name for model in models}:
        rows.append((current, f"{current} (not in the backend's catalog)"))
    installed = [model.name for model in ordered if model.installed]
    chosen = current if current in installed or not installed else installed[0]
    return rows, chosen


def _label(model: ModelInfo) -> str:
    state = "" if model.installed else ", not installed"
    return f"{model.name} (×{model.scale}, {model.architecture}{state})"
