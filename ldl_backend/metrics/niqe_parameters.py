"""The NIQE pristine model: the multivariate Gaussian that natural, undistorted images' features follow.

The published model (Mittal et al., fitted on 125 pristine photos with 96×96 blocks) ships as an ``.npz`` with
``mu_pris_param`` (1×36 or 36), ``cov_pris_param`` (36×36) and ``gaussian_window`` (7×7, the local-statistics
window). It is loaded without pickle support, so a crafted file cannot run code.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ldl_backend.metrics.errors import NiqeParametersError

FEATURE_COUNT = 36  # 18 AGGD features per block at each of two scales
WINDOW_SHAPE = (7, 7)
# The pristine model was fitted on 96×96 blocks; scoring with other blocks compares unlike statistics.
DEFAULT_BLOCK_SIZE = 96

_FILE_KEYS = {"mu_pris_param", "cov_pris_param", "gaussian_window"}


def _frozen(array: np.ndarray) -> np.ndarray:
    copy = np.array(array, dtype=np.float64, copy=True)
    copy.setflags(write=False)
    return copy


@dataclass(frozen=True, eq=False)
class NiqeParameters:
    """Mean ``mu`` (36,), covariance ``cov`` (36×36) and ``gaussian_window`` (7×7) of the pristine model, float64,
    read-only; ``block_size`` is the side of the square blocks the model was fitted on.

    Raises ValueError (with what to do) for wrong shapes, non-finite values or a non-symmetric covariance.
    """

    mu: np.ndarray
    cov: np.ndarray
    gaussian_window: np.ndarray
    block_size: int = DEFAULT_BLOCK_SIZE

    def __post_init__(self) -> None:
        hint = "use the published NIQE model (niqe_pris_params.npz from BasicSR or the LDL repository)"
        checks = (("mu", self.mu, (FEATURE_COUNT,)), ("cov", self.cov, (FEATURE_COUNT, FEATURE_COUNT)))
        for name, value, shape in (*checks, ("gaussian_window", self.gaussian_window, WINDOW_SHAPE)):
            array = np.asarray(value)
            if array.shape != shape:
                raise ValueError(f"NIQE {name} must have shape {shape}, got {array.shape}; {hint}")
            if array.dtype.kind not in "fiu" or not np.all(np.isfinite(array)):
                raise ValueError(f"NIQE {name} must hold finite numbers; {hint}")
            object.__setattr__(self, name, _frozen(array))
        if not np.allclose(self.cov, self.cov.T, rtol=1e-9, atol=1e-12):
            raise ValueError(f"NIQE cov must be a symmetric covariance matrix; {hint}")
        if self.block_size < 2:
            raise ValueError(f"NIQE block_size must be at least 2, got {self.block_size}; the published model uses 96")

    @classmethod
    def load(cls, path: Path) -> NiqeParameters:
        """Read the pristine model from an ``.npz`` with exactly the keys ``mu_pris_param``, ``cov_pris_param`` and
        ``gaussian_window``. Raises NiqeParametersError naming the file and what is wrong with it."""
        hint = "reinstall the NIQE model file (niqe_pris_params.npz, sha256 2a7c182a…4296)"
        if not path.is_file():
            raise NiqeParametersError(f"the NIQE model file {path} does not exist", hint)
        try:
            # Our own handle, closed even when numpy gives up on a damaged archive half-way.
            with path.open("rb") as handle:
                archive = np.load(handle, allow_pickle=False)
                if not isinstance(archive, np.lib.npyio.NpzFile):
                    raise NiqeParametersError(f"the NIQE model file {path} holds one array, not an .npz archive", hint)
                with archive:
                    keys = set(archive.files)
                    missing, unknown = sorted(_FILE_KEYS - keys), sorted(keys - _FILE_KEYS)
                    if missing or unknown:
                        problems = [f"missing {', '.join(missing)}"] if missing else []
                        problems += [f"unexpected {', '.join(unknown)}"] if unknown else []
                        raise NiqeParametersError(f"the NIQE model file {path} has {'; '.join(problems)}", hint)
                    mu = archive["mu_pris_param"]
                    cov = archive["cov_pris_param"]
                    window = archive["gaussian_window"]
        except NiqeParametersError:
            raise
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
            # allow_pickle=False turns object arrays into ValueError; truncation shows as BadZipFile or EOFError.
            raise NiqeParametersError(f"the NIQE model file {path} cannot be read as a numeric .npz: {e}", hint) from e
        if mu.shape == (1, FEATURE_COUNT):
            mu = mu.reshape(FEATURE_COUNT)  # stored as a row vector, as MATLAB saved it
        try:
            return cls(mu=mu, cov=cov, gaussian_window=window)
        except ValueError as e:
            raise NiqeParametersError(f"the NIQE model file {path} is not usable: {e}", hint) from e
