"""NIQE: natural photos score better than their distorted copies, regression numbers, model-file validation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from skimage import data

from ldl_backend.metrics.aggd import block_features, fit_aggd
from ldl_backend.metrics.errors import MetricInputError, NiqeParametersError
from ldl_backend.metrics.niqe import niqe
from ldl_backend.metrics.niqe_parameters import NiqeParameters

# Our NIQE of skimage's astronaut (512×512 RGB, Y channel). It equals BasicSR 1.4.2's ``niqe`` run in float64 to
# 1e-13; BasicSR as shipped computes in float32 and gives 3.0649476662 (crop 0) / 2.9912960480 (crop 4): its
# E[x²] − E[x]² cancels badly in float32 in flat areas such as the astronaut's backdrop.
ASTRONAUT_NIQE = 3.1004515331845
ASTRONAUT_NIQE_CROP4 = 3.0205269180
# Textured images have no flat areas; there BasicSR's float32 output agrees to ~1e-6 (2.6255243807 for chelsea).
CHELSEA_NIQE = 2.6255266797


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    ok, encoded = cv2.imencode(".jpg", image[:, :, ::-1].copy(), [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    decoded = cv2.imdecode(encoded, cv2.IMREAD_COLOR)
    assert decoded is not None
    return decoded[:, :, ::-1].copy()


def noisy(image: np.ndarray, sigma: float) -> np.ndarray:
    noise = np.random.default_rng(0).normal(0.0, sigma, image.shape)
    return np.clip(np.round(image + noise), 0, 255).astype(np.uint8)


# Measured differences from the constants: 2.8e-14 (astronaut), 3.8e-10 (crop 4) and 3.2e-11 (chelsea), the last two
# from their ten decimals. The tolerances leave room for another BLAS, not for another formula.
def test_astronaut_regression(niqe_params: NiqeParameters) -> None:
    image = data.astronaut()
    assert niqe(image, niqe_params) == pytest.approx(ASTRONAUT_NIQE, rel=0, abs=1e-11)
    assert niqe(image, niqe_params, crop_border=4) == pytest.approx(ASTRONAUT_NIQE_CROP4, rel=0, abs=1e-9)


def test_chelsea_regression(niqe_params: NiqeParameters) -> None:
    assert niqe(data.chelsea(), niqe_params) == pytest.approx(CHELSEA_NIQE, rel=0, abs=1e-9)


@pytest.mark.parametrize("name", ["astronaut", "chelsea"])
def test_distortions_score_worse(niqe_params: NiqeParameters, name: str) -> None:
    photo = getattr(data, name)()
    clean = niqe(photo, niqe_params)
    assert niqe(jpeg(photo, 5), niqe_params) > clean + 1.0
    assert niqe(noisy(photo, 25.0), niqe_params) > clean + 1.0


def test_gray_input_is_its_own_luma(niqe_params: NiqeParameters) -> None:
    gray = data.camera()
    score = niqe(gray, niqe_params)
    assert np.isfinite(score)
    assert niqe(gray[:, :, None], niqe_params) == score
    # The same picture as RGB is scored on its studio-range Y (16 + 219/255 · v), which is not the gray value itself.
    studio = np.round(16 + gray.astype(np.float64) * 219 / 255).astype(np.uint8)
    as_rgb = niqe(np.repeat(gray[:, :, None], 3, axis=2), niqe_params)
    assert as_rgb == pytest.approx(niqe(studio, niqe_params), abs=1e-9)
    assert as_rgb != pytest.approx(score, abs=1e-3)


def test_only_whole_blocks_count(niqe_params: NiqeParameters) -> None:
    # 512 px hold 5 blocks of 96; the last 32 rows and columns are not scored.
    image = data.astronaut()
    spoiled = image.copy()
    spoiled[480:] = 0
    spoiled[:, 480:] = 255
    assert niqe(spoiled, niqe_params) == niqe(image, niqe_params)


@pytest.mark.parametrize(
    ("image", "kwargs", "fragment"),
    [
        (np.zeros((96, 96, 3), np.uint8), {}, "at least two 96×96 blocks"),
        (np.zeros((200, 200, 3), np.uint8), {"crop_border": 20}, "after cropping 20"),
        (np.zeros((200, 200, 3), np.float32), {}, "8-bit"),
        (np.zeros((200, 200, 4), np.uint8), {}, "H×W×3"),
        (np.full((200, 200), 128, np.uint8), {}, "flat"),
        (np.zeros((200, 200), np.uint8), {"crop_border": -2}, "non-negative"),
    ],
)
def test_bad_inputs_are_refused_with_a_hint(image: np.ndarray, kwargs: dict[str, int], fragment: str) -> None:
    # A stand-in model: these checks come before the pristine model is used, so they run without the shared data.
    taps = np.exp(-((np.arange(7) - 3.0) ** 2) / (2 * (7 / 6) ** 2))
    stand_in = NiqeParameters(np.zeros(36), np.eye(36), np.outer(taps, taps) / taps.sum() ** 2)
    with pytest.raises(MetricInputError, match=fragment) as info:
        niqe(image, stand_in, **kwargs)
    assert info.value.hint


def test_aggd_fit_recovers_a_gaussian() -> None:
    # A zero-mean Gaussian is the AGGD with shape 2 and equal scales σ·√2.
    samples = np.random.default_rng(0).normal(0.0, 0.5, 200_000)
    alpha, beta_l, beta_r = fit_aggd(samples)
    assert alpha == pytest.approx(2.0, abs=0.05)
    assert beta_l == pytest.approx(0.5 * np.sqrt(2), rel=0.02)
    assert beta_r == pytest.approx(0.5 * np.sqrt(2), rel=0.02)


def test_flat_block_gives_undefined_features() -> None:
    features = block_features(np.zeros((48, 48)))
    assert features.shape == (18,)
    assert np.isnan(features[1])


# --- the model file ---------------------------------------------------------------------------------------------


def test_published_model_loads(niqe_params: NiqeParameters) -> None:
    assert niqe_params.mu.shape == (36,)
    assert niqe_params.cov.shape == (36, 36)
    assert niqe_params.gaussian_window.shape == (7, 7)
    assert niqe_params.gaussian_window.sum() == pytest.approx(1.0)
    assert niqe_params.block_size == 96
    assert not niqe_params.mu.flags.writeable


def write_model(path: Path, **arrays: np.ndarray) -> Path:
    # Typed loosely: savez's own keyword (allow_pickle) would otherwise clash with ndarray keyword arguments.
    contents: dict[str, Any] = arrays
    np.savez(path, **contents)
    return path


def valid_arrays() -> dict[str, np.ndarray]:
    return {
        "mu_pris_param": np.zeros((1, 36)),
        "cov_pris_param": np.eye(36),
        "gaussian_window": np.full((7, 7), 1 / 49),
    }


def test_valid_synthetic_model_loads(tmp_path: Path) -> None:
    params = NiqeParameters.load(write_model(tmp_path / "ok.npz", **valid_arrays()))
    assert params.mu.shape == (36,)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"mu_pris_param": None}, "missing mu_pris_param"),
        ({"extra": np.zeros(3)}, "unexpected extra"),
        ({"cov_pris_param": np.eye(35)}, r"cov must have shape \(36, 36\)"),
        ({"gaussian_window": np.ones((5, 5))}, r"gaussian_window must have shape \(7, 7\)"),
        ({"mu_pris_param": np.full((1, 36), np.nan)}, "finite"),
        ({"cov_pris_param": np.triu(np.ones((36, 36)))}, "symmetric"),
        ({"mu_pris_param": np.array(["x"] * 36)}, "finite numbers"),
    ],
)
def test_bad_model_files_name_the_file_and_the_problem(
    tmp_path: Path, change: dict[str, np.ndarray | None], fragment: str
) -> None:
    arrays = valid_arrays()
    for key, value in change.items():
        if value is None:
            del arrays[key]
        else:
            arrays[key] = value
    path = write_model(tmp_path / "bad.npz", **arrays)
    with pytest.raises(NiqeParametersError, match=fragment) as info:
        NiqeParameters.load(path)
    assert "bad.npz" in info.value.message
    assert info.value.hint


def test_pickled_truncated_and_missing_files_are_refused(tmp_path: Path) -> None:
    pickled = tmp_path / "pickled.npz"
    write_model(pickled, **{**valid_arrays(), "mu_pris_param": np.array([object()] * 36, dtype=object)})
    with pytest.raises(NiqeParametersError, match=r"pickled\.npz"):
        NiqeParameters.load(pickled)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(write_model(tmp_path / "whole.npz", **valid_arrays()).read_bytes()[:200])
    with pytest.raises(NiqeParametersError, match=r"truncated\.npz"):
        NiqeParameters.load(truncated)
    single = tmp_path / "single.npz"
    with single.open("wb") as handle:
        np.save(handle, np.eye(36))
    with pytest.raises(NiqeParametersError, match="holds one array"):
        NiqeParameters.load(single)
    with pytest.raises(NiqeParametersError, match="does not exist"):
        NiqeParameters.load(tmp_path / "absent.npz")


def test_parameters_validate_when_built_directly() -> None:
    with pytest.raises(ValueError, match="block_size"):
        NiqeParameters(np.zeros(36), np.eye(36), np.ones((7, 7)) / 49, block_size=1)
