"""The ``ldl-upscale`` procedure's arguments ↔ the contract's ``SubmitOptions``: the one mapping, both ways.

The PDB carries plain values (strings, ints, doubles) so that batch scripts and other plug-ins can call the procedure;
they are parsed here, once, into the typed options (``ReferenceSource.parse``, ``Precision``). The procedure's
defaults are ``UpscaleArguments.defaults()``, read back from ``SubmitOptions()``'s own defaults, so they cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from ldl_client import (
    DEFAULT_MODEL,
    MAX_SCALE,
    MAX_TILE,
    MIN_TILE,
    PRECISIONS,
    OptionError,
    Precision,
    ReferenceSource,
    SubmitOptions,
)

from .errors import InvalidArgument

SelectionTarget = Literal["new-image", "layer-group"]
SELECTION_TARGETS: tuple[SelectionTarget, ...] = ("new-image", "layer-group")
AUTO = "auto"
MAX_FACTOR = int(MAX_SCALE)
# The argument names as the PDB knows them (GObject property names of the procedure's config).
NAMES = ("model", "factor", "reference", "threshold", "softness", "selection-target", "device", "precision", "tile")


@dataclass(frozen=True)
class UpscaleArguments:
    """The procedure's arguments as GIMP hands them over, unchecked.

    ``model``: a catalog id; ``factor``: 0 for the model's own, else 1–16; ``reference``: ``tta``, ``tta:2|4|8``,
    ``model:NAME`` or ``lanczos``; ``threshold``/``softness`` in [0, 1]; ``selection_target``: where a selection's
    bounding box goes (``new-image`` or ``layer-group``; ignored without a selection); ``device``: ``auto``,
    ``cpu``, ``cuda``, ``cuda:N`` or ``mps``; ``precision``: ``auto``, ``fp32``, ``fp16`` or ``bf16``; ``tile``:
    0 for automatic, else 16–8192 input pixels.
    """

    model: str
    factor: int
    reference: str
    threshold: float
    softness: float
    selection_target: str
    device: str
    precision: str
    tile: int

    @classmethod
    def defaults(cls) -> UpscaleArguments:
        """The procedure's registered defaults: ``SubmitOptions()``'s, and a new image for a selection."""
        return from_options(SubmitOptions(), "new-image")

    def options(self) -> SubmitOptions:
        return to_options(self)


class Config(Protocol):
    """What the plug-in reads the arguments from: a ``Gimp.ProcedureConfig`` (GObject properties)."""

    def get_property(self, name: str) -> Any: ...


def read_arguments(config: Config) -> UpscaleArguments:
    """The arguments as a procedure config holds them (``NAMES``, in that order)."""
    values = [config.get_property(name) for name in NAMES]
    return UpscaleArguments(
        model=str(values[0]),
        factor=int(values[1]),
        reference=str(values[2]),
        threshold=float(values[3]),
        softness=float(values[4]),
        selection_target=str(values[5]),
        device=str(values[6]),
        precision=str(values[7]),
        tile=int(values[8]),
    )


def to_options(arguments: UpscaleArguments) -> SubmitOptions:
    """The job's options. Raises ``InvalidArgument`` naming the argument, with the rule as its hint."""
    if arguments.selection_target not in SELECTION_TARGETS:
        raise InvalidArgument(
            "selection-target",
            f"selection-target {arguments.selection_target!r} is not one of {', '.join(SELECTION_TARGETS)}",
            "new-image puts the selection's upscale in a new image; layer-group adds it as a group at the selection",
        )
    if isinstance(arguments.factor, bool) or not 0 <= arguments.factor <= MAX_FACTOR:
        raise InvalidArgument(
            "factor",
            f"factor {arguments.factor!r} must be 0 (the model's own) or a whole number from 1 to {MAX_FACTOR}",
            "e.g. 0 for the model's own factor, or 2",
        )
    if arguments.tile != 0 and not MIN_TILE <= arguments.tile <= MAX_TILE:
        raise InvalidArgument(
            "tile",
            f"tile {arguments.tile!r} must be 0 (automatic) or from {MIN_TILE} to {MAX_TILE} input pixels",
            "use 0 to size tiles from free memory; smaller tiles need less memory",
        )
    text = arguments.precision.strip().lower()
    if text not in PRECISIONS:
        raise InvalidArgument(
            "precision",
            f"precision {arguments.precision!r} is not one of {', '.join(PRECISIONS)}",
            "auto picks the fastest the device and the model support",
        )
    try:
        reference = ReferenceSource.parse(arguments.reference)
    except ValueError as e:
        raise InvalidArgument("reference", str(e), "use tta, tta:2, tta:4, tta:8, model:NAME or lanczos") from e
    try:
        return SubmitOptions(
            model=arguments.model.strip(),
            scale=arguments.factor or None,
            reference=reference,
            threshold=arguments.threshold,
            softness=arguments.softness,
            device=arguments.device.strip().lower(),
            precision=None if text == AUTO else Precision(text),
            tile=arguments.tile or None,
        )
    except OptionError as e:
        raise InvalidArgument(e.option, e.message, e.hint) from e


def from_options(options: SubmitOptions, selection_target: SelectionTarget) -> UpscaleArguments:
    """The arguments that ask for ``options`` (``to_options`` gives them back); a fractional scale, which the
    procedure cannot carry, raises ``ValueError``."""
    scale = options.scale
    if scale is not None and not float(scale).is_integer():
        raise ValueError(f"scale {scale!r} is not a whole factor; GIMP's procedure takes whole factors")
    return UpscaleArguments(
        model=options.model or DEFAULT_MODEL,
        factor=0 if scale is None else int(scale),
        reference=str(options.reference),
        threshold=float(options.threshold),
        softness=float(options.softness),
        selection_target=selection_target,
        device=options.device,
        precision=AUTO if options.precision is None else options.precision.value,
        tile=options.tile or 0,
    )
