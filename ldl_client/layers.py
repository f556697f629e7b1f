"""The layers of one upscale job, as the server keeps them and every front end shows them (docs/server-api.md)."""

from __future__ import annotations

from typing import Literal

LayerName = Literal["detail", "reference", "map", "mask", "blend"]
# detail: the generator's output; reference: a faithful upscale; map: float in [0, 1], 1 = likely artifact;
# mask: 1 = keep detail; blend: reference + mask·(detail − reference).
LAYER_NAMES: tuple[LayerName, ...] = ("detail", "reference", "map", "mask", "blend")
# The layers that are pictures of the image (the map and the mask are single-channel data).
IMAGE_LAYERS: tuple[LayerName, ...] = ("detail", "reference", "blend")
