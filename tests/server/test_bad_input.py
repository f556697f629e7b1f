"""Bad input that used to get a 500 or a misleading error: each now gets a documented 4xx JSON error, or works.

Real bytes to a real server on 127.0.0.1; the same tiny images through ``ldl upscale`` for the command line.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ldl_backend.cli import main
from tests.server.conftest import COMPACT, Server, error_of, png_bytes

LANCZOS = f"model={COMPACT}&reference=lanczos"
JSON = {"Content-Type": "application/json"}
# Sides of the degenerate images: a single pixel, a single row, a single column, and the smallest square.
TINY = [(1, 1), (1, 7), (7, 1), (2, 2)]


@pytest.fixture(autouse=True)
def still_healthy(server: Server) -> Iterator[None]:
    yield
    server.healthy()


@pytest.fixture(scope="module")
def finished(server: Server, photo_png: bytes) -> str:
    """A succeeded job to re-blend."""
    job = server.wait(server.submit(photo_png, LANCZOS))
    assert job["state"] == "succeeded", job
    return job["id"]


def inputs_left(server: Server) -> set[str]:
    folder = server.home / "cache" / "inputs"
    return {item.name for item in folder.iterdir()} if folder.is_dir() else set()


def tiny_pixels(width: int, height: int) -> np.ndarray:
    return np.random.default_rng(width * 100 + height).integers(0, 256, (height, width, 3), dtype=np.uint8)


@pytest.mark.parametrize(
    "body",
    [
        # Under the 64 KiB limit of a JSON body, and far deeper than the parser's recursion limit (about 1,000).
        b"[" * 60_000,
        b'{"a":' * 12_000,
        b'{"threshold": 0.3, "softness": ' + b"[" * 5_000 + b"]" * 5_000 + b"}",
    ],
    ids=["arrays", "objects", "inside-a-field"],
)
def test_deeply_nested_json_to_reblend_is_a_bad_request(server: Server, finished: str, body: bytes) -> None:
    error_of(server.request("POST", f"/jobs/{finished}/reblend", body, JSON), 400, "bad_request")


def test_a_huge_json_body_is_refused_before_it_is_parsed(server: Server, finished: str) -> None:
    body = b'{"threshold": 0.3, "softness": 0.4, "pad": "' + b"x" * 100_000 + b'"}'
    document = error_of(server.request("POST", f"/jobs/{finished}/reblend", body, JSON), 413, "body_too_large")
    assert "65,536" in document["message"]
    # The job is untouched: a valid re-blend still works.
    reply = server.request("POST", f"/jobs/{finished}/reblend", b'{"threshold": 0.3, "softness": 0.4}', JSON)
    assert reply.status == 200, reply.body


@pytest.mark.parametrize(("width", "height"), TINY)
def test_tiny_images_upscale_through_the_server(server: Server, width: int, height: int) -> None:
    """The full TTA reference flips every axis, a 1-pixel one included (it used to fail in PyTorch on the negative
    stride of the flipped axis)."""
    image = png_bytes(tiny_pixels(width, height))
    job = server.wait(server.submit(image, f"model={COMPACT}&reference=tta"))
    assert job["state"] == "succeeded", job
    assert (job["width"], job["height"]) == (4 * width, 4 * height)
    layer = server.request("GET", f"/jobs/{job['id']}/layers/blend?format=raw")
    assert layer.status == 200 and len(layer.body) == 16 * width * height * 3
    assert job["id"] not in inputs_left(server)


@pytest.mark.parametrize(("width", "height"), TINY)
def test_tiny_images_upscale_with_the_command_line(
    tmp_path: Path, isolated_home: Path, capsys: pytest.CaptureFixture[str], width: int, height: int
) -> None:
    source = tmp_path / f"{width}x{height}.png"
    Image.fromarray(tiny_pixels(width, height)).save(source)
    output = tmp_path / "out.png"
    assert main(["upscale", str(source), "-o", str(output), "-m", COMPACT, "--blend", "auto"]) == 0, (
        capsys.readouterr().err
    )
    with Image.open(output) as result:
        assert result.size == (4 * width, 4 * height)


@pytest.mark.parametrize(
    ("reference", "status", "code", "words"),
    [
        ("model:realesrnet-x4plus", 404, "unknown_model", "not installed"),  # in the catalog, never fetched here
        ("model:no-such-model", 404, "unknown_model", "not a model in the catalog"),
        ("model:ldl-realworld-rrdb-x2", 400, "bad_request", "×2"),  # a reference must upscale like the model
    ],
)
def test_a_reference_model_is_checked_at_submit(
    server: Server, photo_png: bytes, reference: str, status: int, code: str, words: str
) -> None:
    before = inputs_left(server)
    reply = server.request(
        "POST", f"/jobs?model={COMPACT}&reference={reference}", photo_png, {"Content-Type": "image/png"}
    )
    assert words in error_of(reply, status, code)["message"]
    assert inputs_left(server) == before
    # The same name as the model itself gets the same answer shape.
    if code == "unknown_model":
        name = reference.removeprefix("model:")
        error_of(server.request("POST", f"/jobs?model={name}", photo_png, {"Content-Type": "image/png"}), 404, code)
