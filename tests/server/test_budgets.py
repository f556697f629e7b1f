"""Budgets checked at submit from the image's header, before a pixel is decoded: output pixels, the job's memory
estimate, and the cache's room for inputs. Crafted PNG headers stand in for big images (a few hundred bytes that
claim gigapixels), sent to a real server on 127.0.0.1.

The test server runs in this process (uvicorn in a thread, the worker in its own process), so the API process's
resident memory is this process's ``VmRSS`` (and its peak ``VmHWM``) in /proc/self/status.
"""

from __future__ import annotations

import struct
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from ldl_backend.cli import main
from tests.server.conftest import COMPACT, Reply, Server, error_of, png_bytes, start_server

PNG = {"Content-Type": "image/png"}
# What a refused image may leave in the API process: a few request buffers and log records, nothing image-sized
# (one decoded image of these headers is hundreds of megabytes or more).
RSS_GROWTH_LIMIT = 16 << 20
BUDGET_MEMORY = 400_000_000
BUDGET_OUTPUT = 50_000_000


def status_bytes(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} in /proc/self/status")


def rss_bytes() -> int:
    return status_bytes("VmRSS")


class MemoryWatch:
    """The API process's resident memory across a request: its growth, and its peak growth while the request ran
    (an image decoded and freed again leaves RSS where it was but shows in the peak). Writing 5 to clear_refs
    resets the peak (VmHWM) to the current RSS."""

    def __enter__(self) -> MemoryWatch:
        Path("/proc/self/clear_refs").write_text("5")
        self.before = rss_bytes()
        return self

    def __exit__(self, *_: object) -> None:
        self.growth = rss_bytes() - self.before
        self.peak_growth = status_bytes("VmHWM") - self.before

    def check(self) -> None:
        assert self.growth <= RSS_GROWTH_LIMIT, f"RSS grew by {self.growth / 2**20:.0f} MiB"
        assert self.peak_growth <= RSS_GROWTH_LIMIT, f"RSS peaked {self.peak_growth / 2**20:.0f} MiB higher"


def chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def crafted_png(width: int, height: int, *, bit_depth: int = 8, colour_type: int = 2, complete: bool = True) -> bytes:
    """A PNG of ``width``×``height`` black pixels (every CRC right, IEND present), about a thousandth of its decoded
    size; ``complete=False``: only a few rows of pixel data, so it is tiny however large the header's claim."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    samples = {0: 1, 2: 3, 4: 2, 6: 4}[colour_type]
    row = b"\0" * (1 + width * samples * bit_depth // 8)  # filter byte 0, then the samples
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(height if complete else 4)) + packer.flush()
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def cache_entries(server: Server) -> set[str]:
    """Everything under the cache's inputs and scratch folders."""
    cache = server.home / "cache"
    return {str(path.relative_to(cache)) for folder in ("inputs", "scratch") for path in (cache / folder).glob("*")}


@pytest.fixture(scope="module")
def budget_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("budgets")
    yield from start_server(home, max_output_pixels=BUDGET_OUTPUT, max_job_memory=BUDGET_MEMORY)


def submit(server: Server, body: bytes, query: str = f"model={COMPACT}&reference=lanczos") -> Reply:
    return server.request("POST", f"/jobs?{query}", body, PNG)


@pytest.mark.parametrize(
    ("width", "height", "bit_depth", "colour_type", "complete", "query"),
    [
        # A whole 6,000² image (108 MB decoded) in 105 KB, at the largest scale: 9.2 gigapixels out.
        (6_000, 6_000, 8, 2, True, f"model={COMPACT}&scale=16"),
        # 16-bit RGBA just under the input cap of 178,956,970 pixels: 1.35 GB decoded, ×4 = 2.7 gigapixels.
        (13_000, 13_000, 16, 6, False, f"model={COMPACT}"),
    ],
)
def test_an_oversize_output_is_refused_before_decoding(
    server: Server, width: int, height: int, bit_depth: int, colour_type: int, complete: bool, query: str
) -> None:
    body = crafted_png(width, height, bit_depth=bit_depth, colour_type=colour_type, complete=complete)
    assert len(body) < 200_000
    before_files, started = cache_entries(server), time.monotonic()
    with MemoryWatch() as memory:
        reply = submit(server, body, query)
    elapsed = time.monotonic() - started
    document = error_of(reply, 422, "output_too_large")
    assert "1,000,000,000" in document["message"] and "crop" in document["hint"], document
    assert "--max-pixels" in document["hint"]
    assert elapsed < 2, f"refusing took {elapsed:.1f} s: the image was decoded"
    memory.check()
    assert cache_entries(server) == before_files


def test_the_output_limit_is_the_servers_setting(budget_server: Server) -> None:
    # 2,000 × 1,700 × 16 = 54.4 MP out, over this server's 50 MP, though far under the default gigapixel.
    document = error_of(submit(budget_server, crafted_png(2_000, 1_700)), 422, "output_too_large")
    assert "50,000,000" in document["message"], document
    # A final scale above the model's own: the hint suggests a smaller one.
    document = error_of(
        submit(budget_server, crafted_png(1_000, 1_000), f"model={COMPACT}&scale=8"), 422, "output_too_large"
    )
    assert "smaller scale" in document["hint"], document


def test_a_job_over_the_memory_budget_is_refused_with_what_would_fit(budget_server: Server) -> None:
    # 1,500² × 16 = 36 MP out: under the output limit, but its layers alone take about a gigabyte.
    before_files, body = cache_entries(budget_server), crafted_png(1_500, 1_500)
    with MemoryWatch() as memory:
        reply = submit(budget_server, body)
    document = error_of(reply, 422, "over_memory_budget")
    assert "MB" in document["message"] and "400 MB" in document["message"], document
    assert "crop of at most" in document["hint"] and "--max-job-memory" in document["hint"], document
    memory.check()
    assert cache_entries(budget_server) == before_files
    # A 1,024-pixel tile's activations alone pass the budget: the hint names the tile.
    document = error_of(
        submit(budget_server, png_bytes(np.zeros((8, 8, 3), np.uint8)), f"model={COMPACT}&tile=1024"),
        422,
        "over_memory_budget",
    )
    assert "smaller tile" in document["hint"], document


def test_a_job_within_the_budgets_runs(budget_server: Server, photo_png: bytes) -> None:
    job = budget_server.wait(budget_server.submit(photo_png))
    assert job["state"] == "succeeded", job
    assert cache_entries(budget_server) == set()


def test_damaged_pixel_data_fails_the_job_in_the_worker(server: Server) -> None:
    """The header and every CRC are right, so the submission is accepted; the pixel data does not decode, and only
    the worker ever tries."""
    header = struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0)
    body = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"not zlib at all") + chunk(b"IEND", b"")
    with MemoryWatch() as memory:
        reply = submit(server, body)
        assert reply.status == 202, reply.body
        job = server.wait(reply.json()["id"])
    assert job["state"] == "failed" and job["error"]["code"] == "bad_image", job
    assert "upload.bin" not in job["error"]["message"], job
    memory.check()
    assert cache_entries(server) == set()
    assert server.healthy()["worker"] == "ready"


def test_waiting_inputs_count_towards_the_cache_limit(tmp_path: Path, large_png: bytes, photo_png: bytes) -> None:
    """The cap covers the inputs of waiting jobs too: past it a submission gets 507 with Retry-After, and the
    inputs stored stay within the cap. A job alone is always admitted (see test_cache_cap)."""
    cap = len(large_png) + 2 * len(photo_png) + len(photo_png) // 2
    servers = start_server(tmp_path, cache_bytes=cap)
    server = next(servers)
    try:
        running = server.submit(large_png, f"model={COMPACT}&reference=tta")  # seconds of work on two cores
        waiting = [server.submit(photo_png) for _ in range(2)]
        reply = submit(server, photo_png)
        document = error_of(reply, 507, "cache_full")
        assert reply.headers["retry-after"] == "5" and "--cache-bytes" in document["hint"], document
        inputs = tmp_path / "cache" / "inputs"
        stored = sum(item.stat().st_size for folder in inputs.iterdir() for item in folder.iterdir())
        assert stored <= cap and {folder.name for folder in inputs.iterdir()} == {running, *waiting}
        for job_id in (running, *waiting):
            server.request("POST", f"/jobs/{job_id}/cancel")
        for job_id in (running, *waiting):
            assert server.wait(job_id)["state"] in ("cancelled", "succeeded")
        assert not any(inputs.iterdir())
    finally:
        servers.close()


@pytest.mark.parametrize(
    ("option", "field"), [("--max-pixels", "max_output_pixels"), ("--max-job-memory", "max_job_memory")]
)
def test_ldl_serve_takes_the_budgets(capsys: pytest.CaptureFixture[str], option: str, field: str) -> None:
    assert main(["serve", option, "0"]) == 2
    assert f"{field} must be at least 1" in capsys.readouterr().err
