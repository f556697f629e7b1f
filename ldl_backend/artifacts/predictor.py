"""The learned part of the artifact-map estimate: a logistic model over image-relative cues, and its file format.

For each reference source the model holds one weight per cue of ``features.FEATURE_NAMES`` and a bias:

    logit = bias + Σ_i weight_i · (cue_i − mean of cue_i over the image),   map = sigmoid(gaussian_σ(logit))

It is trained (``scripts/train_artifact_predictor.py``) to predict whether a pixel is among the 10% of the image
with the highest *training-form* LDL map (computed from the ground truth). Only differences from the image's
own mean enter, so the map does not change when the whole image gets brighter, darker or more contrasted, and
a threshold on it means the same on every image: "this pixel's estimated chance of being among the image's most
artifact-prone tenth". 14 numbers per reference source; the file is a few kB.

File: a NumPy ``.npz`` (read without pickle) with ``format`` = ``FORMAT``, ``version`` = ``VERSION``,
``feature_names`` (F strings, must equal ``FEATURE_NAMES``), ``references`` (R strings), ``weights`` (R×F),
``bias`` (R), ``smooth_sigma`` (scalar ≥ 0) and ``trained_on`` (a description of the training data).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from ldl_backend.artifacts.features import FEATURE_NAMES
from ldl_backend.errors import LdlError
from ldl_client.options import ReferenceKind, ReferenceSource

FORMAT = "ldl-artifact-predictor"
VERSION = 1
DEFAULT_FILE = "predictor_v1.npz"
_KEYS = frozenset({"format", "version", "feature_names", "references", "weights", "bias", "smooth_sigma", "trained_on"})
_RETRAIN = "regenerate it with `python scripts/train_artifact_predictor.py`"


class PredictorFileError(LdlError):
    """An artifact-predictor file is missing, unreadable or does not match this version of the code."""

    code = "bad_predictor_file"


@dataclass(frozen=True)
class LinearCues:
    """One reference source's model: ``weights`` (F,) over the image-relative cues, ``bias``, both float64."""

    weights: np.ndarray
    bias: float

    def __post_init__(self) -> None:
        if self.weights.shape != (len(FEATURE_NAMES),) or not np.all(np.isfinite(self.weights)):
            raise ValueError(f"expected {len(FEATURE_NAMES)} finite weights, got shape {self.weights.shape}")
        if not np.isfinite(self.bias):
            raise ValueError("the bias must be finite")


@dataclass(frozen=True)
class ArtifactPredictor:
    """Models keyed by reference-source key (``tta:8``, ``tta:4``, ``tta:2``, ``lanczos``), the logit smoothing σ
    (output pixels) and a note of what it was trained on."""

    models: dict[str, LinearCues]
    smooth_sigma: float
    trained_on: str = ""

    def __post_init__(self) -> None:
        if not self.models:
            raise ValueError("a predictor needs at least one reference model")
        if not 0.0 <= self.smooth_sigma <= 16.0:
            raise ValueError(f"smooth_sigma must be in [0, 16], not {self.smooth_sigma}")

    def for_reference(self, source: ReferenceSource) -> LinearCues:
        """The model for ``source``. A ``model:NAME`` reference (a fidelity generator: sharp and faithful) uses the
        ``tta:8`` model, the closest kind of reference it was trained with."""
        key = "tta:8" if source.kind is ReferenceKind.MODEL else str(source)
        if key not in self.models:
            raise PredictorFileError(
                f"the artifact predictor has no model for the {key} reference (it has {', '.join(self.models)})",
                _RETRAIN,
            )
        return self.models[key]


def save_predictor(predictor: ArtifactPredictor, path: Path) -> None:
    keys = list(predictor.models)
    np.savez(
        path,
        format=np.array(FORMAT),
        version=np.array(VERSION),
        feature_names=np.array(FEATURE_NAMES),
        references=np.array(keys),
        weights=np.stack([predictor.models[key].weights for key in keys]).astype(np.float64),
        bias=np.array([predictor.models[key].bias for key in keys], dtype=np.float64),
        smooth_sigma=np.array(predictor.smooth_sigma),
        trained_on=np.array(predictor.trained_on),
    )


def load_predictor(path: Path) -> ArtifactPredictor:
    """Read and validate a predictor file. Raises ``PredictorFileError`` saying what is wrong and how to fix it."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except FileNotFoundError as error:
        raise PredictorFileError(f"no artifact predictor at {path}", _RETRAIN) from error
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise PredictorFileError(f"{path} is not a readable predictor file ({error})", _RETRAIN) from error
    return _from_arrays(arrays, path)


def default_predictor() -> ArtifactPredictor:
    """The predictor shipped with the package (``ldl_backend/artifacts/data/predictor_v1.npz``)."""
    resource = resources.files("ldl_backend.artifacts") / "data" / DEFAULT_FILE
    with resources.as_file(resource) as path:
        return load_predictor(path)


def _from_arrays(arrays: dict[str, np.ndarray], path: Path) -> ArtifactPredictor:
    if set(arrays) != _KEYS:
        missing, extra = sorted(_KEYS - set(arrays)), sorted(set(arrays) - _KEYS)
        raise PredictorFileError(
            f"{path} is not an artifact predictor (missing {missing}, unexpected {extra})", _RETRAIN
        )
    if str(arrays["format"]) != FORMAT or int(arrays["version"]) != VERSION:
        raise PredictorFileError(
            f"{path} is a {arrays['format']} file, version {arrays['version']}; this code reads {FORMAT} {VERSION}",
            _RETRAIN,
        )
    names = tuple(str(name) for name in arrays["feature_names"])
    if names != FEATURE_NAMES:
        raise PredictorFileError(f"{path} was trained on other cues ({', '.join(names)})", _RETRAIN)
    references = [str(key) for key in arrays["references"]]
    weights, bias = arrays["weights"], arrays["bias"]
    if weights.shape != (len(references), len(names)) or bias.shape != (len(references),):
        raise PredictorFileError(
            f"{path}: weights {weights.shape} and bias {bias.shape} do not fit {len(references)} references", _RETRAIN
        )
    try:
        for key in references:
            ReferenceSource.parse(key)
        models = {
            key: LinearCues(weights[row].astype(np.float64), float(bias[row])) for row, key in enumerate(references)
        }
        return ArtifactPredictor(models, float(arrays["smooth_sigma"]), str(arrays["trained_on"]))
    except ValueError as error:
        raise PredictorFileError(f"{path}: {error}", _RETRAIN) from error
