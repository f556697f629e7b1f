"""Property tests of the job options' parser, ``SubmitOptions.from_query``: the server's reading of ``POST /jobs``'s
query (test_fuzz.py sends such queries over HTTP; this reaches far more of them in the same time)."""

from __future__ import annotations

import urllib.parse

from hypothesis import event, given, settings
from hypothesis import strategies as st

from ldl_client.options import (
    MAX_SCALE,
    MAX_TILE,
    MIN_TILE,
    OPTION_NAMES,
    AlphaMode,
    OptionError,
    Precision,
    ReferenceSource,
    SubmitOptions,
)
from tests.server.conftest import COMPACT
from tests.server.test_fuzz import OPTION_VALUES, QUERY_KEYS, QUERY_VALUES

# Reproducible in CI: the same examples every run (derandomize), nothing carried over between runs (no database).
FUZZ_PARSER = settings(max_examples=400, deadline=None, derandomize=True, database=None)


VALID_VALUES = {
    "model": [COMPACT, "realesrgan-x4plus", "m" * 64],
    "scale": ["1", "2", "4", "0.5", "16", "2.25", "1e-3"],
    "reference": ["lanczos", "tta:2", "tta:4", "tta:8", "tta", f"model:{COMPACT}"],
    "threshold": ["0", "0.3", "1", "0.1234567890123"],
    "softness": ["0", "0.4", "1", "1e-9"],
    "alpha": [mode.value for mode in AlphaMode],
    "device": ["auto", "cpu", "cuda", "cuda:1", "mps"],
    "precision": ["auto", *(precision.value for precision in Precision)],
    "tile": ["auto", str(MIN_TILE), "64", str(MAX_TILE)],
}


def parsed_again(options: SubmitOptions) -> SubmitOptions:
    return SubmitOptions.from_query(urllib.parse.parse_qsl(options.query(), keep_blank_values=True))


@st.composite
def option_pairs(draw: st.DrawFn) -> list[tuple[str, str]]:
    """Query pairs as ``parse_qsl`` gives them: distinct option names with plausible, broken or random values, and
    now and then an unknown or a repeated name."""
    keys: list[str] = draw(st.lists(st.sampled_from(OPTION_NAMES), unique=True, max_size=len(OPTION_NAMES)))
    if keys and draw(st.integers(0, 9)) == 0:
        keys.insert(draw(st.integers(0, len(keys))), draw(st.one_of(QUERY_KEYS, st.sampled_from(keys))))
    numbers = st.one_of(st.floats().map(repr), st.integers(-(10**6), 10**6).map(str))
    pairs: list[tuple[str, str]] = []
    for key in keys:
        if key in VALID_VALUES and draw(st.integers(0, 19)) < 17:  # mostly valid: some queries get through whole
            value = draw(st.sampled_from(VALID_VALUES[key]))
        elif key in OPTION_VALUES:
            value = draw(st.one_of(st.sampled_from(OPTION_VALUES[key]), numbers, st.text(max_size=10)))
        else:
            value = draw(QUERY_VALUES)
        pairs.append((key, value))
    return pairs


@FUZZ_PARSER
@given(pairs=option_pairs())
def test_options_parse_or_are_refused_by_name(pairs: list[tuple[str, str]]) -> None:
    """Options, or an ``OptionError`` naming the option and saying what is allowed (the server's 400 or 404), never
    another exception; whatever it accepts, its own query gives back."""
    try:
        options = SubmitOptions.from_query(pairs)
    except OptionError as error:
        assert error.option in (*OPTION_NAMES, "query") and error.message and error.hint, error
        event(f"refused: {error.option}")
        return
    event("parsed")
    assert parsed_again(options) == options


SUBMIT_OPTIONS = st.builds(
    SubmitOptions,
    model=st.sampled_from([COMPACT, "realesrgan-x4plus", "a", "m" * 64, "x.y+z_1-2"]),
    scale=st.one_of(st.none(), st.floats(min_value=0.0, max_value=MAX_SCALE, exclude_min=True)),
    reference=st.sampled_from(["lanczos", "tta:2", "tta:4", "tta:8", f"model:{COMPACT}"]).map(ReferenceSource.parse),
    threshold=st.floats(0.0, 1.0),
    softness=st.floats(0.0, 1.0),
    alpha=st.sampled_from(AlphaMode),
    device=st.sampled_from(["auto", "cpu", "cuda", "cuda:0", "cuda:12", "mps"]),
    precision=st.one_of(st.none(), st.sampled_from(Precision)),
    tile=st.one_of(st.none(), st.integers(MIN_TILE, MAX_TILE)),
)


@FUZZ_PARSER
@given(options=SUBMIT_OPTIONS)
def test_every_valid_option_set_survives_its_query(options: SubmitOptions) -> None:
    """What a client builds, the server reads back exactly (every float bit included) from the query it is sent as."""
    assert parsed_again(options) == options
