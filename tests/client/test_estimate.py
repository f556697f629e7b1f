"""The run dialogs' time estimate: the server's prior per model, learned per model and device, saved as JSON."""

from __future__ import annotations

import pytest

from ldl_client import ModelInfo, ReferenceSource
from ldl_client.estimate import describe_seconds, dump_rates, estimate_seconds, learn, load_rates, model_passes

LANCZOS = ReferenceSource.parse("lanczos")
TTA8 = ReferenceSource.parse("tta:8")


def model(name: str, prior: float | None) -> ModelInfo:
    return ModelInfo(name, "SRVGGNetCompact", 4, True, "detail", "", seconds_per_megapixel=prior)


@pytest.mark.parametrize(
    ("reference", "passes"), [("tta:8", 8), ("tta:2", 2), ("tta", 8), ("lanczos", 1), ("model:x", 2)]
)
def test_passes(reference: str, passes: float) -> None:
    assert model_passes(ReferenceSource.parse(reference)) == passes


def test_prior_then_learned_rate() -> None:
    rates: dict[str, float] = {}
    compact = model("m", 0.7)
    prior = estimate_seconds(compact, "auto", LANCZOS, 4_000_000, rates)
    assert prior == pytest.approx(0.7 * 4)
    learn("m", "auto", TTA8, 1_000_000, 16.0, rates)  # 2 s per megapixel per pass
    assert estimate_seconds(compact, "auto", LANCZOS, 4_000_000, rates) == pytest.approx(8.0)
    assert estimate_seconds(compact, "cuda", LANCZOS, 4_000_000, rates) == pytest.approx(prior)
    learn("m", "auto", LANCZOS, 1_000_000, 4.0, rates)
    assert rates["m@auto"] == pytest.approx(3.0)
    assert load_rates(dump_rates(rates)) == rates


def test_an_older_server_without_a_prior_still_gets_an_estimate() -> None:
    assert estimate_seconds(model("m", None), "auto", LANCZOS, 1_000_000, {}) == pytest.approx(8.0)


@pytest.mark.parametrize("text", ["", "nonsense", "[1]", '{"a": "x", "b": -1, "c": true}'])
def test_unreadable_rates_count_as_none(text: str) -> None:
    assert load_rates(text) == {}


def test_describe() -> None:
    assert describe_seconds(0.2) == "under a second"
    assert describe_seconds(42) == "about 42 s"
    assert describe_seconds(600) == "about 10 min"
    assert describe_seconds(7200) == "about 2.0 h"


def test_slow_networks_and_more_passes_take_longer() -> None:
    learned: dict[str, float] = {}
    slow = estimate_seconds(model("x4", 6.5), "auto", LANCZOS, 4_000_000, learned)
    fast = estimate_seconds(model("compact", 0.7), "auto", LANCZOS, 4_000_000, learned)
    assert slow > 5 * fast > 0
    assert estimate_seconds(model("x4", 6.5), "auto", TTA8, 4_000_000, learned) == pytest.approx(8 * slow)
    learn("x4", "auto", ReferenceSource.parse("tta:4"), 2_000_000, 40.0, learned)  # 5 s per megapixel per pass
    assert estimate_seconds(model("x4", 6.5), "auto", LANCZOS, 1_000_000, learned) == pytest.approx(5.0)
