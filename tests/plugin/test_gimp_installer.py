"""`installer/install.py --gimp` against a fresh HOME: the plug-in folder GIMP 3 registers, idempotent, replaced
whole, and GIMP 3.0's own user folder per platform."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from installer.errors import InstallError
from installer.locations import gimp_locations
from installer.steps import gimp as gimp_step
from installer.steps.gimp import install_gimp_plugin
from ldl_client.backend_record import BackendRecord

REPO = Path(__file__).resolve().parents[2]
INSTALL_SCRIPT = REPO / "installer" / "install.py"
REAL_PLUGIN = REPO / "plugin" / "gimp" / "ldl_upscale"


def tree(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(path.relative_to(folder)): (path.read_bytes(), stat.S_IMODE(path.stat().st_mode))
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def plugin_source(tmp_path: Path) -> Path:
    """A stand-in for plugin/gimp with the shape the step copies, including what it must not copy."""
    source = tmp_path / "source"
    folder = source / "ldl_upscale"
    (folder / "ldl_gimp" / "__pycache__").mkdir(parents=True)
    (folder / "ldl_upscale.py").write_text("#!/usr/bin/env python3\nprint('plug-in')\n")
    (folder / "ldl_upscale.py").chmod(0o644)  # as a zip download or a Windows checkout leaves it
    (folder / "ldl_gimp" / "__init__.py").write_text("")
    (folder / "ldl_gimp" / "pixels.py").write_text("pixels = True\n")
    (folder / "ldl_gimp" / "__pycache__" / "pixels.cpython-313.pyc").write_bytes(b"cache")
    (folder / "ldl_client").mkdir()
    (folder / "ldl_client" / "stray.py").write_text("stray = True\n")
    (folder / "backend.json").write_text('{"python": "/a/developer/python"}\n')
    return source


def test_layout_modes_and_record(tmp_path: Path, plugin_source: Path) -> None:
    record = BackendRecord("/opt/ldl/bin/python", "/srv/ldl-home")
    result = install_gimp_plugin(tmp_path / "plug-ins", record, plugin_source)
    folder = tmp_path / "plug-ins" / "ldl_upscale"
    assert (result.folder, result.script, result.record) == (folder, folder / "ldl_upscale.py", record)
    assert sorted(path.name for path in (tmp_path / "plug-ins").iterdir()) == ["ldl_upscale"]
    files = tree(folder)
    assert files["ldl_upscale.py"] == (b"#!/usr/bin/env python3\nprint('plug-in')\n", 0o755)
    assert files["ldl_gimp/pixels.py"][0] == b"pixels = True\n"
    assert not [name for name in files if "__pycache__" in name or name.endswith(".pyc")]
    client = {name for name in files if name.startswith("ldl_client/")}
    assert client == {f"ldl_client/{module.name}" for module in (REPO / "ldl_client").glob("*.py")}
    for module in (REPO / "ldl_client").glob("*.py"):
        assert files[f"ldl_client/{module.name}"][0] == module.read_bytes()
    assert files["backend.json"][0] == record.to_json()
    assert json.loads(files["backend.json"][0]) == {"python": "/opt/ldl/bin/python", "ldl_studio_home": "/srv/ldl-home"}


def test_a_second_run_changes_nothing_and_an_older_copy_is_replaced_whole(tmp_path: Path, plugin_source: Path) -> None:
    plug_ins = tmp_path / "plug-ins"
    (plug_ins / "ldl_upscale" / "ldl_gimp").mkdir(parents=True)
    (plug_ins / "ldl_upscale" / "removed_module.py").write_text("old = True\n")
    (plug_ins / "ldl_upscale" / "ldl_gimp" / "stale.py").write_text("old = True\n")
    (plug_ins / "another-plug-in").mkdir()
    (plug_ins / "another-plug-in" / "another-plug-in.py").write_text("theirs = True\n")
    record = BackendRecord("/some/python", None)
    install_gimp_plugin(plug_ins, record, plugin_source)
    first = tree(plug_ins)
    assert "ldl_upscale/removed_module.py" not in first and "ldl_upscale/ldl_gimp/stale.py" not in first
    assert first["another-plug-in/another-plug-in.py"][0] == b"theirs = True\n"
    install_gimp_plugin(plug_ins, record, plugin_source)
    assert tree(plug_ins) == first
    assert sorted(path.name for path in plug_ins.iterdir()) == ["another-plug-in", "ldl_upscale"]  # no leftovers


def test_a_failed_install_leaves_the_previous_one_working(
    tmp_path: Path, plugin_source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plug_ins = tmp_path / "plug-ins"
    install_gimp_plugin(plug_ins, BackendRecord("/first/python", None), plugin_source)
    before = tree(plug_ins)
    (plugin_source / "ldl_upscale" / "ldl_gimp" / "pixels.py").write_text("pixels = 2\n")

    def fail(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(gimp_step, "replace_folder", fail)
    with pytest.raises(InstallError, match=r"cannot install the GIMP plug-in .*No space left on device") as caught:
        install_gimp_plugin(plug_ins, BackendRecord("/second/python", None), plugin_source)
    assert "free space" in caught.value.hint
    assert tree(plug_ins) == before
    assert sorted(path.name for path in plug_ins.iterdir()) == ["ldl_upscale"]  # the staging folder is gone


def test_a_missing_source_or_an_unusable_folder_is_a_clear_error(tmp_path: Path, plugin_source: Path) -> None:
    (plugin_source / "ldl_upscale" / "ldl_gimp" / "__init__.py").unlink()
    with pytest.raises(InstallError, match=r"ldl_gimp/__init__.py is missing"):
        install_gimp_plugin(tmp_path / "plug-ins", BackendRecord("/p", None), plugin_source)
    (plugin_source / "ldl_upscale" / "ldl_gimp" / "__init__.py").write_text("")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(InstallError) as caught:
        install_gimp_plugin(blocker / "plug-ins", BackendRecord("/p", None), plugin_source)
    assert "cannot create the GIMP plug-ins folder" in caught.value.message and "--gimp-dir" in caught.value.hint


def fresh_environment(tmp_path: Path) -> dict[str, str]:
    drop = ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "APPDATA", "GIMP3_DIRECTORY")
    environment = {k: v for k, v in os.environ.items() if k not in drop}
    environment.update(
        HOME=str(tmp_path / "home"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        LDL_STUDIO_HOME=str(tmp_path / "ldl-home"),
    )
    return environment


def run_installer(environment: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    # --python: this venv is the backend's environment, so no private environment is made (tests/installer does that).
    return subprocess.run(
        [sys.executable, str(INSTALL_SCRIPT), "--python", sys.executable, *args],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_the_command_installs_into_gimps_folder_and_a_second_run_changes_nothing(tmp_path: Path) -> None:
    environment = fresh_environment(tmp_path)
    first = run_installer(environment, "--gimp")
    assert first.returncode == 0, first.stderr
    assert "warning" not in first.stderr  # this interpreter has ldl_backend
    folder = tmp_path / "config" / "GIMP" / "3.0" / "plug-ins" / "ldl_upscale"
    assert f"[gimp] installed the GIMP plug-in in {folder}\n" in first.stdout
    assert "Restart GIMP to load it: Filters › Enhance › Upscale with LDL…" in first.stdout
    assert "Krita" not in first.stdout
    for source in REAL_PLUGIN.rglob("*.py"):
        if "__pycache__" not in source.parts:
            assert (folder / source.relative_to(REAL_PLUGIN)).read_bytes() == source.read_bytes()
    assert stat.S_IMODE((folder / "ldl_upscale.py").stat().st_mode) == 0o755
    assert json.loads((folder / "backend.json").read_text()) == {
        "python": sys.executable,
        "ldl_studio_home": str(tmp_path / "ldl-home"),
    }
    before = tree(tmp_path)
    second = run_installer(environment, "--gimp")
    assert second.returncode == 0, second.stderr
    assert tree(tmp_path) == before


def test_krita_and_gimp_together(tmp_path: Path) -> None:
    environment = fresh_environment(tmp_path)
    done = run_installer(environment, "--krita", "--gimp", "--gimp-dir", str(tmp_path / "g"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "data" / "krita" / "pykrita" / "ldl_krita" / "backend.json").is_file()
    assert (tmp_path / "g" / "ldl_upscale" / "backend.json").is_file()
    assert not (tmp_path / "config" / "GIMP").exists()
    assert "Restart Krita" in done.stdout and "Restart GIMP" in done.stdout


def test_the_installed_client_imports_from_the_plugin_folder_alone(tmp_path: Path) -> None:
    result = install_gimp_plugin(tmp_path / "plug-ins", BackendRecord(sys.executable, None))
    script = textwrap.dedent(
        f"""
        import sys
        sys.path = [{str(result.folder)!r}] + [p for p in sys.path if "site-packages" not in p and p]
        from ldl_client.backend_record import read_backend_record
        assert "ldl_backend" not in sys.modules
        print(read_backend_record(__import__("pathlib").Path({str(result.folder)!r})).python)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == sys.executable


def test_the_command_reports_an_unusable_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    done = run_installer(fresh_environment(tmp_path), "--gimp", "--gimp-dir", str(blocker / "plug-ins"))
    assert done.returncode == 1
    assert done.stderr.startswith("error: ") and "hint: " in done.stderr


@pytest.mark.parametrize(
    ("platform", "environment", "expected"),
    [
        ("linux", {"HOME": "/h"}, "/h/.config/GIMP/3.0"),
        ("linux", {"HOME": "/h", "XDG_CONFIG_HOME": "/c"}, "/c/GIMP/3.0"),
        ("linux", {"HOME": "/h", "XDG_CONFIG_HOME": "relative"}, "/h/.config/GIMP/3.0"),
        ("linux", {"HOME": "/h", "GIMP3_DIRECTORY": "/g3", "XDG_CONFIG_HOME": "/c"}, "/g3"),
        ("linux", {"HOME": "/h", "GIMP3_DIRECTORY": "gimp3"}, "/h/gimp3"),
        ("win32", {"APPDATA": "/r", "LOCALAPPDATA": "/l"}, "/r/GIMP/3.0"),
        ("win32", {}, "/h/AppData/Roaming/GIMP/3.0"),
        ("darwin", {"HOME": "/h", "XDG_CONFIG_HOME": "/c"}, "/h/Library/Application Support/GIMP/3.0"),
    ],
)
def test_default_locations(platform: str, environment: dict[str, str], expected: str) -> None:
    found = gimp_locations(environment, platform, Path("/h"))
    assert (found.directory, found.plug_ins) == (Path(expected), Path(expected) / "plug-ins")
