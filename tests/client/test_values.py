"""The pure parts: RawImage round trips, content-type sniffing, options, event-stream parsing, locations."""

from __future__ import annotations

import array
import struct
from urllib.parse import parse_qsl

import pytest

from ldl_client import (
    DEFAULT_REFERENCE,
    DEFAULT_SOFTNESS,
    DEFAULT_THRESHOLD,
    AlphaMode,
    OptionError,
    Precision,
    ProtocolError,
    RawImage,
    ReferenceSource,
    SubmitOptions,
    UnsupportedImageError,
)
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
    assert query == "model=x4&reference=lanczos&threshold=0.3&softness=0.4&alpha=resize"
    explicit_auto = SubmitOptions(model="x4", device="auto", precision=None, tile=None)
    assert explicit_auto.query() == query  # what older servers, which refuse these options, are sent


@pytest.mark.parametrize(
    ("fields", "added"),
    [
        ({"device": "cpu"}, "&device=cpu"),
        ({"device": "cuda:1"}, "&device=cuda%3A1"),
        ({"precision": Precision.BF16}, "&precision=bf16"),
        ({"tile": 16}, "&tile=16"),
        ({"device": "mps", "precision": Precision.FP16, "tile": 8192}, "&device=mps&precision=fp16&tile=8192"),
    ],
)
def test_options_query_sends_advanced_options_only_when_chosen(fields: dict[str, object], added: str) -> None:
    base = "model=x4&reference=lanczos&threshold=0.3&softness=0.4&alpha=resize"
    options = SubmitOptions(model="x4", **fields)  # type: ignore[arg-type]
    assert options.query() == base + added
    assert SubmitOptions.from_query(parse_qsl(options.query())) == options


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"model": "../x"}, "catalog id"),
        ({"model": "X4"}, "catalog id"),
        ({"model": "a" * 65}, "catalog id"),
        ({"model": "x", "scale": 0}, "scale"),
        ({"model": "x", "threshold": 1.5}, "threshold"),
        ({"model": "x", "softness": float("nan")}, "softness"),
        ({"model": "x", "reference": "tta:8"}, "reference"),
        ({"model": "x", "alpha": "drop"}, "alpha"),
        ({"model": "x", "alpha": "resize"}, "alpha"),
        ({"model": "x", "device": "gpu"}, "device 'gpu' must be auto, cpu, cuda, cuda:N or mps"),
        ({"model": "x", "device": "CUDA"}, "device"),
        ({"model": "x", "device": "cuda:01"}, "device"),
        ({"model": "x", "device": "cuda:"}, "device"),
        ({"model": "x", "device": None}, "device"),
        ({"model": "x", "precision": "fp8"}, "precision 'fp8' must be one of auto, fp32, fp16, bf16"),
        ({"model": "x", "precision": "fp32"}, "precision"),
        ({"model": "x", "scale": 16.5}, "scale"),
        ({"model": "x", "scale": float("inf")}, "scale"),
        ({"model": "x", "scale": True}, "scale"),
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


def test_options_from_an_empty_query_are_the_defaults() -> None:
    options = SubmitOptions.from_query([])
    assert options == SubmitOptions()
    assert (options.reference, options.threshold, options.softness) == (
        DEFAULT_REFERENCE,
        DEFAULT_THRESHOLD,
        DEFAULT_SOFTNESS,
    )
    assert (options.alpha, options.device, options.precision, options.tile) == (AlphaMode.RESIZE, "auto", None, None)
    explicit = SubmitOptions.from_query([("device", "auto"), ("precision", "auto"), ("tile", "auto")])
    assert explicit == options


def test_options_from_a_full_query_are_typed() -> None:
    query = "model=x4&scale=2.5&reference=model%3Arealesrnet-x4plus&threshold=0.5&softness=0&alpha=model"
    options = SubmitOptions.from_query(parse_qsl(query + "&device=cuda%3A1&precision=fp16&tile=128"))
    assert options.reference == ReferenceSource.parse("model:realesrnet-x4plus")
    assert (options.scale, options.threshold, options.softness) == (2.5, 0.5, 0.0)
    assert (options.alpha, options.device, options.precision, options.tile) == (
        AlphaMode.MODEL,
        "cuda:1",
        Precision.FP16,
        128,
    )
    assert SubmitOptions.from_query(parse_qsl(options.query())) == options


@pytest.mark.parametrize(
    ("query", "option", "hint"),
    [
        ("colour=red", "query", "the options are"),
        ("tile=64&tile=64", "query", "once"),
        ("model=X4", "model", "lower-case"),
        ("scale=0", "scale", "scale="),
        ("scale=17", "scale", "scale="),
        ("threshold=nan", "threshold", "threshold="),
        ("softness=-0.1", "softness", "softness="),
        ("reference=tta:3", "reference", "tta:4"),
        ("reference=model%3A", "reference", "model:NAME"),
        ("alpha=drop", "alpha", "resize"),
        ("device=gpu", "device", "cuda:N"),
        ("precision=FP16", "precision", "bf16"),
        ("tile=%2B64", "tile", "16 to 8192"),
        ("tile=8193", "tile", "16 to 8192"),
    ],
)
def test_a_bad_query_names_the_option_and_what_is_allowed(query: str, option: str, hint: str) -> None:
    with pytest.raises(OptionError) as raised:
        SubmitOptions.from_query(parse_qsl(query, keep_blank_values=True))
    assert raised.value.option == option and hint in raised.value.hint, (raised.value.option, raised.value.hint)
