"""What decides every output of a batch, in one picklable value, and its fingerprint (the settings hash).

The recipe travels once to every worker (through Ray's object store, or not at all in process); the fingerprint
goes into the manifest beside each item, so that ``--resume`` redoes exactly the items whose settings changed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ldl_backend.artifacts.selective import ArtifactOptions
from ldl_backend.engine.files import DEFAULT_MAX_OUTPUT_PIXELS
from ldl_backend.engine.pipeline import AlphaMode, OutputSize
from ldl_backend.engine.upscale import EngineOptions
from ldl_backend.models.loading import LoadedModel


@dataclass(frozen=True)
class BatchRecipe:
    """Every setting of a batch that is the same for all its items.

    ``model``/``reference_model``: the loaded networks (the reference one only for ``--reference model:NAME``);
    ``engine``: device, precision, backend and tiles (its ``threads`` are set per worker and change no output);
    ``artifacts``: the map's options when the map is computed at all (``--blend`` or ``--layers``), else None;
    ``blend_as_output``: the main output is the blend (``--blend`` not off); ``layers_root``: where each item's
    layer files go, mirroring the input tree (None: no layer files).
    """

    model: LoadedModel
    engine: EngineOptions
    output_size: OutputSize | None = None
    alpha_mode: AlphaMode = AlphaMode.RESIZE
    file_format: str | None = None
    quality: int = 95
    max_output_pixels: int = DEFAULT_MAX_OUTPUT_PIXELS
    artifacts: ArtifactOptions | None = None
    reference_model: LoadedModel | None = None
    blend_as_output: bool = False
    layers_root: Path | None = None


@dataclass(frozen=True)
class Fingerprint:
    """``text``: the settings that shape an output, as canonical JSON (shown by ``--status``); ``digest``: its
    sha256, stored with every item."""

    text: str
    digest: str


def fingerprint(recipe: BatchRecipe) -> Fingerprint:
    """The settings hash of ``recipe``: model weights, size, alpha, format, quality, device, precision, backend,
    tiles and the artifact options. Threads, workers, retries and the pixel budget are left out: they change
    whether or how fast an output is made, never its bytes."""
    engine = recipe.engine
    artifacts = recipe.artifacts
    settings = {
        "model": weights_digest(recipe.model),
        "output_size": None if recipe.output_size is None else dataclasses.asdict(recipe.output_size),
        "alpha": recipe.alpha_mode.value,
        "format": recipe.file_format,
        "quality": recipe.quality,
        "device": engine.device,
        "precision": None if engine.precision is None else engine.precision.value,
        "backend": engine.backend.value,
        "tile": engine.tile,
        "overlap": engine.overlap,
        "blend_width": engine.blend,
        "artifacts": None
        if artifacts is None
        else {
            "reference": str(artifacts.reference),
            "reference_model": None if recipe.reference_model is None else weights_digest(recipe.reference_model),
            "threshold": artifacts.threshold,
            "softness": artifacts.softness,
            "mask": None if artifacts.mask is None else _array_digest(artifacts.mask),
            "blend_as_output": recipe.blend_as_output,
            "layers": None if recipe.layers_root is None else str(recipe.layers_root),
        },
    }
    text = json.dumps(settings, sort_keys=True, separators=(",", ":"))
    return Fingerprint(text, hashlib.sha256(text.encode()).hexdigest())


def weights_digest(model: LoadedModel) -> str:
    """sha256 of a network's parameters and buffers (names, dtypes, shapes and bytes): the same for the same
    weights however they were loaded (catalog name, .pth or .safetensors file)."""
    digest = hashlib.sha256(model.descriptor.architecture.encode())
    for name, tensor in sorted(model.network.state_dict().items()):
        flat = tensor.detach().cpu().contiguous().reshape(-1)
        digest.update(f"{name}:{flat.dtype}:{tuple(tensor.shape)}".encode())
        digest.update(flat.view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _array_digest(array: np.ndarray) -> str:
    contiguous = np.ascontiguousarray(array)
    return hashlib.sha256(f"{contiguous.dtype}:{contiguous.shape}".encode() + contiguous.tobytes()).hexdigest()
