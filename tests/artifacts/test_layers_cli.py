"""``ldl upscale --blend/--layers/--map``: the five layers written together, user masks, clear refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from ldl_backend.artifacts import layers as layers_module
from ldl_backend.cli import main
from ldl_backend.imageio import read_image

COMPACT = ["-m", "realesr-animevideov3", "--threads", "2"]


# Every command here runs with its own LDL_STUDIO_HOME (models, cache) under tmp_path.
pytestmark = pytest.mark.usefixtures("isolated_home")


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    skimage_data = pytest.importorskip("skimage.data")
    path = tmp_path / "cat.png"
    Image.fromarray(skimage_data.chelsea()[100:148, 150:206]).save(path)
    return path


def pixels(path: Path) -> np.ndarray:
    return read_image(path).colour


def layer(folder: Path, name: str) -> np.ndarray:
    return pixels(folder / f"cat_{name}.png").astype(int)


def test_layers_map_and_blend_are_written(photo: Path, tmp_path: Path) -> None:
    out, folder, map_file = tmp_path / "out.png", tmp_path / "layers", tmp_path / "map.png"
    arguments = [str(photo), "-o", str(out), "--blend", "auto", "--layers", str(folder), "--map", str(map_file)]
    assert main(["upscale", *arguments, "--reference", "tta2", *COMPACT]) == 0
    names = sorted(path.name for path in folder.iterdir())
    assert names == [f"cat_{layer}.png" for layer in ("blend", "detail", "map", "map_overlay", "mask", "reference")]
    detail, reference, blend = (layer(folder, name) for name in ("detail", "reference", "blend"))
    assert detail.shape == (192, 224, 3)
    assert np.array_equal(pixels(out), blend)
    assert np.all(blend >= np.minimum(detail, reference)) and np.all(blend <= np.maximum(detail, reference))
    artifact_map = pixels(map_file)
    assert artifact_map.dtype == np.uint16 and artifact_map.shape == (192, 224, 1)
    assert np.array_equal(artifact_map, pixels(folder / "cat_map.png"))
    mask = pixels(folder / "cat_mask.png")[..., 0].astype(np.float64) / 65535
    # Where the mask keeps detail whole, the blend is the detail; where it drops it, the reference.
    assert np.array_equal(blend[mask == 1.0], detail[mask == 1.0])
    assert 0.0 < mask.mean() < 1.0


@pytest.mark.parametrize(("value", "layer"), [(255, "detail"), (0, "reference")])
def test_a_user_mask_decides(photo: Path, tmp_path: Path, value: int, layer: str) -> None:
    mask_file = tmp_path / "mask.png"
    Image.fromarray(np.full((192, 224), value, np.uint8)).save(mask_file)
    out, folder = tmp_path / "out.png", tmp_path / "layers"
    arguments = [str(photo), "-o", str(out), "--blend", str(mask_file), "--layers", str(folder)]
    assert main(["upscale", *arguments, "--reference", "lanczos", *COMPACT]) == 0
    assert np.array_equal(pixels(out), pixels(folder / f"cat_{layer}.png"))


def test_sixteen_bit_input_gives_sixteen_bit_tiff_layers(tmp_path: Path) -> None:
    source = tmp_path / "deep.tif"
    ramp = np.linspace(0, 65535, 40 * 48 * 3).reshape(40, 48, 3).astype(np.uint16)
    tifffile.imwrite(source, ramp, photometric="rgb")
    folder = tmp_path / "layers"
    arguments = [str(source), "-o", str(tmp_path / "out.tif"), "--blend", "auto", "--layers", str(folder)]
    assert main(["upscale", *arguments, "--reference", "lanczos", *COMPACT]) == 0
    for layer in ("detail", "reference", "blend"):
        assert pixels(folder / f"deep_{layer}.tif").dtype == np.uint16
    assert pixels(folder / "deep_map.png").dtype == np.uint16


def test_alpha_survives_the_blend(tmp_path: Path) -> None:
    source = tmp_path / "logo.png"
    rgba = np.zeros((40, 40, 4), np.uint8)
    rgba[8:32, 8:32] = (200, 40, 40, 255)
    Image.fromarray(rgba, "RGBA").save(source)
    out = tmp_path / "out.png"
    assert main(["upscale", str(source), "-o", str(out), "--blend", "auto", "--reference", "tta:2", *COMPACT]) == 0
    result = read_image(out)
    assert result.alpha is not None and result.alpha[0, 0] == 0 and result.alpha[80, 80] == 255


def test_existing_files_are_refused_before_any_work(photo: Path, tmp_path: Path, capsys) -> None:
    folder = tmp_path / "layers"
    folder.mkdir()
    (folder / "cat_mask.png").write_bytes(b"keep me")
    out = tmp_path / "out.png"
    assert main(["upscale", str(photo), "-o", str(out), "--layers", str(folder), *COMPACT]) == 1
    assert "cat_mask.png" in capsys.readouterr().err
    assert not out.exists() and (folder / "cat_mask.png").read_bytes() == b"keep me"
    assert sorted(path.name for path in folder.iterdir()) == ["cat_mask.png"]


def test_a_failed_write_leaves_nothing(photo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = layers_module.write_image
    calls = []

    def failing_write(path, image, **kwargs):
        calls.append(path)
        if len(calls) == 4:
            raise OSError("disk full")
        return real_write(path, image, **kwargs)

    monkeypatch.setattr(layers_module, "write_image", failing_write)
    folder, out = tmp_path / "layers", tmp_path / "out.png"
    with pytest.raises(OSError, match="disk full"):
        main(["upscale", str(photo), "-o", str(out), "--layers", str(folder), "--reference", "lanczos", *COMPACT])
    assert not out.exists()
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--blend", "auto", "--threshold", "1.5"], "threshold must be between 0 and 1"),
        (["--blend", "auto", "--reference", "tta:3"], "2, 4 or 8"),
        (["--blend", "auto", "--reference", "bilinear"], "unknown reference"),
        (["--blend", "missing_mask.png"], "does not exist"),
        (["--map", "m.png", "--backend", "onnx"], "PyTorch backend"),
    ],
)
def test_bad_options_are_explained(photo: Path, tmp_path: Path, capsys, extra: list[str], message: str) -> None:
    assert main(["upscale", str(photo), "-o", str(tmp_path / "o.png"), *extra, *COMPACT]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o.png").exists()


def test_map_needs_a_single_input(photo: Path, tmp_path: Path, capsys) -> None:
    other = tmp_path / "other.png"
    other.write_bytes(photo.read_bytes())
    assert main(["upscale", str(photo), str(other), "--map", str(tmp_path / "m.png"), *COMPACT]) == 2
    assert "--layers DIR" in capsys.readouterr().err
