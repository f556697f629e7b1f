"""BasicSR ``.pth`` files, read with ``torch.load(weights_only=True)`` only: a pickle never runs code here."""

from __future__ import annotations

import pickle
import zipfile
from enum import Enum
from pathlib import Path

import torch

from ldl_backend.errors import ModelFileError, UnsafeModelFileError
from ldl_backend.models.state_dict import StateDict, validate_state_dict


class WeightsKey(str, Enum):
    """Which weights of a BasicSR checkpoint to use.

    LDL's released generators hold both; the paper's numbers (and LDL's test configurations) use ``params``,
    so AUTO picks ``params`` when both exist. Real-ESRGAN's files hold only ``params_ema``.
    """

    AUTO = "auto"
    PARAMS = "params"
    PARAMS_EMA = "params_ema"


_BARE = "(bare state dict)"


def read_pth(path: Path, weights_key: WeightsKey = WeightsKey.AUTO) -> StateDict:
    """Read a generator's weights from a ``.pth``: ``{'params': sd}``, ``{'params_ema': sd}``, both, or ``sd``.

    Raises ``UnsafeModelFileError`` when the pickle references anything but tensors and containers (nothing is
    executed), ``ModelFileError`` when the file is truncated, not a checkpoint, or lacks the requested key.
    """
    try:
        loaded: object = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError as error:
        raise ModelFileError(f"{path} does not exist", "check the path") from error
    except pickle.UnpicklingError as error:
        if "weights only load failed" in str(error).lower() or "unsupported global" in str(error).lower():
            raise UnsafeModelFileError(
                f"{path.name} asks to run code or build objects while loading; it was refused and nothing ran",
                "only plain tensor checkpoints are accepted; if you trust the file, re-save just its state_dict "
                "(or convert it to .safetensors) in a separate environment",
            ) from error
        raise ModelFileError(f"{path.name} is not a PyTorch checkpoint ({error})", _NOT_A_CHECKPOINT) from error
    except (RuntimeError, EOFError, ValueError, OSError, zipfile.BadZipFile, IndexError, KeyError) as error:
        raise ModelFileError(
            f"{path.name} could not be read as a PyTorch checkpoint: {error}", _NOT_A_CHECKPOINT
        ) from error
    return validate_state_dict(select_weights(loaded, weights_key, path.name), path.name)


_NOT_A_CHECKPOINT = "the file is truncated or not a .pth checkpoint; download it again and check its sha256"


def select_weights(checkpoint: object, weights_key: WeightsKey, source: str) -> object:
    """Pick the generator weights out of a BasicSR checkpoint (see ``WeightsKey``)."""
    if not isinstance(checkpoint, dict):
        return checkpoint
    present = [key for key in (WeightsKey.PARAMS, WeightsKey.PARAMS_EMA) if key.value in checkpoint]
    if weights_key is WeightsKey.AUTO:
        if not present:
            return checkpoint
        return checkpoint[present[0].value]
    if weights_key not in present:
        available = ", ".join(key.value for key in present) or _BARE
        raise ModelFileError(
            f"{source} has no '{weights_key.value}' weights (it has: {available})",
            "choose one of the weights the file has, or leave the choice on auto",
        )
    return checkpoint[weights_key.value]
