"""The dialog's model list: the models that run now first (the default model first), the others greyed out, a usable
model selected instead of one the backend would refuse, and a batch caller's unknown id kept."""

from __future__ import annotations

from dataclasses import replace

from ldl_gimp.model_choice import model_rows

from ldl_client import DEFAULT_MODEL, Availability, ModelInfo

DEFAULT = ModelInfo(DEFAULT_MODEL, "rrdbnet", 4, False, "generator", "big", None, Availability.PACKAGED, "converted")
COMPACT = ModelInfo("realesr-animevideov3", "srvgg", 4, True, "generator", "compact", None, Availability.READY)
SMALL = ModelInfo("a-small-x2", "srvgg", 2, True, "generator", "small", None, Availability.READY)
MANUAL = ModelInfo("ldl-bicubic-rrdb-x2", "rrdbnet", 2, False, "generator", "ldl", None, Availability.MANUAL, "by hand")


def test_a_first_run_selects_the_default_model_before_its_conversion() -> None:
    rows, chosen, usable = model_rows([MANUAL, COMPACT, SMALL, DEFAULT], DEFAULT_MODEL)
    assert [name for name, _ in rows] == [DEFAULT_MODEL, "a-small-x2", "realesr-animevideov3", "ldl-bicubic-rrdb-x2"]
    assert chosen == DEFAULT_MODEL
    assert usable == {DEFAULT_MODEL, "a-small-x2", "realesr-animevideov3"}
    assert rows[-1][1] == "ldl-bicubic-rrdb-x2 (×2, rrdbnet, not installed)"
    assert rows[0][1] == f"{DEFAULT_MODEL} (×4, rrdbnet)"


def test_a_current_model_that_cannot_run_gives_way_to_the_default_one() -> None:
    assert model_rows([MANUAL, COMPACT, DEFAULT], MANUAL.name).chosen == DEFAULT_MODEL
    assert model_rows([MANUAL, COMPACT], MANUAL.name).chosen == COMPACT.name


def test_a_usable_current_model_stays() -> None:
    assert model_rows([DEFAULT, COMPACT, SMALL], "realesr-animevideov3").chosen == "realesr-animevideov3"


def test_with_nothing_usable_the_current_model_stays() -> None:
    rows, chosen, usable = model_rows([MANUAL], MANUAL.name)
    assert rows == [(MANUAL.name, MANUAL.name + " (×2, rrdbnet, not installed)")]
    assert (chosen, usable) == (MANUAL.name, frozenset())


def test_an_older_server_without_availability_falls_back_to_installed() -> None:
    old_default = replace(DEFAULT, availability=None, note="")
    old_compact = replace(COMPACT, availability=None)
    rows, chosen, usable = model_rows([old_default, old_compact], DEFAULT_MODEL)
    assert chosen == COMPACT.name and usable == {COMPACT.name}
    assert rows[-1] == (DEFAULT_MODEL, f"{DEFAULT_MODEL} (×4, rrdbnet, not installed)")


def test_an_id_outside_the_catalog_gets_its_own_row() -> None:
    rows, chosen, _ = model_rows([COMPACT], "my-own-model")
    assert rows[-1] == ("my-own-model", "my-own-model (not in the backend's catalog)")
    assert chosen == "realesr-animevideov3"
