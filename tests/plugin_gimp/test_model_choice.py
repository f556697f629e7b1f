"""The dialog's model list: installed first, an installed model selected instead of one the backend would refuse,
and a batch caller's unknown id kept."""

from __future__ import annotations

from ldl_gimp.model_choice import model_rows

from ldl_client import ModelInfo

BIG = ModelInfo("realesrgan-x4plus", "rrdbnet", 4, False, "generator", "big")
COMPACT = ModelInfo("realesr-animevideov3", "srvgg", 4, True, "generator", "compact")
SMALL = ModelInfo("a-small-x2", "srvgg", 2, True, "generator", "small")


def test_installed_models_come_first_and_one_of_them_is_chosen() -> None:
    rows, chosen = model_rows([BIG, COMPACT, SMALL], "realesrgan-x4plus")
    assert [name for name, _ in rows] == ["a-small-x2", "realesr-animevideov3", "realesrgan-x4plus"]
    assert rows[2][1] == "realesrgan-x4plus (×4, rrdbnet, not installed)"
    assert chosen == "a-small-x2"


def test_an_installed_current_model_stays() -> None:
    assert model_rows([BIG, COMPACT, SMALL], "realesr-animevideov3")[1] == "realesr-animevideov3"


def test_with_nothing_installed_the_current_model_stays() -> None:
    assert model_rows([BIG], "realesrgan-x4plus") == (
        [("realesrgan-x4plus", BIG.name + " (×4, rrdbnet, not installed)")],
        BIG.name,
    )


def test_an_id_outside_the_catalog_gets_its_own_row() -> None:
    rows, chosen = model_rows([COMPACT], "my-own-model")
    assert rows[-1] == ("my-own-model", "my-own-model (not in the backend's catalog)")
    assert chosen == "realesr-animevideov3"
