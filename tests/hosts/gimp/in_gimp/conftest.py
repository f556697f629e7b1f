"""Fixtures of the in-GIMP tests, run by GIMP 3's Python in batch mode (tests/plugin/test_gimp_host.py): the run's
configuration (``$LDL_GIMP_HOST_TEST``), a client of the real backend, and the photo upscaled once per precision."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .gimp import UPSCALE, Outcome, open_photo, run

if TYPE_CHECKING:
    from ldl_client import Client

# Linear and perceptual, 8 to 32 bits, integer, half and float: the precisions the upscale is checked in.
PRECISIONS = ["U8_NON_LINEAR", "U8_LINEAR", "U16_PERCEPTUAL", "HALF_PERCEPTUAL", "FLOAT_LINEAR"]


@pytest.fixture(scope="session")
def host_config() -> dict[str, Any]:
    return json.loads(Path(os.environ["LDL_GIMP_HOST_TEST"]).read_text("utf-8"))


@pytest.fixture(scope="session")
def compact(host_config: dict[str, Any]) -> str:
    """The model every upscale here uses: the compact one (fast on a CPU)."""
    return str(host_config["model"])


@pytest.fixture(scope="session")
def client(host_config: dict[str, Any]) -> Client:
    """A client of the backend the driver started (the tests' own copy of the client library)."""
    if host_config["client_dir"] not in sys.path:
        sys.path.insert(0, host_config["client_dir"])
    from ldl_client import ConnectSettings, connect

    environment = {"LDL_STUDIO_HOME": host_config["ldl_studio_home"]}
    return connect(settings=ConnectSettings(start_server=False, environment=environment))


@dataclass(frozen=True)
class Upscaled:
    """The photo opened in ``precision`` (``Gimp.Precision`` name), upscaled once through the PDB."""

    precision: str
    image: Any
    source_size: tuple[int, int]
    outcome: Outcome

    @property
    def group(self) -> Any:
        return self.outcome.values[1]

    @property
    def job_id(self) -> str:
        return str(self.outcome.values[2])


@pytest.fixture(scope="session")
def upscaled(host_config: dict[str, Any], compact: str) -> Iterator[Callable[..., Upscaled]]:
    """``upscaled(precision, gray=False)``: the photo in that precision upscaled with the compact model and the
    Lanczos reference (deterministic, one model pass), made on first use and kept for the session."""
    made: dict[tuple[str, bool], Upscaled] = {}

    def make(precision: str, gray: bool = False) -> Upscaled:
        if (precision, gray) not in made:
            image = open_photo(host_config["photo"], precision, gray=gray)
            size = (image.get_width(), image.get_height())
            outcome = run(UPSCALE, image, image.get_layers(), model=compact, reference="lanczos")
            assert outcome.ok, f"{precision}: {outcome.error}"
            made[precision, gray] = Upscaled(precision, image, size, outcome)
        return made[precision, gray]

    yield make
    for done in made.values():
        done.image.delete()
