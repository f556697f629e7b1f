"""The Krita plugin inside a real Krita: headless under Xvfb, installed by the installer into a fresh profile, against
a real ``ldl serve``.

Krita's own Python (the system python3 with PyQt5 and python3-pytest) runs the tests in tests/hosts/krita/in_krita/
through a small test-runner plugin (tests/hosts/krita/runner/); their pytest exit code decides this test. The run
also leaves a screenshot of Krita with the result layers in out/screenshots/krita_result.png.

Skipped, saying so, where ``krita`` or ``xvfb-run`` is not installed (.ci/run installs both).
"""

from __future__ import annotations

import configparser
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.plugin.host_processes import read, start_server, stop, write_photo

REPO = Path(__file__).resolve().parents[2]
HOST_TESTS = REPO / "tests" / "hosts" / "krita"
RUNNER = "ldl_krita_test_runner"
SCREENSHOT = REPO / "out" / "screenshots" / "krita_result.png"
KRITA = shutil.which("krita")
XVFB_RUN = shutil.which("xvfb-run")
KRITA_TIMEOUT_S = 180
# Set by this process's tools (the venv, pytest, Qt tests on the offscreen platform, which aborts Krita): none of
# them may leak into Krita or its Python.
FOREIGN = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY")

MISSING = [name for name, path in (("krita", KRITA), ("xvfb-run", XVFB_RUN)) if path is None]

pytestmark = pytest.mark.skipif(
    bool(MISSING),
    reason=f"real-Krita host test skipped: {' and '.join(MISSING)} not installed "
    "(Debian: apt-get install krita xvfb xauth python3-pyqt5 python3-pytest; .ci/run installs them)",
)


def _path_without_venv(path: str) -> str:
    """PATH less an activated venv's bin folder: Krita's embedded Python finds its home through the ``python3`` on
    PATH, and the venv's (no system site-packages, so no PyQt5) leaves Krita's scripting without ``krita``."""
    venvs = {Path(sys.prefix) / "bin"} if sys.prefix != sys.base_prefix else set()
    if os.environ.get("VIRTUAL_ENV"):
        venvs.add(Path(os.environ["VIRTUAL_ENV"]) / "bin")
    return os.pathsep.join(entry for entry in path.split(os.pathsep) if entry and Path(entry) not in venvs)


@dataclass(frozen=True)
class Profile:
    """A fresh HOME with its own XDG folders: no autosave to recover, no settings from an earlier run."""

    root: Path

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def config(self) -> Path:
        return self.home / ".config"

    @property
    def data(self) -> Path:
        return self.home / ".local" / "share"

    @property
    def pykrita(self) -> Path:
        return self.data / "krita" / "pykrita"

    @property
    def ldl_home(self) -> Path:
        return self.root / "ldl-home"

    def create(self) -> None:
        for folder in (self.config, self.data, self.home / ".cache", self.pykrita, self.ldl_home):
            folder.mkdir(parents=True, exist_ok=True)
        (self.root / "runtime").mkdir(mode=0o700)

    def environment(self, **extra: str) -> dict[str, str]:
        kept = {
            name: value
            for name, value in os.environ.items()
            if name not in FOREIGN and not name.startswith(("PYTEST_", "QT_", "LC_"))
        }
        return {
            **kept,
            "PATH": _path_without_venv(os.environ.get("PATH", "")),
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.config),
            "XDG_DATA_HOME": str(self.data),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "XDG_RUNTIME_DIR": str(self.root / "runtime"),
            "LDL_STUDIO_HOME": str(self.ldl_home),
            "LANG": "C.UTF-8",  # menu titles are translated: the tests look for "Filter" › "Enhance"
            "LANGUAGE": "",
            "LC_ALL": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",  # Krita's Python leaves no caches in the repository
            **extra,
        }


@dataclass(frozen=True)
class HostRun:
    result: dict[str, Any] | None  # what the runner wrote: exit_code, error, python, krita, seconds
    report: str  # the in-Krita pytest report
    krita_log: str
    server_log: str
    returncode: int | None  # xvfb-run's (None: killed after KRITA_TIMEOUT_S)
    seconds: dict[str, float]  # install, server start, Krita (start, tests, quit)
    screenshot: Path

    def explain(self) -> str:
        return (
            f"runner result: {self.result}\nKrita exit status: {self.returncode}; seconds: {self.seconds}\n"
            f"--- in-Krita pytest report ---\n{self.report or '(none)'}\n"
            f"--- Krita output (last 4000 characters) ---\n{self.krita_log[-4000:]}\n"
            f"--- ldl serve output (last 2000 characters) ---\n{self.server_log[-2000:]}"
        )


def install_runner(profile: Profile) -> None:
    source = HOST_TESTS / "runner"
    shutil.copy2(source / f"{RUNNER}.desktop", profile.pykrita)
    shutil.copytree(source / RUNNER, profile.pykrita / RUNNER, ignore=shutil.ignore_patterns("__pycache__"))
    # Enabled before the installer runs, which must add its own switch without disturbing this one.
    (profile.config / "kritarc").write_text(f"[python]\nenable_{RUNNER}=true\n", "utf-8")


def install_plugin(profile: Profile) -> None:
    # --python: this venv is the backend's environment (no private one is made); the manifest goes beside the profile.
    command = [sys.executable, str(REPO / "installer" / "install.py"), "--krita", "--python", sys.executable]
    command += ["--krita-dir", str(profile.pykrita), "--config-dir", str(profile.config)]
    command += ["--prefix", str(profile.root / "installer")]
    done = subprocess.run(command, env=profile.environment(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"
    kritarc = configparser.ConfigParser(interpolation=None, strict=False)
    kritarc.optionxform = str  # type: ignore[assignment]  # Krita's keys are case-sensitive
    kritarc.read(profile.config / "kritarc", encoding="utf-8")
    switches = dict(kritarc["python"]) if kritarc.has_section("python") else {}
    assert switches.get("enable_ldl_krita") == "true" and switches.get(f"enable_{RUNNER}") == "true", switches


def run_krita(profile: Profile, config_file: Path, log: Path) -> int | None:
    command = [str(XVFB_RUN), "-a", "-s", "-screen 0 1280x1024x24", str(KRITA), "--nosplash"]
    environment = profile.environment(LDL_KRITA_HOST_TEST=str(config_file))
    with log.open("wb") as stream:
        # A session of its own: on a timeout the whole group (xvfb-run, Xvfb, Krita) is ended together.
        krita = subprocess.Popen(
            command, cwd=profile.root, env=environment, stdout=stream, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        return krita.wait(KRITA_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        stop(krita, group=True)
        return None


@pytest.fixture(scope="module")
def host_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostRun]:
    root = tmp_path_factory.mktemp("krita-host")
    profile = Profile(root)
    profile.create()
    clock = time.monotonic()
    install_runner(profile)
    install_plugin(profile)
    seconds = {"install": time.monotonic() - clock}
    config_file = root / "host-test.json"
    config = {
        "tests": str(HOST_TESTS / "in_krita"),
        "pytest_args": ["-v", "-ra", "--durations=5"],
        "report": str(root / "report.txt"),
        "result": str(root / "result.json"),
        "photo": str(write_photo(root / "photo.png")),
        "screenshot": str(root / "krita_result.png"),
        "ldl_studio_home": str(profile.ldl_home),
        "python": sys.executable,  # what the installer records for the plugin to start `ldl serve` with
    }
    config_file.write_text(json.dumps(config, indent=2), "utf-8")
    server_log, krita_log = root / "server.log", root / "krita.log"
    clock = time.monotonic()
    server = start_server(profile.environment(), profile.ldl_home, server_log)
    seconds["server"] = time.monotonic() - clock
    try:
        clock = time.monotonic()
        returncode = run_krita(profile, config_file, krita_log)
        seconds["krita"] = time.monotonic() - clock
    finally:
        stop(server)
    result_file = Path(config["result"])
    yield HostRun(
        result=json.loads(result_file.read_text("utf-8")) if result_file.exists() else None,
        report=read(Path(config["report"])),
        krita_log=read(krita_log),
        server_log=read(server_log),
        returncode=returncode,
        seconds={name: round(value, 1) for name, value in seconds.items()},
        screenshot=Path(config["screenshot"]),
    )


def test_in_krita_tests_pass(host_run: HostRun) -> None:
    print(
        f"Krita host test: seconds {host_run.seconds}, in-Krita pytest {host_run.result and host_run.result['seconds']}"
    )
    assert host_run.result is not None, f"Krita wrote no result\n{host_run.explain()}"
    assert host_run.result["error"] is None, f"the runner failed\n{host_run.explain()}"
    assert host_run.result["exit_code"] == 0, f"in-Krita tests failed\n{host_run.explain()}"
    assert host_run.returncode is not None, f"Krita did not quit in {KRITA_TIMEOUT_S} s\n{host_run.explain()}"
    assert host_run.returncode == 0, f"Krita exited with status {host_run.returncode}\n{host_run.explain()}"


def test_screenshot_shows_krita(host_run: HostRun) -> None:
    assert host_run.screenshot.exists(), f"no screenshot\n{host_run.explain()}"
    with Image.open(host_run.screenshot) as image:
        assert image.format == "PNG" and image.width >= 800 and image.height >= 600, image
        low, high = zip(*image.convert("RGB").getextrema(), strict=True)
        assert max(high) - min(low) > 64, "a blank screenshot"
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(host_run.screenshot, SCREENSHOT)
