"""The whole path for real, as a user runs it: a new virtual environment in the data folder of a fresh HOME, the CPU
PyTorch (``torch==2.13.0`` from pip's configured local wheel folder), the backend and its dependencies with
``--no-index`` (a local folder of wheels packed from this venv stands in for the index), the default model, and
``ldl upscale`` on a small photo through the launcher the installer linked into ``~/.local/bin``. No network."""

from __future__ import annotations

import importlib.metadata
import subprocess
import time
from pathlib import Path

import pytest
from PIL import Image

from tests.installer.home import fresh_environment, run_installer, snapshot
from tests.installer.wheelhouse import repack, requirement_closure
from tests.plugin.host_processes import write_photo


def local_wheels(folder: Path) -> Path:
    """Every distribution the backend (with the models extra) and PyTorch need, except PyTorch itself (pip's own
    configured sources have its CPU wheel) and the project (built from the checkout), plus setuptools to build it."""
    ldl = importlib.metadata.distribution("ldl-studio").requires or []
    roots = [r for r in ldl if "extra" not in r or 'extra == "models"' in r]
    names = set(requirement_closure([r.split(";")[0] for r in roots], skip=frozenset({"torch"})))
    names |= set(requirement_closure(["torch"])) - {"torch"}
    names |= {"setuptools"}
    for name in sorted(names):
        repack(name, folder)
    return folder


@pytest.mark.slow
def test_a_new_environment_from_local_sources_upscales_through_the_linked_command(tmp_path: Path) -> None:
    clock = time.monotonic()
    wheels = local_wheels(tmp_path / "wheels")
    seconds = {"wheels": time.monotonic() - clock}
    environment = fresh_environment(tmp_path)
    home = Path(environment["HOME"])
    clock = time.monotonic()
    done = run_installer(environment, "--no-index", "--find-links", str(wheels), "--device", "auto", timeout=1800)
    seconds["install"] = time.monotonic() - clock
    assert done.returncode == 0, done.stdout + done.stderr
    data = home / ".local" / "share" / "ldl-studio"
    assert f"[environment] created {data / 'venv'}" in done.stdout
    assert "[pytorch] installing torch==2.13.0, CPU build: no NVIDIA GPU" in done.stdout
    assert "[pytorch] installed torch 2.13.0+cpu (CPU)" in done.stdout
    assert "[model] prepared realesrgan-x4plus" in done.stdout

    photo = write_photo(tmp_path / "photo.png")
    clock = time.monotonic()
    upscale = subprocess.run(
        [str(home / ".local" / "bin" / "ldl"), "upscale", str(photo), "-o", str(tmp_path / "photo_x4.png")],
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    seconds["upscale"] = time.monotonic() - clock
    assert upscale.returncode == 0, upscale.stdout + upscale.stderr
    with Image.open(tmp_path / "photo_x4.png") as result:
        assert result.size == (256, 192)

    clock = time.monotonic()
    again = run_installer(environment, "--no-index", "--find-links", str(wheels))
    seconds["second run"] = time.monotonic() - clock
    assert again.returncode == 0 and "Nothing changed" in again.stdout, again.stdout + again.stderr
    done = run_installer(environment, "--uninstall", "--purge")
    assert done.returncode == 0, done.stdout + done.stderr
    assert snapshot(home) == {}
    print(f"full path, seconds: { {name: round(value, 1) for name, value in seconds.items()} }")
