"""Request bodies parsed without a server: JSON objects (``json_body``) and raw pixels (``server.raw_image``), each
at its edges, and property tests over "almost valid" JSON. The mutation run's test set for both modules."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ldl_backend.server import raw_image
from ldl_backend.server.errors import ApiError
from ldl_backend.server.json_body import MAX_JSON_BYTES, parse_object
from ldl_client.raw_image import RawHeader

QUICK = settings(max_examples=120, deadline=None, derandomize=True, database=None)  # the same examples every run
EXAMPLE = '{"name": "x"}'


def refusal(call: object, *args: object) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call(*args)  # type: ignore[operator]
    error = caught.value
    assert error.message and error.hint, error
    return error


def test_a_json_object_is_returned_as_is() -> None:
    assert parse_object(b'{"a": [1, {"b": null}], "c": "\\u00e9"}', EXAMPLE) == {"a": [1, {"b": None}], "c": "é"}


def test_the_size_limit_is_inclusive() -> None:
    padding = MAX_JSON_BYTES - len(b'{"a": ""}')
    exact = b'{"a": "' + b"x" * padding + b'"}'
    assert len(exact) == MAX_JSON_BYTES and parse_object(exact, EXAMPLE) == {"a": "x" * padding}
    error = refusal(parse_object, exact[:-1] + b" }", EXAMPLE)
    assert (error.status, error.code) == (413, "body_too_large")
    assert f"{MAX_JSON_BYTES + 1:,} bytes, more than the limit of {MAX_JSON_BYTES:,}" in error.message
    assert error.hint == f"send {EXAMPLE}"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "the body is not JSON"),
        (b"{", "the body is not JSON"),
        (b"\xff{}", "the body is not JSON"),
        (b"{'a': 1}", "the body is not JSON"),
        (b"[]", "must be a JSON object, not list"),
        (b'"{}"', "not str"),
        (b"null", "not NoneType"),
        (b"1", "not int"),
    ],
)
def test_what_is_not_a_json_object_is_a_bad_request(body: bytes, message: str) -> None:
    error = refusal(parse_object, body, EXAMPLE)
    assert (error.status, error.code) == (400, "bad_request") and message in error.message
    assert error.hint == f"send {EXAMPLE}"


def test_deep_nesting_is_a_bad_request_not_a_crash() -> None:
    depth = sys.getrecursionlimit() + 10
    error = refusal(parse_object, b"[" * depth + b"]" * depth, EXAMPLE)
    assert (error.status, error.code) == (400, "bad_request") and "nested too deeply" in error.message


# Almost-valid JSON: a valid object with one edit (a character dropped, doubled or replaced), as a client's bug or
# a truncated write would make. Every one is either an object or a 400, never another exception.
OBJECTS = st.dictionaries(
    st.text(max_size=4), st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=4)), max_size=3
).map(lambda document: json.dumps(document).encode())


@st.composite
def almost_json(draw: st.DrawFn) -> bytes:
    body = draw(OBJECTS)
    at = draw(st.integers(0, len(body) - 1))
    edit = draw(st.sampled_from(["drop", "double", "replace"]))
    if edit == "drop":
        return body[:at] + body[at + 1 :]
    if edit == "double":
        return body[:at] + body[at : at + 1] * 2 + body[at + 1 :]
    return (
        body[:at]
        + draw(st.sampled_from([b"'", b'"', b"{", b"}", b",", b":", b"\\", b"\xff", b"\x00"]))
        + body[at + 1 :]
    )


@QUICK
@given(body=almost_json())
def test_almost_valid_json_is_an_object_or_a_bad_request(body: bytes) -> None:
    try:
        document = parse_object(body, EXAMPLE)
    except ApiError as error:
        assert (error.status, error.code) == (400, "bad_request") and error.hint == f"send {EXAMPLE}"
        return
    assert isinstance(document, dict) and document == json.loads(body)


HEADERS = {"x-ldl-width": "3", "x-ldl-height": "2", "x-ldl-channels": "3", "x-ldl-dtype": "uint8"}


def test_the_pixel_budget_is_inclusive() -> None:
    assert raw_image.parse_header(HEADERS, 6) == RawHeader(3, 2, 3, "uint8")
    error = refusal(raw_image.parse_header, HEADERS, 5)
    assert (error.status, error.code) == (422, "image_too_large") and "3×2 is more than the limit of 5 pixels" in str(
        error
    )


def test_a_malformed_header_is_a_bad_request_with_the_clients_words() -> None:
    error = refusal(raw_image.parse_header, {**HEADERS, "x-ldl-channels": "2"}, 100)
    assert (error.status, error.code) == (400, "bad_request") and "2 channels is not supported" in error.message
    assert "X-Ldl-Width" in error.hint


@pytest.mark.parametrize(("dtype", "size"), [("uint8", 1), ("uint16", 2), ("float32", 4)])
def test_the_body_length_must_match_exactly(dtype: str, size: int) -> None:
    header = RawHeader(3, 2, 3, dtype)
    raw_image.check_body(header, bytes(18 * size))
    for wrong in (18 * size - 1, 18 * size + 1, 0):
        error = refusal(raw_image.check_body, header, bytes(wrong))
        assert (error.status, error.code) == (400, "bad_request")
        assert f"has {wrong:,} bytes; 3×2×3 {dtype} needs {18 * size:,}" in error.message


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", [0, 17])
def test_float_samples_must_be_finite(bad: float, where: int) -> None:
    samples = np.zeros(18, dtype="<f4")
    samples[where] = bad
    error = refusal(raw_image.check_body, RawHeader(3, 2, 3, "float32"), samples.tobytes())
    assert "NaN or infinity" in error.message


def test_non_finite_samples_are_found_beyond_the_first_slice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(raw_image, "_CHECK_SAMPLES", 4)
    samples = np.zeros(18, dtype="<f4")
    raw_image.check_body(RawHeader(3, 2, 3, "float32"), samples.tobytes())
    samples[-1] = np.inf
    refusal(raw_image.check_body, RawHeader(3, 2, 3, "float32"), samples.tobytes())


def test_integer_bodies_are_not_checked_for_finiteness() -> None:
    # 0xFFFF... is NaN as a float32 but a plain value as uint16 or uint8.
    raw_image.check_body(RawHeader(3, 2, 3, "uint16"), b"\xff" * 36)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_pixels_round_trip_little_endian(dtype: type, channels: int) -> None:
    pixels = (np.arange(2 * 3 * channels).reshape(2, 3, channels) * 7 + 250).astype(dtype)
    data, header = raw_image.encode(pixels)
    assert header == RawHeader(3, 2, channels, np.dtype(dtype).name)
    assert data == pixels.astype(np.dtype(dtype).newbyteorder("<")).tobytes()
    decoded = raw_image.decode_pixels(header, data)
    assert decoded.dtype == np.dtype(dtype) and decoded.dtype.isnative and np.array_equal(decoded, pixels)
    image = raw_image.decode_image(header, data)
    if channels == 4:
        assert image.alpha is not None and np.array_equal(image.alpha, pixels[..., 3])
        assert np.array_equal(image.colour, pixels[..., :3]) and image.colour.flags.c_contiguous
    else:
        assert image.alpha is None and np.array_equal(image.colour.reshape(pixels.shape), pixels)


def test_a_gray_plane_is_encoded_with_one_channel() -> None:
    data, header = raw_image.encode(np.array([[1, 2]], dtype=np.uint16))
    assert header == RawHeader(2, 1, 1, "uint16") and data == b"\x01\x00\x02\x00"


def test_decoding_checks_the_body_first() -> None:
    refusal(raw_image.decode_pixels, RawHeader(1, 1, 1, "uint8"), b"")
