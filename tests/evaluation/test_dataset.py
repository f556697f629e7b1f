"""Dataset discovery for ``ldl eval``: the three layouts and the errors for the ones it refuses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ldl_backend.evaluation.dataset import DatasetError, DatasetKind, discover_dataset
from ldl_backend.imageio import ImageData, write_image


def make_image(path: Path, size: int = 8) -> None:
    write_image(path, ImageData(np.zeros((size, size, 3), np.uint8)))


def test_hr_only(tmp_path: Path) -> None:
    for name in ("b.png", "a.png"):
        make_image(tmp_path / "HR" / name)
    (tmp_path / "HR" / "notes.txt").write_text("not an image")
    dataset = discover_dataset(tmp_path)
    assert dataset.kind is DatasetKind.HR_ONLY and dataset.has_ground_truth
    assert [image.name for image in dataset.images] == ["a", "b"]
    assert all(image.lr is None for image in dataset.images)


def test_pairs_match_by_name_across_extensions(tmp_path: Path) -> None:
    make_image(tmp_path / "HR" / "a.png")
    make_image(tmp_path / "LR" / "a.jpg")
    dataset = discover_dataset(tmp_path)
    assert dataset.kind is DatasetKind.PAIRED
    assert dataset.images[0].lr == tmp_path / "LR" / "a.jpg"


def test_mismatched_pairs_name_the_missing_files(tmp_path: Path) -> None:
    make_image(tmp_path / "HR" / "a.png")
    make_image(tmp_path / "HR" / "b.png")
    make_image(tmp_path / "LR" / "a.png")
    make_image(tmp_path / "LR" / "c.png")
    with pytest.raises(DatasetError, match=r"without LR: b.*without HR: c"):
        discover_dataset(tmp_path)


@pytest.mark.parametrize("sub_folder", ["", "LR"])
def test_low_resolution_only(tmp_path: Path, sub_folder: str) -> None:
    make_image(tmp_path / sub_folder / "x.png" if sub_folder else tmp_path / "x.png")
    dataset = discover_dataset(tmp_path)
    assert dataset.kind is DatasetKind.LR_ONLY and not dataset.has_ground_truth


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not a folder"):
        discover_dataset(tmp_path / "missing")
    (tmp_path / "HR").mkdir()
    with pytest.raises(DatasetError, match="no images"):
        discover_dataset(tmp_path)
    make_image(tmp_path / "HR" / "a.png")
    make_image(tmp_path / "HR" / "a.jpg")
    with pytest.raises(DatasetError, match="same name"):
        discover_dataset(tmp_path)


def test_lr_names_may_carry_the_scale(tmp_path: Path) -> None:
    make_image(tmp_path / "HR" / "0801.png")
    make_image(tmp_path / "LR" / "0801x4.png")
    make_image(tmp_path / "HR" / "baby.png")
    make_image(tmp_path / "LR" / "baby_x4.png")
    dataset = discover_dataset(tmp_path)
    assert {image.name: image.lr.name for image in dataset.images if image.lr} == {
        "0801": "0801x4.png",
        "baby": "baby_x4.png",
    }
