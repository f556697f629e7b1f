"""Read any supported model file into a state dict, and turn it into a ready network."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from torch import nn

from ldl_backend.errors import ModelFileError
from ldl_backend.models.descriptor import ModelDescriptor
from ldl_backend.models.detection import ArchitectureRegistry, default_registry
from ldl_backend.models.formats.ncnn import import_ncnn
from ldl_backend.models.formats.pth import WeightsKey, read_pth
from ldl_backend.models.formats.safetensors_file import read_safetensors
from ldl_backend.models.state_dict import StateDict, validate_state_dict


class ModelFormat(str, Enum):
    PTH = "pth"
    SAFETENSORS = "safetensors"
    NCNN = "ncnn"


_ZIP_MAGIC = b"PK\x03\x04"
_PICKLE_PROTOCOL_OPCODE = b"\x80"


def sniff_format(path: Path) -> ModelFormat:
    """Tell the format from the name and the first bytes (a renamed file is still recognised)."""
    suffix = path.suffix.lower()
    if suffix in (".param", ".bin"):
        return ModelFormat.NCNN
    try:
        with path.open("rb") as stream:
            head = stream.read(16)
    except FileNotFoundError as error:
        raise ModelFileError(f"{path} does not exist", "check the path") from error
    except OSError as error:
        raise ModelFileError(f"{path} could not be read: {error.strerror}", "check the file's permissions") from error
    if head.startswith(_ZIP_MAGIC) or head.startswith(_PICKLE_PROTOCOL_OPCODE):
        return ModelFormat.PTH
    if suffix == ".safetensors" or head[8:9] == b"{":
        return ModelFormat.SAFETENSORS
    if suffix in (".pth", ".pt", ".ckpt"):
        return ModelFormat.PTH
    if suffix == ".onnx":
        raise ModelFileError(
            f"{path.name} is an ONNX model, which runs through ONNX Runtime and cannot be imported as weights",
            "import the .pth or .safetensors the ONNX file was exported from",
        )
    raise ModelFileError(
        f"{path.name} is not a model file this program reads",
        "use a BasicSR .pth, a .safetensors file or an ncnn .param with its .bin beside it",
    )


def ncnn_pair(path: Path) -> tuple[Path, Path]:
    param, weights = path.with_suffix(".param"), path.with_suffix(".bin")
    for part in (param, weights):
        if not part.is_file():
            raise ModelFileError(
                f"the ncnn model needs both {param.name} and {weights.name}; {part.name} is missing",
                "keep the .param and .bin files side by side with the same name",
            )
    return param, weights


def read_state_dict(path: Path, weights_key: WeightsKey = WeightsKey.AUTO) -> StateDict:
    """The validated float32 state dict of any supported model file. Raises ``ModelFileError``."""
    model_format = sniff_format(path)
    if model_format is ModelFormat.NCNN:
        param, weights = ncnn_pair(path)
        imported = import_ncnn(param, weights)
        if imported.output_resize is not None:
            # Real-ESRGAN's UP2X/UP3X ncnn files are the ×4 network plus a resize; importing the weights alone
            # would silently give ×4 output under a ×2/×3 name.
            resize = imported.output_resize
            raise ModelFileError(
                f"{param.name} is a ×{imported.config.scale} network followed by a {resize.mode} resize by "
                f"{resize.factor:g}, not a network of its own scale",
                f"import the matching ×{imported.config.scale} file and ask for the output scale you want",
            )
        return validate_state_dict(imported.state_dict, path.name)
    if model_format is ModelFormat.SAFETENSORS:
        return read_safetensors(path)[0]
    return read_pth(path, weights_key)


@dataclass(frozen=True)
class LoadedModel:
    """A network ready for inference (eval mode, no gradients, fp32 on the CPU) with its descriptor."""

    descriptor: ModelDescriptor
    network: nn.Module


def load_model(
    path: Path, weights_key: WeightsKey = WeightsKey.AUTO, registry: ArchitectureRegistry | None = None
) -> LoadedModel:
    state_dict = read_state_dict(path, weights_key)
    descriptor, network = (registry or default_registry()).load(state_dict)
    return LoadedModel(descriptor, network)
