"""The raw-pixel header (``X-Ldl-Width/Height/Channels/Dtype``): every edge of ``RawHeader``, and property tests
over "almost valid" headers (one field nudged off the format): each is either read as exactly what it says or
refused with ``RawHeaderError``, never anything else."""

from __future__ import annotations

import array

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ldl_client.errors import ProtocolError
from ldl_client.raw_image import RAW_CONTENT_TYPE, RawHeader, RawHeaderError, RawImage

QUICK = settings(max_examples=150, deadline=None, derandomize=True, database=None)  # the same examples every run
VALID = {"X-Ldl-Width": "3", "X-Ldl-Height": "2", "X-Ldl-Channels": "4", "X-Ldl-Dtype": "uint16"}


def test_a_valid_header_is_read_and_written_back() -> None:
    header = RawHeader.from_headers(VALID)
    assert header == RawHeader(3, 2, 4, "uint16")
    assert (header.pixels, header.byte_count) == (6, 6 * 4 * 2)
    assert header.headers() == {"Content-Type": RAW_CONTENT_TYPE, **VALID}
    assert RawHeader.from_headers(header.headers()) == header


def test_names_are_matched_in_any_case() -> None:
    lowered = {key.lower(): value for key, value in VALID.items()}
    upper = {key.upper(): value for key, value in VALID.items()}
    assert RawHeader.from_headers(lowered) == RawHeader.from_headers(upper) == RawHeader(3, 2, 4, "uint16")


@pytest.mark.parametrize(("dtype", "size"), [("uint8", 1), ("uint16", 2), ("float32", 4)])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_byte_counts(dtype: str, size: int, channels: int) -> None:
    assert RawHeader(5, 7, channels, dtype).byte_count == 5 * 7 * channels * size


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("X-Ldl-Width", "0", "image size 0x2 is empty"),
        ("X-Ldl-Height", "0", "image size 3x0 is empty"),
        ("X-Ldl-Width", "-1", "X-Ldl-Width must be a positive integer, not '-1'"),
        ("X-Ldl-Height", "+2", "X-Ldl-Height must be a positive integer"),
        ("X-Ldl-Channels", " 3", "X-Ldl-Channels must be a positive integer"),
        ("X-Ldl-Width", "3.0", "X-Ldl-Width must be a positive integer"),
        ("X-Ldl-Width", "²", "X-Ldl-Width must be a positive integer"),  # isdigit() but not int()
        ("X-Ldl-Width", "٣", "X-Ldl-Width must be a positive integer"),  # an Arabic-Indic 3: int() takes it
        ("X-Ldl-Width", "", "X-Ldl-Width must be a positive integer, not ''"),
        ("X-Ldl-Width", "1234567890", "X-Ldl-Width must be a positive integer"),  # 10 digits
        ("X-Ldl-Channels", "2", "2 channels is not supported"),
        ("X-Ldl-Channels", "0", "0 channels is not supported"),
        ("X-Ldl-Channels", "5", "5 channels is not supported"),
        ("X-Ldl-Dtype", "UINT8", "dtype 'UINT8' is not supported; use one of uint8, uint16, float32"),
        ("X-Ldl-Dtype", "float64", "dtype 'float64'"),
        ("X-Ldl-Dtype", "", "dtype ''"),
    ],
)
def test_near_misses_are_refused_with_the_field_named(name: str, value: str, message: str) -> None:
    with pytest.raises(RawHeaderError, match=message) as caught:
        RawHeader.from_headers({**VALID, name: value})
    assert caught.value.message == str(caught.value) and "X-Ldl-Dtype" in caught.value.hint


@pytest.mark.parametrize("missing", ["X-Ldl-Width", "X-Ldl-Height", "X-Ldl-Channels"])
def test_a_missing_size_is_refused(missing: str) -> None:
    headers = {key: value for key, value in VALID.items() if key != missing}
    with pytest.raises(RawHeaderError, match=f"{missing} must be a positive integer, not None"):
        RawHeader.from_headers(headers)


def test_a_missing_dtype_is_refused() -> None:
    with pytest.raises(RawHeaderError, match="dtype ''"):
        RawHeader.from_headers({key: value for key, value in VALID.items() if key != "X-Ldl-Dtype"})


def test_nine_digits_are_the_limit() -> None:
    header = RawHeader.from_headers({**VALID, "X-Ldl-Width": "999999999", "X-Ldl-Height": "000000001"})
    assert (header.width, header.height) == (999_999_999, 1)


# One field of a valid header replaced by a near miss: digits with a sign, a space, a decimal point, a Unicode
# digit, leading zeros, too many digits, or a dtype/channel count just off the list.
NEAR_NUMBERS = st.one_of(
    st.integers(-3, 6).map(str),
    st.integers(0, 10**10).map(str),
    st.sampled_from(["", " 1", "1 ", "+1", "1.0", "1e2", "0x3", "²", "٣", "0003", "1_000", "3\n"]),
    st.text(alphabet="0123456789 +-.e²٣", max_size=11),
)
NEAR_DTYPES = st.one_of(
    st.sampled_from(["uint8", "uint16", "float32", "UINT8", "uint8 ", "int8", "float16", "float64", "", "uint"]),
    st.text(alphabet="uintflo0123468 ", max_size=8),
)


@QUICK
@given(
    field=st.sampled_from(["X-Ldl-Width", "X-Ldl-Height", "X-Ldl-Channels", "X-Ldl-Dtype"]),
    number=NEAR_NUMBERS,
    dtype=NEAR_DTYPES,
)
def test_almost_valid_headers_are_read_exactly_or_refused(field: str, number: str, dtype: str) -> None:
    headers = {**VALID, field: dtype if field == "X-Ldl-Dtype" else number}
    value = headers[field]
    try:
        header = RawHeader.from_headers(headers)
    except RawHeaderError as error:
        assert error.message and error.hint
        return
    # Accepted: then the field was a plain ASCII number of at most 9 digits (or a listed dtype), read as written.
    if field == "X-Ldl-Dtype":
        assert header.dtype == value in ("uint8", "uint16", "float32")
    else:
        assert value.isascii() and value.isdigit() and len(value) <= 9
        read = {"X-Ldl-Width": header.width, "X-Ldl-Height": header.height, "X-Ldl-Channels": header.channels}[field]
        assert read == int(value) and read >= 1
    assert header.byte_count == header.pixels * header.channels * {"uint8": 1, "uint16": 2, "float32": 4}[header.dtype]


def test_a_raw_body_the_client_cannot_read_names_every_header() -> None:
    with pytest.raises(
        ProtocolError, match="X-Ldl-Width=x, X-Ldl-Height=1, X-Ldl-Channels=None, X-Ldl-Dtype=None"
    ) as e:
        RawImage.from_headers({"x-ldl-width": "x", "x-ldl-height": "1"}, b"")
    assert "update LDL Studio" in e.value.hint


def test_samples_of_the_wrong_typecode_are_named() -> None:
    with pytest.raises(ValueError, match="a uint16 image needs an array of typecode 'H', not 'B'"):
        RawImage.from_samples(1, 1, 1, "uint16", array.array("B", [1]))
