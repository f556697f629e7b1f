"""The runtime-folder rules, written once in ``ldl_client.locations`` and used by the server to write the discovery
file and by the clients to find it, checked against the installed platformdirs for Linux, macOS and Windows."""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import pytest

from ldl_backend.paths import runtime_root
from ldl_client.locations import APP_NAME, default_locations, runtime_dir

platformdirs = pytest.importorskip("platformdirs")
macos = pytest.importorskip("platformdirs.macos")
unix = pytest.importorskip("platformdirs.unix")
windows = pytest.importorskip("platformdirs.windows")
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="uses the POSIX uid and modes")


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No LDL_STUDIO_HOME and no XDG variables, with HOME in a temporary folder; returns that HOME."""
    for name in ("LDL_STUDIO_HOME", "XDG_RUNTIME_DIR", "XDG_STATE_HOME"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def test_ldl_studio_home_wins_everywhere(tmp_path: Path) -> None:
    for platform in ("linux", "darwin", "win32", "freebsd14"):
        locations = default_locations({"LDL_STUDIO_HOME": str(tmp_path), "HOME": "/h"}, platform)
        assert locations.discovery_files == (tmp_path / "run" / "server.json",)
        assert locations.log_file == tmp_path / "logs" / "server.log"


@posix_only
def test_linux_with_a_private_xdg_runtime_dir_is_platformdirs_runtime_dir(
    clean_environment: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = tmp_path / "xdg-runtime"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    expected = Path(unix.Unix(APP_NAME, appauthor=False).user_runtime_dir)
    assert runtime_dir(platform="linux") == expected == runtime / APP_NAME
    assert runtime_root() == expected  # the server's folder is the same function's answer


@posix_only
@pytest.mark.parametrize("problem", ["unset", "relative", "shared", "missing"])
def test_linux_without_a_private_runtime_dir_uses_the_state_dir_never_tmp(
    clean_environment: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, problem: str
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    value = {"unset": None, "relative": "run/user", "shared": str(shared), "missing": str(tmp_path / "nope")}[problem]
    if value is not None:
        monkeypatch.setenv("XDG_RUNTIME_DIR", value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about the same faults
        state = Path(unix.Unix(APP_NAME, appauthor=False).user_state_dir)
    assert runtime_dir(platform="linux") == state == clean_environment / ".local" / "state" / APP_NAME
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert runtime_dir(platform="linux") == tmp_path / "state" / APP_NAME
    assert default_locations(platform="linux").log_file == tmp_path / "state" / APP_NAME / "log" / "server.log"


def test_macos_is_platformdirs_runtime_dir(clean_environment: Path) -> None:
    expected = Path(macos.MacOS(APP_NAME, appauthor=False).user_runtime_dir)
    assert runtime_dir(platform="darwin") == expected
    assert expected == clean_environment / "Library" / "Caches" / "TemporaryItems" / APP_NAME


def test_macos_honours_xdg_runtime_dir_like_platformdirs(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/private/run")
    expected = Path(macos.MacOS(APP_NAME, appauthor=False).user_runtime_dir)
    assert runtime_dir(platform="darwin") == expected == Path("/private/run") / APP_NAME


def test_windows_is_platformdirs_runtime_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    local = r"C:\Users\u\AppData\Local"
    monkeypatch.delenv("LDL_STUDIO_HOME", raising=False)
    monkeypatch.setenv("LOCALAPPDATA", local)
    # platformdirs' documented override, so its Windows rules run on any system.
    monkeypatch.setenv("WIN_PD_OVERRIDE_LOCAL_APPDATA", local)
    expected = Path(windows.Windows(APP_NAME, appauthor=False).user_runtime_dir)
    assert runtime_dir(platform="win32") == expected == Path(local) / "Temp" / APP_NAME


@posix_only
def test_the_client_looks_exactly_where_this_machine_s_server_writes() -> None:
    environment = {name: value for name, value in os.environ.items() if name != "LDL_STUDIO_HOME"}
    assert default_locations(environment).discovery_files == (runtime_root(environment) / "server.json",)
