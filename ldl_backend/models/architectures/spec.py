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
    ``cpu_fast_tile``: the side of the largest tile that runs at full per-pixel speed on the CPU; beyond that
    area the time per pixel grows by ``cpu_slowdown`` for every further such area (its maps fall out of the
    caches). None: a flat rate. The automatic tile plan weighs this against the overlap that smaller tiles add.
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
    cpu_fast_tile: int | None = None
    cpu_slowdown: float = 0.0
    supports_bf16: bool = True
    supports_tiling: bool = True
    normalize: Callable[[Mapping[str, torch.Tensor]], StateDict] = field(default=unchanged)

    def __post_init__(self) -> None:
        if not self.prior_seconds_per_megapixel > 0:
            raise ValueError(
                f"{self.architecture}: prior_seconds_per_megapixel must be positive, "
                f"not {self.prior_seconds_per_megapixel}"
            )
        if self.cpu_fast_tile is not None and self.cpu_fast_tile < 1:
            raise ValueError(f"{self.architecture}: cpu_fast_tile must be at least 1, not {self.cpu_fast_tile}")
        if self.cpu_slowdown < 0:
            raise ValueError(f"{self.architecture}: cpu_slowdown must be >= 0, not {self.cpu_slowdown}")

    def owns(self, config: object) -> bool:
        """Whether ``config`` is this architecture's config type."""
        return isinstance(config, self.config_type)
