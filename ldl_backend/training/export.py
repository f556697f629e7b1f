"""The trained generators as safetensors files that ``ldl models import`` (and so the app and the plug-ins) accept."""

from __future__ import annotations

import re
from pathlib import Path

from torch import nn

from ldl_backend.models.descriptor import ModelDescriptor
from ldl_backend.models.detection import default_registry
from ldl_backend.models.formats.safetensors_file import write_safetensors


def model_name_for(run_dir: Path) -> str:
    """A catalog-safe name from the run folder's name (lower case; other characters become '-')."""
    name = re.sub(r"[^a-z0-9._+-]+", "-", run_dir.resolve().name.lower()).strip("-.") or "finetuned"
    return name[:56]


def export_generator(network: nn.Module, path: Path, origin: str) -> ModelDescriptor:
    """Write ``network``'s weights (float32, on the CPU) to ``path`` atomically, with the architecture and scale in
    the metadata as the model store writes them. The weights are detected first, so a file that ``ldl models
    import`` would refuse is never written (``UnknownArchitectureError``). Returns the detected descriptor."""
    state = {key: value.detach().float().cpu() for key, value in network.state_dict().items()}
    detected = default_registry().detect(state)
    metadata = {
        "ldl.architecture": detected.descriptor.architecture,
        "ldl.scale": str(detected.descriptor.scale),
        "ldl.origin": origin,
    }
    write_safetensors(path, detected.state_dict, metadata)
    return detected.descriptor
