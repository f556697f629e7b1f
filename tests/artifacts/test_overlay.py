"""Map pictures: 16-bit gray keeps precision, the overlay shows the map in colour over a dimmed image."""

from __future__ import annotations

import numpy as np
import pytest

from ldl_backend.artifacts.overlay import heat_colours, map_overlay, map_to_uint16


def test_uint16_map_keeps_fine_steps() -> None:
    values = np.array([[0.0, 1e-4, 0.5, 1.0, 1.5]], np.float32)
    assert map_to_uint16(values)[..., 0].tolist() == [[0, 7, 32768, 65535, 65535]]


def test_heat_colours_run_from_yellow_to_red() -> None:
    colours = heat_colours(np.array([[0.0, 1.0]], np.float32))
    assert colours[0, 0, 0] > 0.9 and colours[0, 0, 1] > 0.8  # yellow
    assert colours[0, 1, 0] > 0.8 and colours[0, 1, 1] < 0.3  # red


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_overlay_is_gray_where_the_map_is_zero_and_red_where_it_is_one(dtype: type) -> None:
    image = np.full((4, 4, 3), {np.uint8: 128, np.uint16: 32896, np.float32: 128 / 255}[dtype], dtype=dtype)
    artifact_map = np.zeros((4, 4), np.float32)
    artifact_map[0, 0] = 1.0
    overlay = map_overlay(image, artifact_map)
    assert overlay.dtype == np.uint8 and overlay.shape == (4, 4, 3)
    assert np.ptp(overlay[3, 3].astype(int)) == 0  # gray
    assert overlay[0, 0, 0] > overlay[0, 0, 1] + 80  # reddish


def test_overlay_refuses_mismatched_sizes() -> None:
    with pytest.raises(ValueError, match="differ in size"):
        map_overlay(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 5), np.float32))
