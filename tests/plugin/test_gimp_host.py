"""The GIMP 3 plug-in inside a real GIMP: installed by the installer into a fresh profile, against a real
``ldl serve``.

GIMP 3.0 runs here in one of two places: on a Debian 13 machine itself, or in the Debian 13 chroot that
scripts/gimp_host.sh makes elsewhere (``$LDL_GIMP_CHROOT``, default /var/cache/ldl-studio/gimp-trixie; .ci/run makes
it). Everything GIMP needs lies under a workspace inside the chroot's /tmp, so both sides see the same files: the
profile (HOME, XDG_CONFIG_HOME) with the plug-in installed by ``installer/install.py --gimp``, the photo, the in-GIMP
tests and a copy of ``ldl_client``. The backend runs out here with its ``LDL_STUDIO_HOME`` in that workspace; the
chroot shares this machine's network, so the plug-in finds it through its discovery file and reaches it on
127.0.0.1. /proc and /dev are mounted into the chroot only in a private mount namespace (``unshare``) that ends with
GIMP, so nothing stays mounted, whatever happens to this test.

Two GIMP runs:
- ``gimp-console-3.0`` in batch mode runs pytest on tests/hosts/gimp/in_gimp/ through
  tests/hosts/gimp/batch/run_tests.py (under Xvfb where the chroot has it, so that plug-in dialogs can open); their
  pytest exit code decides this test.
- the GUI ``gimp-3.0`` under Xvfb upscales the photo with the ``ldl-upscale`` procedure, shows the result and leaves
  a screenshot in out/screenshots/gimp_result.png (tests/hosts/gimp/batch/screenshot.py).

Skipped, saying so, where there is no GIMP 3 (.ci/run runs scripts/gimp_host.sh, which makes one).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.plugin.host_processes import read, start_server, stop, write_photo

REPO = Path(__file__).resolve().parents[2]
HOST_TESTS = REPO / "tests" / "hosts" / "gimp"
SCREENSHOT = REPO / "out" / "screenshots" / "gimp_result.png"
DEFAULT_CHROOT = Path("/var/cache/ldl-studio/gimp-trixie")
CONSOLE = "gimp-console-3.0"
GUI = "gimp-3.0"
MODEL = "realesr-animevideov3"
TESTS_TIMEOUT_S = 300
SCREENSHOT_TIMEOUT_S = 180
# A fresh profile without the first-start dialogs.
GIMPRC = "(show-welcome-dialog no)\n(check-updates no)\n"
SCREEN = (1280, 1024)
# GIMP's default window layout (its system sessionrc) with the one window filling the screen (there is no window
# manager to maximise it) and a wider right dock, so the screenshot shows the layer names in full.
WINDOW = re.compile(r'(\(factory-entry "gimp-single-image-window"\)\s*\(position) \d+ \d+(\)\s*\(size) \d+ \d+\)')
RIGHT_DOCKS = re.compile(r'\(right-docks-width "\d+"\)')


@dataclass(frozen=True)
class GimpHost:
    """Where GIMP 3 runs: ``root`` is "/" when it is installed on this machine, else the chroot it is installed in."""

    root: Path

    @property
    def chrooted(self) -> bool:
        return self.root != Path("/")

    def outside(self, inside: Path) -> Path:
        """The path out here of ``inside``, a path as GIMP sees it."""
        return self.root / inside.relative_to("/")

    def has(self, program: str) -> bool:
        path = self.outside(Path("/usr/bin") / program)
        return path.is_file() or path.is_symlink()  # a chroot's absolute links (alternatives) point inside it

    def command(self, argv: Sequence[str], environment: Mapping[str, str]) -> list[str]:
        """``argv`` run with exactly ``environment`` (nothing of this process's: a venv's PATH or PYTHON* variables
        would reach GIMP's Python), in the chroot where there is one."""
        program = ["/usr/bin/env", "-i", *(f"{name}={value}" for name, value in environment.items()), *argv]
        if not self.chrooted:
            return program
        # The mounts exist only in this namespace: they end with its last process, killed or not.
        script = 'mount -t proc proc "$1/proc" && mount --bind /dev "$1/dev" && exec chroot "$@"'
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", str(self.root), *program]


def find_gimp() -> tuple[GimpHost | None, str]:
    """This machine's GIMP 3, else the chroot's; with None, what is missing."""
    if shutil.which(CONSOLE, path="/usr/bin:/bin"):
        return GimpHost(Path("/")), ""
    root = Path(os.environ.get("LDL_GIMP_CHROOT") or DEFAULT_CHROOT)
    if not GimpHost(root).has(CONSOLE):
        return None, f"{CONSOLE} is neither installed here nor in a chroot at {root}"
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None, f"running GIMP in the chroot {root} needs root (chroot, mount)"
    missing = [program for program in ("unshare", "chroot") if shutil.which(program) is None]
    if missing:
        return None, f"{' and '.join(missing)} not found (util-linux, coreutils)"
    return GimpHost(root), ""


HOST, MISSING = find_gimp()
pytestmark = pytest.mark.skipif(
    HOST is None,
    reason=f"real-GIMP host test skipped: {MISSING} (as root, bash scripts/gimp_host.sh makes one; .ci/run does)",
)


@dataclass(frozen=True)
class Workspace:
    """A folder both sides see: ``inside`` as GIMP sees it, under the chroot's /tmp (or /tmp without a chroot)."""

    host: GimpHost
    inside: Path

    @classmethod
    def create(cls, host: GimpHost) -> Workspace:
        outside = Path(tempfile.mkdtemp(prefix="ldl-gimp-host-", dir=host.outside(Path("/tmp"))))
        workspace = cls(host, Path("/tmp") / outside.name)
        folders = (workspace.home, workspace.config, workspace.plug_ins, workspace.ldl_home, workspace.out_dir)
        for folder in (*folders, workspace.inside / "tmp"):
            host.outside(folder).mkdir(parents=True, exist_ok=True)
        settings = host.outside(workspace.config / "GIMP" / "3.0")
        (settings / "gimprc").write_text(GIMPRC, "utf-8")
        system_session = host.outside(Path("/etc/gimp/3.0/sessionrc"))
        if system_session.is_file():  # else GIMP's built-in layout: a smaller window, still a screenshot
            session = WINDOW.sub(rf"\1 0 0\2 {SCREEN[0]} {SCREEN[1]})", system_session.read_text("utf-8"))
            session = RIGHT_DOCKS.sub('(right-docks-width "420")', session)
            (settings / "sessionrc").write_text(session, "utf-8")
        return workspace

    @property
    def outside(self) -> Path:
        return self.host.outside(self.inside)

    @property
    def home(self) -> Path:
        return self.inside / "home"

    @property
    def config(self) -> Path:
        return self.inside / "config"

    @property
    def plug_ins(self) -> Path:
        return self.config / "GIMP" / "3.0" / "plug-ins"

    @property
    def ldl_home(self) -> Path:
        return self.inside / "ldl-home"

    @property
    def out_dir(self) -> Path:
        return self.inside / "out"

    def environment(self, config_file: Path, **extra: str) -> dict[str, str]:
        """GIMP's whole environment: a fresh profile, no settings from an earlier run, the run's configuration."""
        return {
            "PATH": "/usr/bin:/bin",
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.config),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "XDG_DATA_HOME": str(self.home / ".local" / "share"),
            "TMPDIR": str(self.inside / "tmp"),  # xvfb-run's and GIMP's temporary files go with the workspace
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "LDL_GIMP_HOST_TEST": str(config_file),
            **extra,
        }

    def remove(self) -> None:
        shutil.rmtree(self.outside, ignore_errors=True)


@dataclass(frozen=True)
class Session:
    """A workspace with the plug-in installed and a backend running for it; ``base_config`` is what the in-GIMP
    tests read (paths as GIMP sees them)."""

    workspace: Workspace
    base_config: dict[str, Any]
    server_log: Path
    seconds: dict[str, float]

    def write_config(self, name: str, **extra: Any) -> Path:
        """The run's configuration file (its path as GIMP sees it)."""
        inside = self.workspace.inside / f"{name}.json"
        paths = {key: str(value) if isinstance(value, Path) else value for key, value in extra.items()}
        config = {**self.base_config, **paths}
        self.workspace.host.outside(inside).write_text(json.dumps(config, indent=2), "utf-8")
        return inside


@dataclass(frozen=True)
class GimpRun:
    what: str
    result: dict[str, Any] | None  # what the batch program wrote
    report: str  # the in-GIMP pytest report (empty for the screenshot run)
    gimp_log: str
    server_log: str
    returncode: int | None  # GIMP's (None: killed after the timeout)
    seconds: dict[str, float]

    def explain(self) -> str:
        return (
            f"{self.what}: result {json.dumps(self.result, indent=2)}\n"
            f"GIMP exit status: {self.returncode}; seconds: {self.seconds}\n"
            f"--- in-GIMP pytest report ---\n{self.report or '(none)'}\n"
            f"--- GIMP output (last 4000 characters) ---\n{self.gimp_log[-4000:]}\n"
            f"--- ldl serve output (last 2000 characters) ---\n{self.server_log[-2000:]}"
        )


def install_plugin(workspace: Workspace) -> None:
    """``install.py --gimp --python`` as a developer runs it, by this venv's Python, into the workspace's profile.
    It records this Python (a path GIMP in a chroot cannot run; the backend already runs) and the backend's home as
    GIMP sees it."""
    command = [sys.executable, str(REPO / "installer" / "install.py"), "--gimp", "--python", sys.executable]
    command += ["--gimp-dir", str(workspace.host.outside(workspace.plug_ins))]
    command += ["--prefix", str(workspace.outside / "installer")]  # the manifest, not in the user's data folder
    environment = {**os.environ, "LDL_STUDIO_HOME": str(workspace.ldl_home)}
    done = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"
    script = workspace.host.outside(workspace.plug_ins / "ldl_upscale" / "ldl_upscale.py")
    assert script.is_file() and os.access(script, os.X_OK), done.stdout


def copy_into(workspace: Workspace, source: Path, name: str) -> Path:
    """A copy of ``source`` (no caches) in the workspace; its path as GIMP sees it."""
    inside = workspace.inside / name
    ignored = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    shutil.copytree(source, workspace.host.outside(inside), ignore=ignored)
    return inside


def run_gimp(session: Session, what: str, argv: list[str], config_file: Path, timeout: float) -> GimpRun:
    workspace = session.workspace
    host = workspace.host
    log = workspace.outside / f"{what}.log"
    environment = workspace.environment(config_file)
    command = host.command(argv, environment)
    config = json.loads(host.outside(config_file).read_text("utf-8"))
    clock = time.monotonic()
    with log.open("wb") as stream:
        # A session of its own: on a timeout the whole group (unshare, xvfb-run, Xvfb, GIMP, its plug-ins) ends.
        gimp = subprocess.Popen(
            command,
            cwd=workspace.outside,
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
            stdout=stream,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        returncode: int | None = gimp.wait(timeout)
    except subprocess.TimeoutExpired:
        stop(gimp, group=True)
        returncode = None
    result_file = host.outside(Path(config["result"]))
    report = Path(config["report"]) if "report" in config else None
    return GimpRun(
        what=what,
        result=json.loads(result_file.read_text("utf-8")) if result_file.exists() else None,
        report=read(host.outside(report)) if report else "",
        gimp_log=read(log),
        server_log=read(session.server_log),
        returncode=returncode,
        seconds={**session.seconds, what: round(time.monotonic() - clock, 1)},
    )


def free_display() -> int:
    """An X display number no X server uses, here or in any chroot. xvfb-run -a looks only at the lock files in its
    own /tmp, but X servers also listen on abstract sockets, which a chroot shares with this machine (one network
    namespace): an Xvfb of the Krita test or of a desktop out here would take the chroot's first pick."""
    try:
        sockets = Path("/proc/net/unix").read_text("utf-8", "replace")
    except OSError:
        sockets = ""
    taken = {int(number) for number in re.findall(r"@?/tmp/\.X11-unix/X(\d+)", sockets)}
    number = 100
    while number in taken or Path(f"/tmp/.X{number}-lock").exists():
        number += 1
    return number


def xvfb_argv() -> list[str]:
    return ["xvfb-run", "-a", "-n", str(free_display()), "-s", f"-screen 0 {SCREEN[0]}x{SCREEN[1]}x24"]


def batch_argv(gimp: str, program: Path, *options: str) -> list[str]:
    # GIMP's Python evaluates the -b code; the program runs as __main__. A failed assert there exits GIMP with 64.
    code = f"import runpy; runpy.run_path({str(program)!r}, run_name='__main__')"
    return [gimp, *options, "--batch-interpreter=python-fu-eval", "-b", code, "--quit"]


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    assert HOST is not None
    workspace = Workspace.create(HOST)
    try:
        clock = time.monotonic()
        install_plugin(workspace)
        seconds = {"install": round(time.monotonic() - clock, 1)}
        base_config = {
            "photo": str(workspace.inside / "photo.png"),
            "ldl_studio_home": str(workspace.ldl_home),
            "model": MODEL,
            "client_dir": str(workspace.inside / "client"),
            "out_dir": str(workspace.out_dir),
        }
        write_photo(HOST.outside(Path(base_config["photo"])))
        shutil.copytree(REPO / "ldl_client", HOST.outside(workspace.inside / "client" / "ldl_client"))
        copy_into(workspace, HOST_TESTS / "batch", "batch")
        # The server's log stays out of the workspace, which goes when the module ends.
        server_log = tmp_path_factory.mktemp("gimp-host") / "server.log"
        server_environment = {
            **{name: value for name, value in os.environ.items() if not name.startswith("PYTEST_")},
            "LDL_STUDIO_HOME": str(workspace.outside / "ldl-home"),
        }
        clock = time.monotonic()
        server = start_server(server_environment, workspace.outside / "ldl-home", server_log)
        seconds["server"] = round(time.monotonic() - clock, 1)
        try:
            yield Session(workspace, base_config, server_log, seconds)
        finally:
            stop(server)
    finally:
        workspace.remove()


@pytest.fixture(scope="module")
def tests_run(session: Session) -> GimpRun:
    tests = copy_into(session.workspace, HOST_TESTS / "in_gimp", "in_gimp")
    inside = session.workspace.inside
    config_file = session.write_config(
        "tests",
        tests=tests,
        pytest_args=["-v", "-ra", "--durations=5"],
        report=inside / "report.txt",
        result=inside / "tests-result.json",
    )
    argv = batch_argv(CONSOLE, inside / "batch" / "run_tests.py", "-i")
    if session.workspace.host.has("xvfb-run"):
        # gimp-console shows no window, but with a display its plug-ins can: the in-GIMP dialog tests then run.
        argv = [*xvfb_argv(), *argv]
    return run_gimp(session, "tests", argv, config_file, TESTS_TIMEOUT_S)


@pytest.fixture(scope="module")
def screenshot_run(session: Session) -> GimpRun:
    host, inside = session.workspace.host, session.workspace.inside
    missing = [program for program in (GUI, "xvfb-run", "import") if not host.has(program)]
    if missing:
        pytest.skip(f"{', '.join(missing)} missing in {host.root} (scripts/gimp_host.sh installs them)")
    screenshot = inside / "gimp_result.png"
    config_file = session.write_config("screenshot", screenshot=screenshot, result=inside / "screenshot-result.json")
    argv = [*xvfb_argv(), *batch_argv(GUI, inside / "batch" / "screenshot.py", "--no-splash")]
    return run_gimp(session, "screenshot", argv, config_file, SCREENSHOT_TIMEOUT_S)


def test_in_gimp_tests_pass(tests_run: GimpRun) -> None:
    summary = (tests_run.report.strip().splitlines() or ["(no report)"])[-1]
    print(f"GIMP host test: seconds {tests_run.seconds}, in-GIMP pytest: {summary}")
    assert tests_run.result is not None, f"GIMP wrote no result\n{tests_run.explain()}"
    assert tests_run.result["error"] is None, f"the batch runner failed\n{tests_run.explain()}"
    assert tests_run.result["exit_code"] == 0, f"in-GIMP tests failed\n{tests_run.explain()}"
    assert tests_run.returncode is not None, f"GIMP did not quit in {TESTS_TIMEOUT_S} s\n{tests_run.explain()}"
    assert tests_run.returncode == 0, f"GIMP exited with status {tests_run.returncode}\n{tests_run.explain()}"


def test_the_gui_shows_the_result_layers(screenshot_run: GimpRun, session: Session) -> None:
    run = screenshot_run
    print(f"GIMP screenshot run: seconds {run.seconds}")
    assert run.result is not None, f"GIMP wrote no result\n{run.explain()}"
    assert run.result["error"] is None, f"upscaling or showing the result failed\n{run.explain()}"
    groups = [layer for layer in run.result["layers"] if layer["name"] == "LDL"]
    assert len(groups) == 1, f"no single LDL group\n{run.explain()}"
    children = {child["name"]: child for child in groups[0].get("children", [])}
    assert set(children) >= {"LDL detail", "LDL reference", "LDL artifact map"}, run.explain()
    assert children["LDL detail"]["mask"] is not None, f"the detail layer has no mask\n{run.explain()}"
    assert children["LDL artifact map"]["visible"] is False, run.explain()
    assert run.result["screenshot"]["returncode"] == 0, f"import failed\n{run.explain()}"
    assert run.returncode == 0, f"GIMP exited with status {run.returncode}\n{run.explain()}"
    shot = session.workspace.host.outside(session.workspace.inside / "gimp_result.png")
    with Image.open(shot) as image:
        assert image.format == "PNG" and image.size == SCREEN, image
        low, high = zip(*image.convert("RGB").getextrema(), strict=True)
        assert max(high) - min(low) > 64, "a blank screenshot"
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, SCREENSHOT)
