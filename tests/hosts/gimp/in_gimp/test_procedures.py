"""Both procedures are in GIMP's PDB, under Filters › Enhance, with the arguments and return values batch callers
use."""

from __future__ import annotations

import pytest

from .gimp import BLEND, UPSCALE, Gimp

ARGUMENTS = {
    "model": "realesrgan-x4plus",
    "factor": 0,
    "reference": "lanczos",
    "threshold": 0.3,
    "softness": 0.4,
    "selection-target": "new-image",
    "device": "auto",
    "precision": "auto",
    "tile": 0,
}


def all_procedures() -> list[str]:
    return list(Gimp.get_pdb().query_procedures(".*", ".*", ".*", ".*", ".*", ".*", ".*", ".*"))


@pytest.mark.parametrize(
    ("name", "label"), [(UPSCALE, "Upscale with LDL…"), (BLEND, "Blend LDL detail into selection")]
)
def test_the_procedures_are_in_the_enhance_menu(name: str, label: str) -> None:
    assert name in all_procedures()
    procedure = Gimp.get_pdb().lookup_procedure(name)
    assert procedure.get_menu_label() == label
    assert list(procedure.get_menu_paths()) == ["<Image>/Filters/Enhance"]


def test_the_upscale_takes_its_arguments_with_the_contracts_defaults() -> None:
    config = Gimp.get_pdb().lookup_procedure(UPSCALE).create_config()
    defaults = {name: config.get_property(name) for name in ARGUMENTS}
    assert defaults == pytest.approx(ARGUMENTS)


def test_the_return_values_are_named_for_batch_callers() -> None:
    upscale = Gimp.get_pdb().lookup_procedure(UPSCALE)
    assert [spec.name for spec in upscale.get_return_values()] == ["result-image", "group", "job-id"]
    blend = Gimp.get_pdb().lookup_procedure(BLEND)
    assert [spec.name for spec in blend.get_return_values()] == ["group"]
