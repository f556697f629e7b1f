"""What ``POST /jobs`` is asked to do: the one definition of the job options, their limits and their defaults.

The clients build ``SubmitOptions`` and send ``SubmitOptions.query()``; the server parses the query with
``SubmitOptions.from_query`` into the same typed value (400 with the error's hint when it is malformed), keeps it
in memory as it is, and stores it in its job database as the same query string. Options only: never paths, never
the token.
"""

from __future__ import annotations

import math
import re
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum

# The catalog's id rule (docs/server-api.md). The id becomes a file name on the server, hence strict; checked here
# too so that a typo fails before megabytes are uploaded.
MODEL_ID_PATTERN = r"[a-z0-9][a-z0-9._+-]{0,63}"
MODEL_ID_RULE = "1–64 lower-case letters, digits, '.', '_', '+' or '-', starting with a letter or digit"
_MODEL_ID = re.compile(MODEL_ID_PATTERN)
DEFAULT_MODEL = "realesrgan-x4plus"


def model_name_from_file(file_name: str) -> str:
    """The catalog id a model file is imported under by default: its stem, lower-cased, spaces as ``-``, other
    characters the id rule refuses dropped (``Net G RealESRGAN+LDL.pth`` → ``net-g-realesrgan+ldl``)."""
    stem = file_name.rsplit("/", 1)[-1].rsplit(".", 1)[0] if "." in file_name else file_name
    stem = stem.lower().replace(" ", "-")
    name = "".join(c for c in stem if (c.isascii() and c.isalnum()) or c in "._+-").lstrip("._+-")
    return name[:64] or "imported-model"


# The device forms a job takes; which of them a machine has is ``Client.health().devices``.
DEVICE_FORMS = "auto, cpu, cuda, cuda:N or mps"
DEVICE_PATTERN = r"auto|cpu|mps|cuda(?::(?:0|[1-9][0-9]?))?"
_DEVICE = re.compile(DEVICE_PATTERN)

# Tile sides in input pixels. A model with a wide overlap needs more than the minimum, which its job's error then
# says. The maximum: one 8192² tile already needs gigabytes of activations with the smallest model, and covers any
# image the default pixel budget lets in.
MIN_TILE = 16
MAX_TILE = 8192
_TILE_TEXT = re.compile(r"[0-9]{1,5}")

# The output factor: beyond ×16 even a small photo becomes gigapixels.
MAX_SCALE = 16.0

# Where generated detail fades out in the blend: kept whole up to a map value of threshold − softness/2 (0.1, the
# base rate of the calibrated map), given way to the reference by threshold + softness/2 (0.5). Measured on held-back
# photos (benchmarks/artifact_map.py): +0.43 dB over a global blend with tta:8.
DEFAULT_THRESHOLD = 0.3
DEFAULT_SOFTNESS = 0.4


class OptionError(ValueError):
    """A job option that breaks its rule: ``option`` names it (``query`` for an unknown or repeated name), ``hint``
    says what is allowed."""

    def __init__(self, option: str, message: str, hint: str) -> None:
        super().__init__(message)
        self.option = option
        self.message = message
        self.hint = hint


class AlphaMode(str, Enum):
    """How transparency is upscaled: a bicubic ``resize`` (fast, smooth edges) or through the ``model``."""

    RESIZE = "resize"
    MODEL = "model"


class Precision(str, Enum):
    """Arithmetic precision of the network; a job's ``None`` means the fastest the device and model support."""

    FP32 = "fp32"
    FP16 = "fp16"
    BF16 = "bf16"


PRECISIONS = ("auto", *(precision.value for precision in Precision))


class ReferenceKind(str, Enum):
    TTA = "tta"
    MODEL = "model"
    LANCZOS = "lanczos"


TTA_COUNTS = (2, 4, 8)
REFERENCE_FORMS = "tta, tta:2, tta:4, tta:8, model:NAME or lanczos"


@dataclass(frozen=True)
class ReferenceSource:
    """Where the artifact map's reference comes from: ``tta`` (the model's mean over ``tta_count`` flips and
    rotations), ``model`` (catalog model ``model_name``) or ``lanczos``. ``parse`` reads the user's text."""

    kind: ReferenceKind
    tta_count: int = 8
    model_name: str | None = None

    def __post_init__(self) -> None:
        if self.kind is ReferenceKind.TTA and self.tta_count not in TTA_COUNTS:
            raise ValueError(f"a TTA reference averages 2, 4 or 8 transforms, not {self.tta_count}")
        if (self.kind is ReferenceKind.MODEL) != (self.model_name is not None):
            raise ValueError("a model name goes with (and only with) a model:NAME reference")

    @classmethod
    def parse(cls, text: str) -> ReferenceSource:
        """``tta`` (8 transforms), ``tta:2|4|8`` (also ``tta2|4|8``), ``model:NAME`` or ``lanczos``; raises
        ``ValueError`` otherwise."""
        head, _, tail = re.sub(r"^tta(\d)$", r"tta:\1", text.strip()).partition(":")
        if head == "tta":
            if tail and tail not in ("2", "4", "8"):
                raise ValueError(f"{text!r}: a TTA reference takes 2, 4 or 8 transforms, e.g. tta:4")
            return cls(ReferenceKind.TTA, tta_count=int(tail) if tail else 8)
        if head == "model" and tail and not any(char.isspace() for char in tail):
            return cls(ReferenceKind.MODEL, model_name=tail)
        if head == "lanczos" and not tail:
            return cls(ReferenceKind.LANCZOS)
        raise ValueError(f"unknown reference {text!r}: use {REFERENCE_FORMS}")

    def __str__(self) -> str:
        if self.kind is ReferenceKind.TTA:
            return f"tta:{self.tta_count}"
        if self.kind is ReferenceKind.MODEL:
            return f"model:{self.model_name}"
        return "lanczos"

    @property
    def model_passes(self) -> int:
        """Network passes on top of the upscale itself (the dominant cost); 0 for the classical resample.
        TTA reuses the upscale as its identity transform, so it adds k − 1."""
        if self.kind is ReferenceKind.TTA:
            return self.tta_count - 1
        return 1 if self.kind is ReferenceKind.MODEL else 0


# The artifact map's default reference: a Lanczos upscale, no network pass. On the held-back crops of
# benchmarks/artifact_map.py its learned estimate scores ROC AUC 0.934 (tta:8: 0.930) and its map-guided blend gains
# 0.40 dB over the global blend (tta:8: 0.43 dB) for the price of the upscale alone; ``tta:8`` (7 more passes)
# remains the choice for the sharpest blend.
DEFAULT_REFERENCE = ReferenceSource(ReferenceKind.LANCZOS)

OPTION_NAMES = ("model", "scale", "reference", "threshold", "softness", "alpha", "device", "precision", "tile")


@dataclass(frozen=True)
class SubmitOptions:
    """Options of one upscale job, checked when built (``OptionError``, a ``ValueError``, names the broken rule).

    ``model``: a catalog id (see ``Client.models()``); ``scale``: the output factor in (0, ``MAX_SCALE``], None for
    the model's own; ``reference``: see ``ReferenceSource``; ``threshold``/``softness`` in [0, 1]: where and how wide
    generated detail fades out in the blend; ``alpha``: how transparency is upscaled.
    Advanced: ``device``: ``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps`` (``Client.health().devices`` lists this
    machine's); ``precision``: None for the fastest the device and model support; ``tile``: the tile side in input
    pixels, ``MIN_TILE`` to ``MAX_TILE``, None for automatic (from free memory).
    """

    model: str = DEFAULT_MODEL
    scale: float | None = None
    reference: ReferenceSource = field(default=DEFAULT_REFERENCE)
    threshold: float = DEFAULT_THRESHOLD
    softness: float = DEFAULT_SOFTNESS
    alpha: AlphaMode = AlphaMode.RESIZE
    device: str = "auto"
    precision: Precision | None = None
    tile: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or not _MODEL_ID.fullmatch(self.model):
            raise OptionError(
                "model", f"model {self.model!r} is not a catalog id", f"ids are {MODEL_ID_RULE}; see Client.models()"
            )
        if self.scale is not None and not (
            isinstance(self.scale, (int, float))
            and not isinstance(self.scale, bool)
            and math.isfinite(self.scale)
            and 0 < self.scale <= MAX_SCALE
        ):
            raise OptionError(
                "scale",
                f"scale {self.scale!r} must be a number above 0 and at most {MAX_SCALE:g}",
                "or leave it out for the model's own factor",
            )
        for name, value in (("threshold", self.threshold), ("softness", self.softness)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0.0 <= value <= 1.0):
                raise OptionError(name, f"{name} {value!r} must be a number between 0 and 1", "e.g. 0.3")
        if not isinstance(self.reference, ReferenceSource):
            raise OptionError("reference", f"reference {self.reference!r} is not a parsed reference", _REFERENCE_HINT)
        if not isinstance(self.alpha, AlphaMode):
            raise OptionError("alpha", f"alpha {self.alpha!r} must be one of {_ALPHA_FORMS}", f"use {_ALPHA_FORMS}")
        if not isinstance(self.device, str) or not _DEVICE.fullmatch(self.device):
            raise OptionError(
                "device",
                f"device {self.device!r} must be {DEVICE_FORMS}",
                f"use {DEVICE_FORMS}; Client.health().devices (GET /health) lists this machine's devices",
            )
        if self.precision is not None and not isinstance(self.precision, Precision):
            raise OptionError(
                "precision", f"precision {self.precision!r} must be one of {', '.join(PRECISIONS)}", _PRECISION_HINT
            )
        if self.tile is not None and (
            isinstance(self.tile, bool) or not isinstance(self.tile, int) or not MIN_TILE <= self.tile <= MAX_TILE
        ):
            raise OptionError(
                "tile",
                f"tile {self.tile!r} must be a whole number of pixels from {MIN_TILE} to {MAX_TILE}, or auto",
                f"use auto (sized from free memory) or {MIN_TILE} to {MAX_TILE}; smaller tiles need less memory",
            )

    def query(self) -> str:
        """The URL query string, e.g. ``model=x4&reference=tta%3A8&threshold=0.3&softness=0.4&alpha=resize``;
        ``device``, ``precision`` and ``tile`` only when they are not automatic (older servers refuse them)."""
        pairs = [("model", self.model)]
        if self.scale is not None:
            pairs.append(("scale", _number_text(self.scale)))
        pairs += [
            ("reference", str(self.reference)),
            ("threshold", repr(float(self.threshold))),
            ("softness", repr(float(self.softness))),
            ("alpha", self.alpha.value),
        ]
        if self.device != "auto":
            pairs.append(("device", self.device))
        if self.precision is not None:
            pairs.append(("precision", self.precision.value))
        if self.tile is not None:
            pairs.append(("tile", str(self.tile)))
        return urllib.parse.urlencode(pairs)

    @classmethod
    def from_query(cls, pairs: Iterable[tuple[str, str]]) -> SubmitOptions:
        """Parse query parameters (``urllib.parse.parse_qsl(query, keep_blank_values=True)``); an option left out
        takes its default. Raises ``OptionError`` for an unknown or repeated option or a malformed value."""
        values: dict[str, str] = {}
        for key, value in pairs:
            if key not in OPTION_NAMES:
                raise OptionError("query", f"unknown option {key!r}", f"the options are {', '.join(OPTION_NAMES)}")
            if key in values:
                raise OptionError("query", f"option {key!r} is given twice", "give each option once")
            values[key] = value
        try:
            reference = ReferenceSource.parse(values.get("reference", str(DEFAULT_REFERENCE)))
        except ValueError as error:
            raise OptionError("reference", str(error), _REFERENCE_HINT) from error
        alpha = values.get("alpha", AlphaMode.RESIZE.value)
        if alpha not in _ALPHA_VALUES:
            raise OptionError("alpha", f"alpha must be one of {_ALPHA_FORMS}, not {alpha!r}", f"use {_ALPHA_FORMS}")
        precision = values.get("precision", "auto")
        if precision not in PRECISIONS:
            raise OptionError("precision", f"unknown precision {precision!r}", _PRECISION_HINT)
        device = values.get("device", "auto")
        if not _DEVICE.fullmatch(device):
            raise OptionError(
                "device", f"unknown device {device!r}", f"use {DEVICE_FORMS}; GET /health lists this machine's devices"
            )
        return cls(
            model=values.get("model", DEFAULT_MODEL),
            scale=None if "scale" not in values else _number(values["scale"], "scale", 0.0, MAX_SCALE),
            reference=reference,
            threshold=_number(values.get("threshold"), "threshold", 0.0, 1.0, DEFAULT_THRESHOLD),
            softness=_number(values.get("softness"), "softness", 0.0, 1.0, DEFAULT_SOFTNESS),
            alpha=AlphaMode(alpha),
            device=device,
            precision=None if precision == "auto" else Precision(precision),
            tile=_tile(values.get("tile", "auto")),
        )


_ALPHA_VALUES = tuple(mode.value for mode in AlphaMode)
_ALPHA_FORMS = ", ".join(_ALPHA_VALUES)
_REFERENCE_HINT = f"use {REFERENCE_FORMS}"
_PRECISION_HINT = f"use one of {', '.join(PRECISIONS)} (auto: the fastest that the device and the model support)"


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _number(text: str | None, name: str, low: float, high: float, default: float = 0.0) -> float:
    if text is None:
        return default
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    # The scale's lower bound is open (a factor of 0 makes no image); the others are closed.
    above_low = number > low if name == "scale" else number >= low
    if not (math.isfinite(number) and above_low and number <= high):
        raise OptionError(
            name, f"{name} must be a number between {low:g} and {high:g}, not {text!r}", f"e.g. {name}={high / 4:g}"
        )
    return number


def _tile(text: str) -> int | None:
    if text == "auto":
        return None
    # Digits only: int() would also take '+64', ' 64' and non-ASCII digits.
    tile = int(text) if _TILE_TEXT.fullmatch(text) else None
    if tile is None or not MIN_TILE <= tile <= MAX_TILE:
        raise OptionError(
            "tile",
            f"tile must be auto or a whole number of input pixels from {MIN_TILE} to {MAX_TILE}, not {text!r}",
            f"use auto (sized from free memory) or {MIN_TILE} to {MAX_TILE}; smaller tiles need less memory",
        )
    return tile
