"""The pure parts: RawImage round trips, content-type sniffing, options, event-stream parsing, locations."""

from __future__ import annotations

import array
import os
import struct
import sys
import tempfile
from pathlib import Path

import pytest

from ldl_client import ProtocolError, RawImage, SubmitOptions, UnsupportedImageError, default_locations
from ldl_client import sniff_content_type as sniff
from ldl_client.event_stream import Event, parse_events
from ldl_client.records import parse_health


@pytest.mark.parametrize(
    ("dtype", "typecode", "values"),
    [("uint8", "B", [0, 7, 255]), ("uint16", "H", [0, 513, 65535]), ("float32", "f", [0.0, 0.25, 1.0])],
)
def test_raw_image_round_trips(dtype: str, typecode: str, values: list[float]) -> None:
    samples = array.array(typecode, values * 2)
    image = RawImage.from_samples(2, 1, 3, dtype, samples)  # type: ignore[arg-type]
    assert image.samples() == samples
    assert RawImage.from_headers(image.headers(), image.data) == image
    # The wire format is little-endian whatever the machine.
    little = {"uint8": "<6B", "uint16": "<6H", "float32": "<6f"}[dtype]
    assert image.data == struct.pack(little, *(values * 2))


def test_raw_image_from_big_endian_buffer() -> None:
    image = RawImage.from_buffer(2, 1, 1, "uint16", struct.pack(">2H", 1, 0x0203), byteorder="big")
    assert image.data == struct.pack("<2H", 1, 0x0203)
    native = RawImage.from_buffer(1, 1, 1, "uint16", array.array("H", [700]).tobytes(), byteorder="native")
    assert list(native.samples()) == [700]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0, 1, 3, "uint8", b""), "empty"),
        ((1, 1, 2, "uint8", b"\0\0"), "2 channels"),
        ((1, 1, 1, "int8", b"\0"), "int8"),
        ((2, 2, 3, "uint16", bytes(23)), "23 bytes"),
    ],
)
def test_raw_image_rejects_inconsistent_fields(args: tuple[int, int, int, str, bytes], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RawImage(*args)


def test_raw_image_from_bad_headers_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="X-Ldl-Width=x"):
        RawImage.from_headers({"x-ldl-width": "x", "x-ldl-height": "1"}, b"")


@pytest.mark.parametrize(
    ("head", "content_type"),
    [
        (b"\x89PNG\r\n\x1a\n\0\0", "image/png"),
        (b"II*\0\x08\0\0\0", "image/tiff"),
        (b"MM\0*\0\0\0\x08", "image/tiff"),
        (b"II+\0\x08\0\0\0", "image/tiff"),
        (b"\xff\xd8\xff\xe0\0\x10JFIF", "image/jpeg"),
        (b"RIFF\x24\0\0\0WEBPVP8 ", "image/webp"),
    ],
)
def test_content_type_from_magic_bytes(head: bytes, content_type: str) -> None:
    assert sniff(head) == content_type
    assert sniff(memoryview(head + b"rest")) == content_type


@pytest.mark.parametrize("data", [b"", b"GIF89a", b"RIFF\0\0\0\0WAVE", b"<svg", b"\x89PN"])
def test_unknown_content_is_refused(data: bytes) -> None:
    with pytest.raises(UnsupportedImageError, match="not a PNG, TIFF, JPEG or WebP"):
        sniff(data)


def test_options_query_leaves_out_a_default_scale() -> None:
    query = SubmitOptions(model="x4").query()
    assert query == "model=x4&reference=tta%3A8&threshold=0.3&softness=0.4&alpha=resize"
    explicit_auto = SubmitOptions(model="x4", device="auto", precision="auto", tile=None)
    assert explicit_auto.query() == query  # what older servers, which refuse these options, are sent


@pytest.mark.parametrize(
    ("fields", "added"),
    [
        ({"device": "cpu"}, "&device=cpu"),
        ({"device": "cuda:1"}, "&device=cuda%3A1"),
        ({"precision": "bf16"}, "&precision=bf16"),
        ({"tile": 16}, "&tile=16"),
        ({"device": "mps", "precision": "fp16", "tile": 8192}, "&device=mps&precision=fp16&tile=8192"),
    ],
)
def test_options_query_sends_advanced_options_only_when_chosen(fields: dict[str, object], added: str) -> None:
    base = "model=x4&reference=tta%3A8&threshold=0.3&softness=0.4&alpha=resize"
    assert SubmitOptions(model="x4", **fields).query() == base + added  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"model": "../x"}, "catalog id"),
        ({"model": "X4"}, "catalog id"),
        ({"model": "a" * 65}, "catalog id"),
        ({"model": "x", "scale": 0}, "scale"),
        ({"model": "x", "threshold": 1.5}, "threshold"),
        ({"model": "x", "softness": float("nan")}, "softness"),
        ({"model": "x", "reference": "tta 8"}, "reference"),
        ({"model": "x", "alpha": "drop"}, "alpha"),
        ({"model": "x", "device": "gpu"}, "device 'gpu' must be auto, cpu, cuda, cuda:N or mps"),
        ({"model": "x", "device": "CUDA"}, "device"),
        ({"model": "x", "device": "cuda:01"}, "device"),
        ({"model": "x", "device": "cuda:"}, "device"),
        ({"model": "x", "device": None}, "device"),
        ({"model": "x", "precision": "fp8"}, "precision 'fp8' must be one of auto, fp32, fp16, bf16"),
        ({"model": "x", "precision": "FP32"}, "precision"),
        ({"model": "x", "tile": 15}, "tile 15 must be a whole number of pixels from 16 to 8192"),
        ({"model": "x", "tile": 8193}, "tile 8193"),
        ({"model": "x", "tile": 0}, "tile"),
        ({"model": "x", "tile": 64.0}, "tile"),
        ({"model": "x", "tile": "64"}, "tile"),
        ({"model": "x", "tile": True}, "tile"),
    ],
)
def test_options_are_validated(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SubmitOptions(**fields)  # type: ignore[arg-type]


def test_health_devices_from_new_and_older_servers() -> None:
    report = {"status": "ok", "version": "1", "api": 1, "worker": "ready", "queued": 0, "running": 0}
    assert parse_health(report).devices == ("cpu",)  # an older server, before the device option
    assert parse_health(report | {"devices": ["cpu", "cuda:0"]}).devices == ("cpu", "cuda:0")
    for wrong in ([], "cpu", ["cpu", 0], None):
        with pytest.raises(ProtocolError, match="devices"):
            parse_health(report | {"devices": wrong})


def test_event_stream_parsing() -> None:
    lines = [
        b": comment\n",
        b"\n",
        b"event: progress\r\n",
        b'data: {"a":\r\n',
        b"data:1}\n",
        b"id: 7\n",
        b"\n",
        b"data: plain\n",
        b"\n",
        b"event: end\n",
        b"\n",
        b"event: progress\n",
        b"data: cut off by the end of the stream\n",
    ]
    assert list(parse_events(lines)) == [
        Event("progress", '{"a":\n1}', "7"),
        Event("message", "plain", "7"),
        Event("end", "", "7"),
    ]


def test_locations_with_ldl_studio_home(tmp_path: Path) -> None:
    locations = default_locations({"LDL_STUDIO_HOME": str(tmp_path)}, "linux")
    assert locations.discovery_files == (tmp_path / "run" / "server.json",)
    assert locations.log_file == tmp_path / "logs" / "server.log"


@pytest.mark.skipif(sys.platform == "win32", reason="uses the POSIX uid")
def test_locations_on_linux_follow_platformdirs() -> None:
    uid = os.geteuid()
    env = {"HOME": "/home/u", "XDG_RUNTIME_DIR": "/run/user/1000", "XDG_STATE_HOME": "/home/u/.state"}
    files = default_locations(env, "linux").discovery_files
    assert files == (
        Path("/run/user/1000/ldl-studio/server.json"),
        Path(f"/run/user/{uid}/ldl-studio/server.json"),
        Path(tempfile.gettempdir()) / f"runtime-{uid}" / "ldl-studio" / "server.json",
        Path("/home/u/.state/ldl-studio/server.json"),
    )
    relative = default_locations({"HOME": "/home/u", "XDG_RUNTIME_DIR": "relative/dir"}, "linux")
    assert relative.discovery_files[0] == Path(f"/run/user/{uid}/ldl-studio/server.json")
    assert relative.discovery_files[-1] == Path("/home/u/.local/state/ldl-studio/server.json")
    assert relative.log_file == Path("/home/u/.local/state/ldl-studio/log/server.log")
    assert default_locations({"HOME": "/h"}, "freebsd14").discovery_files[0] == Path(
        f"/var/run/user/{uid}/ldl-studio/server.json"
    )


def test_locations_on_macos_and_windows() -> None:
    mac = default_locations({"HOME": "/Users/u"}, "darwin")
    assert mac.discovery_files == (
        Path("/Users/u/Library/Caches/TemporaryItems/ldl-studio/server.json"),
        Path("/Users/u/Library/Application Support/ldl-studio/server.json"),
    )
    windows = default_locations({"LOCALAPPDATA": "/C/Users/u/AppData/Local"}, "win32")
    local = Path("/C/Users/u/AppData/Local")
    assert windows.discovery_files == (
        local / "Temp" / "ldl-studio" / "ldl-studio" / "server.json",
        local / "Temp" / "ldl-studio" / "server.json",
        local / "ldl-studio" / "ldl-studio" / "server.json",
        local / "ldl-studio" / "server.json",
    )


@pytest.mark.filterwarnings("ignore:XDG_RUNTIME_DIR")
def test_locations_match_the_installed_platformdirs() -> None:
    """On this machine, the server's own platformdirs answer is one of the places the client looks."""
    platformdirs = pytest.importorskip("platformdirs")
    runtime = Path(platformdirs.user_runtime_dir("ldl-studio")) / "server.json"
    state = Path(platformdirs.user_state_dir("ldl-studio", appauthor=False)) / "server.json"
    files = default_locations({k: v for k, v in os.environ.items() if k != "LDL_STUDIO_HOME"})
    assert runtime in files.discovery_files and state in files.discovery_files
