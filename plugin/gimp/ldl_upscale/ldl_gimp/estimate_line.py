"""The dialog's one line under the options: the result's size and how long the job should take, or what is wrong
with the options as they stand. Pure: the dialog calls it on every change."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ldl_client import ModelInfo, availability_text, describe_seconds, estimate_seconds

from .arguments import UpscaleArguments, to_options
from .errors import InvalidArgument


def estimate_line(
    arguments: UpscaleArguments,
    models: Sequence[ModelInfo],
    input_size: tuple[int, int],
    learned: Mapping[str, float] | None = None,
) -> str:
    """E.g. ``256 × 192 px, about 4 s on auto`` for ``input_size`` (the pixels to upscale) with ``arguments``;
    ``models``: the backend's catalog (``Client.models()``)."""
    try:
        options = to_options(arguments)
    except InvalidArgument as e:
        return f"{e.message} ({e.hint})"
    model = next((entry for entry in models if entry.name == options.model), None)
    if model is None:
        return f"the backend has no model {options.model!r}; pick one from the list"
    factor = int(options.scale) if options.scale is not None else model.scale
    width, height = input_size[0] * factor, input_size[1] * factor
    seconds = estimate_seconds(model, options.device, options.reference, width * height, learned or {})
    line = f"{width} × {height} px, {describe_seconds(seconds)} on {options.device}"
    # Whether it runs now: "converted on first use", or the step that makes it available.
    availability = availability_text(model)
    return f"{line}; {availability}" if availability else line
