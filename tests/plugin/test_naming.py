"""Layer names: the first set plain, later ones numbered on every name, gaps reused, groups recognised."""

from __future__ import annotations

import pytest

from ldl_client.host_layers import LayerNames, group_index, next_layer_names


def test_first_upscale_uses_the_plain_names() -> None:
    names = next_layer_names(["Background", "Paint Layer 1"])
    assert names.all == ("LDL", "LDL reference", "LDL detail", "LDL mask", "LDL artifact map")
    assert names.index == 1


def test_a_second_upscale_numbers_every_name() -> None:
    names = next_layer_names(["Background", *LayerNames.for_index(1).all])
    assert names.all == ("LDL 2", "LDL reference 2", "LDL detail 2", "LDL mask 2", "LDL artifact map 2")


def test_any_taken_name_moves_to_the_next_free_set_and_gaps_are_reused() -> None:
    assert next_layer_names(["LDL mask"]).index == 2  # a user layer that happens to share one name
    taken = [*LayerNames.for_index(1).all, *LayerNames.for_index(3).all]
    assert next_layer_names(taken).index == 2
    assert next_layer_names([*taken, "LDL detail 2"]).index == 4


@pytest.mark.parametrize(
    ("name", "index"),
    [("LDL", 1), ("LDL 2", 2), ("LDL 17", 17), ("LDL 0", None), ("LDL detail", None), ("LDL2", None), ("ldl", None)],
)
def test_group_names_are_recognised(name: str, index: int | None) -> None:
    assert group_index(name) == index


def test_index_must_be_positive() -> None:
    with pytest.raises(ValueError, match="1 or more"):
        LayerNames.for_index(0)
