"""The project's shared real-world inputs (skipped when ../shared/data is absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ldl_backend.imageio import probe_image, read_image, write_image


def test_tree_alpha_16bit_keeps_16_bits(shared_data: Path, tmp_path: Path) -> None:
    image = read_image(shared_data / "realworld" / "tree_alpha_16bit.png")
    assert image.dtype == np.uint16
    assert image.colour.shape[2] == 3
    assert image.alpha is not None
    assert int(image.colour.max()) > 255
    assert bool((image.colour % 257 != 0).any())  # real 16-bit data, not 8-bit widened
    assert image.metadata.source_mode == "RGBA;16"
    for suffix in ("png", "tif"):
        write_image(tmp_path / f"tree.{suffix}", image)
        again = read_image(tmp_path / f"tree.{suffix}")
        np.testing.assert_array_equal(again.colour, image.colour)
        np.testing.assert_array_equal(again.alpha, image.alpha)
        assert again.metadata.icc_profile == image.metadata.icc_profile


def test_children_alpha_has_alpha(shared_data: Path) -> None:
    image = read_image(shared_data / "realworld" / "children-alpha.png")
    assert image.dtype == np.uint8
    assert image.alpha is not None
    assert bool((image.alpha < 255).any())
    assert probe_image(shared_data / "realworld" / "children-alpha.png").has_alpha


def test_gray_inputs_read_as_one_channel(shared_data: Path) -> None:
    for name in ("00017_gray.png", "wolf_gray.jpg"):
        path = shared_data / "realworld" / name
        image = read_image(path)
        assert image.colour.shape[2] == 1, name
        assert image.alpha is None
        assert probe_image(path).channels == 1


def test_every_shared_input_reads(shared_data: Path) -> None:
    for path in sorted((shared_data / "realworld").iterdir()) + sorted((shared_data / "realsrset").iterdir()):
        info = probe_image(path)
        image = read_image(path)
        assert (image.width, image.height) == (info.width, info.height), path.name
