"""What one architecture is, in one place: ``ArchitectureSpec``, its id and the shape every config shares.

Detection, the model descriptor and the engine read an architecture's facts (how to build and detect it, its
precision and memory-layout support, tiling and memory costs, its speed prior) from its spec; none of them
branches on the architecture. Each architecture's spec lives in its own module beside this one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Generic, NewType, Protocol, TypeVar

import torch
from torch import nn

from ldl_backend.models.state_dict import StateDict

# An architecture's id, as the catalog, model-file metadata and the server's JSON carry it (e.g. "RRDBNet"), so an
# id never changes once released. Each spec module defines its own; the registry is the list of known ids.
Architecture = NewType("Architecture", str)


class ArchConfig(Protocol):
    """What every architecture's config (a frozen, validated dataclass) tells the engine.

    ``size_multiple``: input height and width must be multiples of it. ``receptive_field``: radius in input
    pixels, as each architecture's config documents it.
    """

    @property
    def scale(self) -> int: ...
    @property
    def in_channels(self) -> int: ...
    @property
    def out_channels(self) -> int: ...
    @property
    def size_multiple(self) -> int: ...
    @property
    def receptive_field(self) -> int: ...


ConfigT = TypeVar("ConfigT", bound=ArchConfig)


def unchanged(state_dict: Mapping[str, torch.Tensor]) -> StateDict:
    return dict(state_dict)


# (tile side, relative time per pixel) points at rising sides.
RatePoints = tuple[tuple[int, float], ...]


@dataclass(frozen=True)
class CpuRates:
    """Relative time per input pixel of one pass on the CPU by tile side, measured with ``benchmarks/tile_cost.py``:
    ``fp32`` and ``half`` (bf16/fp16 autocast, whose maps take half the bytes and, on CPUs with native bf16, another
    dense-block path). Between points the rate is linear in the tile's area; beyond either end it stays flat.
    Empty: a flat rate. (``TileCost`` checks the points.)"""

    fp32: RatePoints = ()
    half: RatePoints = ()

    def by_area(self, half: bool) -> tuple[tuple[int, float], ...]:
        """The points for fp32 or half precision, keyed by tile area (what ``TileCost`` interpolates in)."""
        return tuple((side * side, rate) for side, rate in (self.half if half else self.fp32))


@dataclass(frozen=True)
class ArchitectureSpec(Generic[ConfigT]):
    """Everything the package knows about one architecture.

    ``build``: a freshly initialised network for a config (the caller loads the weights).
    ``detect``: the config whose network has exactly a state dict's keys and shapes; raises ``DetectionMismatch``
    (with a score, so the closest architecture can be named) when the state dict is not this architecture.
    ``normalize``: drops keys that released files carry but the network recomputes; runs before ``detect``.
    ``supports_fp16``/``supports_bf16``: half precision gives results within a few 1/255 of fp32.
    ``channels_last``: the network is convolutional, so NHWC kernels (oneDNN, cuDNN) run it faster.
    ``tile_context``: input pixels of context a tile keeps beyond its blend zone so that tiled output stays close
    to untiled output (the engine adds its blend width).
    ``activation_bytes_per_pixel``: estimated peak activation bytes per input pixel of a tile, given the bytes of
    one element in the working precision (4 for fp32, 2 for fp16/bf16).
    ``cpu_rates``: how the time per pixel of one pass on the CPU grows with the tile (its maps fall out of the
    caches), per precision. The automatic tile plan weighs this against the overlap that smaller tiles add.
    ``cpu_wide_tiles``: automatic CPU tiles may take the whole-image share of the free RAM, not just the engine's
    fixed activation budget. Worth it where the network's work per pixel is large against its activation bytes, so
    the overlap of small tiles costs more time than the memory is worth.
    ``prior_seconds_per_megapixel``: seconds per output megapixel per model pass on a two-core laptop CPU, the
    time estimate before any job has been measured.
    """

    architecture: Architecture
    config_type: type[ConfigT]
    build: Callable[[ConfigT], nn.Module]
    detect: Callable[[Mapping[str, torch.Tensor]], ConfigT]
    supports_fp16: bool
    channels_last: bool
    tile_context: Callable[[ConfigT], int]
    activation_bytes_per_pixel: Callable[[ConfigT, int], float]
    prior_seconds_per_megapixel: float
    cpu_rates: CpuRates = CpuRates()
    cpu_wide_tiles: bool = False
    supports_bf16: bool = True
    supports_tiling: bool = True
    normalize: Callable[[Mapping[str, torch.Tensor]], StateDict] = field(default=unchanged)

    def __post_init__(self) -> None:
        if not self.prior_seconds_per_megapixel > 0:
            raise ValueError(
                f"{self.architecture}: prior_seconds_per_megapixel must be positive, "
                f"not {self.prior_seconds_per_megapixel}"
            )

    def owns(self, config: object) -> bool:
        """Whether ``config`` is this architecture's config type."""
        return isinstance(config, self.config_type)
