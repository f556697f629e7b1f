"""The dialog's estimate line: the result's size and the time from the backend's ModelInfo, or what is wrong."""

from __future__ import annotations

from dataclasses import replace

from ldl_gimp.arguments import UpscaleArguments
from ldl_gimp.estimate_line import estimate_line

from ldl_client import Availability, ModelInfo

COMPACT = ModelInfo("realesr-animevideov3", "srvgg", 4, True, "generator", "compact", seconds_per_megapixel=2.0)
BIG = ModelInfo("realesrgan-x4plus", "rrdbnet", 4, False, "generator", "big", seconds_per_megapixel=8.0)


def test_the_line_gives_size_and_time_from_the_models_prior() -> None:
    arguments = replace(UpscaleArguments.defaults(), model=COMPACT.name, reference="lanczos")
    # 640×480 input ×4 = 4.9 MP output, one pass at 2 s/MP: about 10 s.
    assert estimate_line(arguments, [COMPACT, BIG], (640, 480)) == "2560 × 1920 px, about 10 s on auto"


def test_tta_and_the_factor_change_the_estimate() -> None:
    arguments = replace(UpscaleArguments.defaults(), model=COMPACT.name, reference="tta:8", factor=2, device="cpu")
    # 1280×960 output = 1.2 MP, eight passes at 2 s/MP: about 20 s.
    assert estimate_line(arguments, [COMPACT], (640, 480)) == "1280 × 960 px, about 20 s on cpu"


def test_a_model_not_installed_says_so() -> None:
    line = estimate_line(UpscaleArguments.defaults(), [COMPACT, BIG], (64, 48))
    assert line.endswith("; not installed: see `ldl models list`")  # an older server: no note


def test_the_line_says_how_a_model_becomes_available() -> None:
    packaged = replace(BIG, availability=Availability.PACKAGED, note="converted on first use (no download)")
    line = estimate_line(UpscaleArguments.defaults(), [packaged], (64, 48))
    assert line.endswith("; converted on first use (no download)")
    manual = replace(BIG, availability=Availability.MANUAL, note="download X by hand from Y, then import it")
    line = estimate_line(UpscaleArguments.defaults(), [manual], (64, 48))
    assert line.endswith("; not installed: download X by hand from Y, then import it")


def test_unknown_models_and_bad_arguments_are_named() -> None:
    missing = replace(UpscaleArguments.defaults(), model="nothing-here")
    assert "no model 'nothing-here'" in estimate_line(missing, [COMPACT], (64, 48))
    broken = replace(UpscaleArguments.defaults(), tile=3)
    assert "tile 3" in estimate_line(broken, [COMPACT], (64, 48))
