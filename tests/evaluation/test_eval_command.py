"""``ldl eval`` end to end on real photos with the compact model and the bicubic baseline."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ldl_backend.cli import main

SHARED_NIQE = Path(__file__).resolve().parents[3] / "shared" / "data" / "niqe_pris_params.npz"


# Every command here runs with its own LDL_STUDIO_HOME (models, cache) under tmp_path.
pytestmark = pytest.mark.usefixtures("isolated_home")


@pytest.fixture
def photo_set(tmp_path: Path) -> Path:
    skimage_data = pytest.importorskip("skimage.data")
    root = tmp_path / "set"
    (root / "HR").mkdir(parents=True)
    for name in ("astronaut", "chelsea", "coffee"):
        pixels = getattr(skimage_data, name)()
        top, left = pixels.shape[0] // 2 - 50, pixels.shape[1] // 2 - 50
        Image.fromarray(pixels[top : top + 98, left : left + 101]).save(root / "HR" / f"{name}.png")
    return root


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as stream:
        return list(csv.DictReader(stream))


def run_eval(data: Path, out: Path, *extra: str) -> int:
    arguments = ["eval", "-m", "bicubic", "-m", "realesr-animevideov3", "--data", str(data), "--threads", "2"]
    return main([*arguments, "--out", str(out / "report.md"), "--csv", str(out / "report.csv"), *extra])


def test_report_is_produced_and_byte_identical_on_a_rerun(photo_set: Path, tmp_path: Path) -> None:
    assert run_eval(photo_set, tmp_path / "first", "--no-timings") == 0
    assert run_eval(photo_set, tmp_path / "second", "--no-timings") == 0
    for name in ("report.md", "report.csv"):
        assert (tmp_path / "first" / name).read_bytes() == (tmp_path / "second" / name).read_bytes()
    rows = read_csv(tmp_path / "first" / "report.csv")
    assert [row["image"] for row in rows] == ["astronaut", "chelsea", "coffee"] * 2 + ["mean", "mean"]
    assert {"psnr_y", "ssim_y", "niqe", "lpips"} <= set(rows[0])
    bicubic = next(row for row in rows if row["image"] == "mean" and row["model"] == "bicubic")
    model = next(row for row in rows if row["image"] == "mean" and row["model"] == "realesr-animevideov3")
    # Bicubic ×4 of real photos: well below a perfect reconstruction (inf), in the range published tables show.
    assert 20.0 < float(bicubic["psnr_y"]) < 35.0 < math.inf
    assert 0.5 < float(bicubic["ssim_y"]) < 1.0
    assert 18.0 < float(model["psnr_y"]) < 35.0
    assert model["lpips"] == "not installed"
    markdown = (tmp_path / "first" / "report.md").read_text()
    assert markdown.index("MATLAB-style bicubic ×1/4") < markdown.index("| model |")


def test_given_lr_files_score_like_lr_made_here(photo_set: Path, tmp_path: Path, isolated_home: Path) -> None:
    assert run_eval(photo_set, tmp_path / "made", "--no-timings") == 0
    cached = sorted((isolated_home / "cache" / "eval-low-res").glob("*.png"))
    assert len(cached) == 3
    (photo_set / "LR").mkdir()
    for name in ("astronaut", "chelsea", "coffee"):
        # The same LR the first run made, now as a file of the set (named the benchmark-pack way).
        made = _made_low_res(photo_set / "HR" / f"{name}.png")
        Image.fromarray(made).save(photo_set / "LR" / f"{name}x4.png")
    assert run_eval(photo_set, tmp_path / "given", "--no-timings") == 0
    made_rows = read_csv(tmp_path / "made" / "report.csv")
    given_rows = read_csv(tmp_path / "given" / "report.csv")
    assert [row["psnr_y"] for row in made_rows] == [row["psnr_y"] for row in given_rows]


def _made_low_res(hr_file: Path) -> np.ndarray:
    from ldl_backend.degradations.imresize import bicubic_degrade

    hr = np.asarray(Image.open(hr_file).convert("RGB"), np.float32) / 255.0
    return np.round(np.clip(bicubic_degrade(hr, 4), 0, 1) * 255).astype(np.uint8)


def test_low_resolution_only_sets_get_niqe_and_no_full_reference_scores(tmp_path: Path) -> None:
    if not SHARED_NIQE.is_file():
        pytest.skip(f"needs the NIQE parameters at {SHARED_NIQE}")
    skimage_data = pytest.importorskip("skimage.data")
    assert main(["models", "import", str(SHARED_NIQE), "--name", "niqe-pristine"]) == 0
    root = tmp_path / "lr"
    root.mkdir()
    Image.fromarray(skimage_data.chelsea()[100:164, 150:214]).save(root / "chelsea.png")
    out = tmp_path / "report.csv"
    assert main(["eval", "-m", "realesr-animevideov3", "--data", str(root), "--csv", str(out)]) == 0
    row = read_csv(out)[0]
    assert row["psnr_y"] == "n/a" and row["ssim_y"] == "n/a"
    assert 1.0 < float(row["niqe"]) < 20.0


def test_errors_are_clear(photo_set: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "-m", "realesr-animevideov3", "--data", str(photo_set), "--scale", "2"]) == 2
    assert "×4 model but the evaluation is ×2" in capsys.readouterr().err
    (photo_set / "LR").mkdir()
    Image.fromarray(np.zeros((10, 10, 3), np.uint8)).save(photo_set / "LR" / "astronaut.png")
    assert main(["eval", "-m", "bicubic", "--data", str(photo_set)]) == 2
    assert "do not pair up" in capsys.readouterr().err
    report = tmp_path / "exists.md"
    report.write_text("keep me")
    assert main(["eval", "-m", "bicubic", "--data", str(photo_set), "--out", str(report)]) == 2
    assert report.read_text() == "keep me"
    assert main(["eval", "-m", "bicubic", "--data", str(photo_set), "--layers", "blur"]) == 2
    assert "choose from detail, reference, blend" in capsys.readouterr().err


def test_reference_and_blend_layers_are_scored_as_their_own_rows(photo_set: Path, tmp_path: Path) -> None:
    arguments = ["eval", "-m", "realesr-animevideov3", "--data", str(photo_set), "--layers", "detail,reference,blend"]
    out = tmp_path / "layers.csv"
    assert main([*arguments, "--reference", "tta:2", "--csv", str(out), "--threads", "2"]) == 0
    means = {row["model"]: float(row["psnr_y"]) for row in read_csv(out) if row["image"] == "mean"}
    assert set(means) == {"realesr-animevideov3", "realesr-animevideov3:reference", "realesr-animevideov3:blend"}
    # The blend mixes the two: its PSNR lies between theirs (or close above, where the mask picks well).
    low, high = sorted((means["realesr-animevideov3"], means["realesr-animevideov3:reference"]))
    assert low - 0.05 <= means["realesr-animevideov3:blend"] <= high + 0.5
