"""The layer cache's size cap (``--cache-bytes``): past it, the oldest finished jobs go (record and layers, as by
``DELETE``); newer ones stay, and a job that is still queued or running is never touched."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.server.conftest import png_bytes, start_server

SIDE = 16  # input side; the compact model upscales 4×
# A finished job's layers: detail, reference and blend (RGB uint8) and map and mask (float32), as .npy files.
LAYER_BYTES = (4 * SIDE) ** 2 * (3 * 3 + 2 * 4)


def folder_bytes(folder: Path) -> int:
    return sum(item.stat().st_size for item in folder.iterdir())


def test_oldest_finished_jobs_are_evicted(tmp_path: Path, photo: np.ndarray) -> None:
    image = png_bytes(np.ascontiguousarray(photo[:SIDE, :SIDE]))
    cap = LAYER_BYTES * 5 // 2  # room for two jobs' layers, not three
    servers = start_server(tmp_path, cache_bytes=cap)
    server = next(servers)
    layers = tmp_path / "cache" / "layers"
    try:
        first, second = (server.wait(server.submit(image))["id"] for _ in range(2))
        sizes = [folder_bytes(layers / job_id) for job_id in (first, second)]
        assert 2 * max(sizes) <= cap < 3 * min(sizes), f"the cap must fit two jobs' layers, not three: {sizes}"

        # Three more, sent together: when one finishes and evicts, the later ones are queued, never evicted.
        third, fourth, fifth = (server.submit(image) for _ in range(3))
        assert server.wait(fifth)["state"] == "succeeded"

        listed = [job["id"] for job in server.request("GET", "/jobs").json()["jobs"]]
        assert listed == [fifth, fourth], "the two newest finished jobs stay, and only they"
        for gone in (first, second, third):
            assert server.request("GET", f"/jobs/{gone}").status == 404
            assert server.request("GET", f"/jobs/{gone}/layers/blend").status == 404
            assert not (layers / gone).exists() and not (tmp_path / "cache" / "inputs" / gone).exists()
        for kept in (fourth, fifth):
            assert server.job(kept)["state"] == "succeeded"
            assert server.request("GET", f"/jobs/{kept}/layers/blend").status == 200
        assert sorted(folder.name for folder in layers.iterdir()) == sorted([fourth, fifth])
        assert sum(folder_bytes(layers / job_id) for job_id in (fourth, fifth)) <= cap
    finally:
        servers.close()


def test_a_job_larger_than_the_cap_is_kept_until_the_next_one(tmp_path: Path, photo: np.ndarray) -> None:
    """The newest finished job is never evicted, even alone over the cap: its owner has not fetched it yet."""
    image = png_bytes(np.ascontiguousarray(photo[:SIDE, :SIDE]))
    servers = start_server(tmp_path, cache_bytes=1)
    server = next(servers)
    try:
        first = server.submit(image)
        assert server.wait(first)["state"] == "succeeded"  # over the cap alone, and kept
        assert server.request("GET", f"/jobs/{first}/layers/detail").status == 200
        second = server.submit(image)
        assert server.wait(second)["state"] == "succeeded"
        assert server.request("GET", f"/jobs/{first}").status == 404
        assert server.request("GET", f"/jobs/{second}/layers/detail").status == 200
    finally:
        servers.close()
