"""The inference-time artifact map: range, calibration, bands == whole image, TTA, predictor files, input errors."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from ldl_backend.artifacts.estimate import ArtifactInputError, estimate_artifact_map, relative_cues
from ldl_backend.artifacts.features import FEATURE_NAMES
from ldl_backend.artifacts.predictor import (
    ArtifactPredictor,
    LinearCues,
    PredictorFileError,
    default_predictor,
    load_predictor,
    save_predictor,
)
from ldl_backend.artifacts.references import (
    TtaRunner,
    dihedral,
    inverse_dihedral,
    lanczos_reference,
)
from ldl_backend.engine.pipeline import upscale_image
from ldl_backend.engine.progress import CancelledError, CancelToken
from ldl_backend.engine.runners import TorchRunner
from ldl_backend.engine.tiled import TileSettings
from ldl_backend.engine.upscale import EngineOptions, prepare_engine
from ldl_backend.imageio import ImageData
from ldl_backend.models.loading import LoadedModel
from ldl_client.options import ReferenceKind, ReferenceSource


def layers(height: int = 64, width: int = 80, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A smooth image as low_res, its Lanczos upscale as reference, and a 'detail' with noisy texture in one
    corner (a stand-in artifact) on top of the reference."""
    rng = np.random.default_rng(seed)
    low = cv2.GaussianBlur(rng.random((height // 4, width // 4, 3)).astype(np.float32), (0, 0), 1.5)
    low = np.clip((low - low.min()) / (low.max() - low.min() + 1e-6), 0.0, 1.0).astype(np.float32)
    reference = lanczos_reference(low, 4)
    detail = reference + 0.02 * rng.standard_normal(reference.shape).astype(np.float32)
    detail[: height // 2, : width // 2] += 0.15 * rng.standard_normal((height // 2, width // 2, 3)).astype(np.float32)
    return np.clip(detail, 0.0, 1.0), reference, low


def test_map_is_float32_in_unit_range_and_finds_the_textured_corner() -> None:
    detail, reference, low = layers()
    result = estimate_artifact_map(detail, reference, low_res=low)
    assert result.shape == detail.shape[:2] and result.dtype == np.float32
    assert result.min() >= 0.0 and result.max() <= 1.0
    assert result[:32, :40].mean() > result[32:, 40:].mean()


def test_calibration_does_not_depend_on_contrast_or_exposure() -> None:
    # The model sees cues relative to the image's mean only, so a global contrast change (all three layers alike)
    # leaves the map, and hence what any threshold selects, unchanged.
    detail, reference, low = layers()
    base = estimate_artifact_map(detail, reference, low_res=low)
    squeezed = [0.25 + 0.5 * layer for layer in (detail, reference, low)]
    other = estimate_artifact_map(squeezed[0], squeezed[1], low_res=squeezed[2])
    np.testing.assert_allclose(other, base, atol=0.02)
    for threshold in (0.1, 0.3, 0.5):
        assert abs(float((other > threshold).mean()) - float((base > threshold).mean())) < 0.01


@pytest.mark.parametrize("band_rows", [1, 7, 32, 63])
def test_bands_equal_the_whole_image(band_rows: int) -> None:
    detail, reference, low = layers(68, 84)
    whole = estimate_artifact_map(detail, reference, low_res=low, band_rows=10_000)
    banded = estimate_artifact_map(detail, reference, low_res=low, band_rows=band_rows)
    np.testing.assert_allclose(banded, whole, atol=2e-5)


def test_without_low_res_an_area_average_of_the_detail_stands_in() -> None:
    detail, reference, _ = layers()
    result = estimate_artifact_map(detail, reference, scale=4)
    assert result.shape == detail.shape[:2] and 0.0 <= result.min() <= result.max() <= 1.0


def test_integer_and_gray_layers_give_the_map_of_their_float_rgb() -> None:
    detail, reference, low = layers()
    as_uint8 = [np.round(layer * 255).astype(np.uint8) for layer in (detail, reference, low)]
    as_float = [layer.astype(np.float32) / 255 for layer in as_uint8]
    expected = estimate_artifact_map(*as_float[:2], low_res=as_float[2], band_rows=16)
    np.testing.assert_allclose(
        estimate_artifact_map(*as_uint8[:2], low_res=as_uint8[2], band_rows=16), expected, atol=1e-6
    )
    gray = [layer[..., :1] for layer in as_uint8]
    gray_rgb = [np.repeat(layer, 3, axis=2).astype(np.float32) / 255 for layer in gray]
    np.testing.assert_allclose(
        estimate_artifact_map(*gray[:2], low_res=gray[2]),
        estimate_artifact_map(*gray_rgb[:2], low_res=gray_rgb[2]),
        atol=1e-6,
    )


def test_relative_cues_have_zero_image_mean() -> None:
    detail, reference, low = layers()
    cues = relative_cues(detail, reference, low)
    assert cues.shape == (len(FEATURE_NAMES), *detail.shape[:2])
    np.testing.assert_allclose(cues.mean(axis=(1, 2)), 0.0, atol=1e-4)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d, r, lo: (d[:-4], r, lo), "differ in shape"),
        (lambda d, r, lo: (d, r, lo[:-1]), "integer scale"),
        (lambda d, r, lo: (np.where(d > 0.5, np.nan, d), r, lo), "NaN"),
        (lambda d, r, lo: ((d * 255).astype(np.int32), r, lo), "int32"),
        (lambda d, r, lo: (d[..., :2], r[..., :2], lo[..., :2]), "H×W×3"),
        (lambda d, r, lo: (d[:0], r[:0], lo[:0]), "empty"),
    ],
)
def test_bad_inputs_raise_clear_errors(change, message: str) -> None:
    detail, reference, low = change(*layers())
    with pytest.raises(ArtifactInputError, match=message):
        estimate_artifact_map(detail, reference, low_res=low)


@pytest.mark.parametrize(("height", "width"), [(1, 1), (1, 7), (7, 1), (2, 2)])
def test_tiny_images_get_a_map(height: int, width: int) -> None:
    """Borders fold back by repeated reflection, so even a 1-pixel input (4 pixels out at ×4) has a map."""
    low = np.random.default_rng(height * 10 + width).random((height, width, 3), dtype=np.float32)
    detail = np.repeat(np.repeat(low, 4, axis=0), 4, axis=1)
    artifact_map = estimate_artifact_map(detail, detail.copy(), low_res=low)
    assert artifact_map.shape == (4 * height, 4 * width)
    assert np.isfinite(artifact_map).all() and 0 <= artifact_map.min() <= artifact_map.max() <= 1


class NearestRunner:
    """×2 nearest upscale: commutes with every flip and transpose."""

    scale = 2
    description = "nearest ×2"

    def run(self, batch: np.ndarray) -> np.ndarray:
        return batch.repeat(2, axis=-2).repeat(2, axis=-1)

    def release_memory(self) -> None:
        pass


class SkewedRunner(NearestRunner):
    """Adds a left-to-right ramp: not equivariant, so TTA must average the transformed ramps."""

    def run(self, batch: np.ndarray) -> np.ndarray:
        result = super().run(batch)
        return result + np.linspace(0.0, 0.1, result.shape[-1], dtype=np.float32)


def test_dihedral_transforms_invert() -> None:
    batch = np.random.default_rng(1).random((2, 3, 5, 7)).astype(np.float32)
    for index in range(8):
        assert np.array_equal(inverse_dihedral(dihedral(batch, index), index), batch)
    assert len({dihedral(batch[:, :, :5, :5], index).tobytes() for index in range(8)}) == 8


def test_tta_runner() -> None:
    batch = np.random.default_rng(2).random((1, 3, 6, 9)).astype(np.float32)
    exact = NearestRunner().run(batch)
    np.testing.assert_array_equal(TtaRunner(NearestRunner(), 1).run(batch), exact)
    for count in (2, 4, 8):
        np.testing.assert_allclose(TtaRunner(NearestRunner(), count).run(batch), exact, atol=1e-6)
    skewed = TtaRunner(SkewedRunner(), 2).run(batch)
    # identity adds the ramp, the horizontal flip adds it mirrored: the mean adds its constant average
    np.testing.assert_allclose(skewed, exact + 0.05, atol=1e-6)
    with pytest.raises(ValueError, match="1, 2, 4 or 8"):
        TtaRunner(NearestRunner(), 3)


def test_tta_reference_through_the_engine(compact_model: LoadedModel) -> None:
    engine = prepare_engine(compact_model, EngineOptions(precision=None))
    assert isinstance(engine.runner, TorchRunner)
    image = ImageData(np.random.default_rng(3).random((20, 28, 3)).astype(np.float32))
    settings = TileSettings(tile=16, overlap=8, blend=4)
    single = upscale_image(image, engine.runner, settings).colour
    reference = upscale_image(image, TtaRunner(engine.runner, 4), settings).colour
    assert reference.shape == single.shape == (80, 112, 3)
    result = estimate_artifact_map(single, reference, low_res=image.colour, source=ReferenceSource.parse("tta:4"))
    assert 0.0 <= result.min() <= result.max() <= 1.0


def test_reference_source_parsing() -> None:
    assert ReferenceSource.parse("tta") == ReferenceSource(ReferenceKind.TTA, tta_count=8)
    assert str(ReferenceSource.parse("tta:2")) == "tta:2"
    assert ReferenceSource.parse("model:realesrnet-x4plus").model_name == "realesrnet-x4plus"
    assert ReferenceSource.parse("lanczos").model_passes == 0
    assert ReferenceSource.parse("tta:4").model_passes == 3
    for text in ("tta:3", "model:", "bicubic", "lanczos:2"):
        with pytest.raises(ValueError, match=r"tta|model|lanczos"):
            ReferenceSource.parse(text)


def test_packaged_predictor_loads_and_round_trips(tmp_path: Path) -> None:
    predictor = default_predictor()
    assert {"tta:8", "tta:4", "tta:2", "lanczos"} <= set(predictor.models)
    assert predictor.for_reference(ReferenceSource.parse("model:anything")) is predictor.models["tta:8"]
    save_predictor(predictor, tmp_path / "copy.npz")
    copy = load_predictor(tmp_path / "copy.npz")
    assert copy.smooth_sigma == predictor.smooth_sigma and copy.trained_on == predictor.trained_on
    for key, model in predictor.models.items():
        np.testing.assert_array_equal(copy.models[key].weights, model.weights)


def _write(path: Path, **changes: object) -> Path:
    weights = np.zeros((1, len(FEATURE_NAMES)))
    arrays: dict[str, object] = {
        "format": np.array("ldl-artifact-predictor"),
        "version": np.array(1),
        "feature_names": np.array(FEATURE_NAMES),
        "references": np.array(["tta:8"]),
        "weights": weights,
        "bias": np.zeros(1),
        "smooth_sigma": np.array(2.0),
        "trained_on": np.array("test"),
    }
    arrays.update(changes)
    np.savez(path, **{key: value for key, value in arrays.items() if value is not None})  # pyright: ignore[reportArgumentType]
    return path


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"version": np.array(2)}, "version 2"),
        ({"format": np.array("something-else")}, "something-else"),
        ({"bias": None}, "missing"),
        ({"extra": np.zeros(1)}, "unexpected"),
        ({"feature_names": np.array(["a", "b"])}, "other cues"),
        ({"weights": np.zeros((2, len(FEATURE_NAMES)))}, "do not fit"),
        ({"weights": np.full((1, len(FEATURE_NAMES)), np.nan)}, "finite"),
        ({"references": np.array(["bicubic"])}, "unknown reference"),
        ({"smooth_sigma": np.array(-1.0)}, "smooth_sigma"),
    ],
)
def test_bad_predictor_files_are_rejected(tmp_path: Path, changes: dict[str, object], message: str) -> None:
    path = _write(tmp_path / "p.npz", **changes)
    with pytest.raises(PredictorFileError, match=message):
        load_predictor(path)


def test_unreadable_or_missing_predictor_files(tmp_path: Path) -> None:
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(PredictorFileError, match="not a readable"):
        load_predictor(tmp_path / "junk.npz")
    with pytest.raises(PredictorFileError, match="no artifact predictor"):
        load_predictor(tmp_path / "absent.npz")
    only_tta = ArtifactPredictor({"tta:8": LinearCues(np.zeros(len(FEATURE_NAMES)), 0.0)}, 1.0)
    with pytest.raises(PredictorFileError, match="no model for the lanczos"):
        only_tta.for_reference(ReferenceSource.parse("lanczos"))


def test_tta_without_the_identity_averages_the_other_transforms() -> None:
    class Skewed:
        """A runner that is not equivariant: it adds a ramp along the last axis."""

        scale = 1
        description = "skewed"

        def run(self, batch: np.ndarray) -> np.ndarray:
            return batch + np.linspace(0, 1, batch.shape[-1], dtype=np.float32)

        def release_memory(self) -> None:
            pass

    batch = np.random.default_rng(0).random((1, 3, 6, 6), dtype=np.float32)
    full = TtaRunner(Skewed(), 4).run(batch)
    identity = Skewed().run(batch)
    others = TtaRunner(Skewed(), 4, skip_identity=True).run(batch)
    np.testing.assert_allclose((identity + 3 * others) / 4, full, atol=1e-6)
    with pytest.raises(ValueError, match="without the identity"):
        TtaRunner(Skewed(), 1, skip_identity=True)


def test_tta_stops_between_transforms_when_cancelled() -> None:
    token = CancelToken()
    passes: list[int] = []

    class CancelsAfterOnePass:
        scale = 1
        description = "cancels"

        def run(self, batch: np.ndarray) -> np.ndarray:
            passes.append(1)
            token.cancel()
            return batch

        def release_memory(self) -> None:
            pass

    with pytest.raises(CancelledError):
        TtaRunner(CancelsAfterOnePass(), 8, cancel=token).run(np.zeros((1, 3, 4, 4), np.float32))
    assert len(passes) == 1


def test_reference_names_parse_with_or_without_the_colon() -> None:
    assert ReferenceSource.parse("tta4") == ReferenceSource.parse(" tta:4 ") == ReferenceSource(ReferenceKind.TTA, 4)
    assert ReferenceSource.parse("tta").tta_count == 8
    assert str(ReferenceSource.parse("model:realesrnet-x4plus")) == "model:realesrnet-x4plus"
    with pytest.raises(ValueError, match="2, 4 or 8"):
        ReferenceSource.parse("tta3")
