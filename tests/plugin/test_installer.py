"""`installer/install.py --krita` against a fresh HOME: files copied, kritarc edited in place, idempotent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from installer import install
from installer.errors import InstallError
from installer.kritarc import enable_plugin
from installer.locations import krita_locations
from installer.steps.krita import install_krita_plugin
from ldl_client.backend_record import BackendRecord

REPO = Path(__file__).resolve().parents[2]
INSTALL_SCRIPT = REPO / "installer" / "install.py"
KRITARC = textwrap.dedent(
    """\
    [General]
    ; a comment Krita never wrote
    Enable_ldl_krita=false
    colorModelDef=RGBA

    [python]
    enable_assignprofiledialog=true
    # keep me
    enable_ldl_krita=false

    [Unknown Section]
    key = value with spaces
    """
)


def fresh_environment(tmp_path: Path) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "APPDATA")}
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
        [sys.executable, str(INSTALL_SCRIPT), "--krita", "--python", sys.executable, *args],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def tree(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_installs_into_a_fresh_profile_and_a_second_run_changes_nothing(tmp_path: Path) -> None:
    environment = fresh_environment(tmp_path)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "kritarc").write_text(KRITARC)
    first = run_installer(environment)
    assert first.returncode == 0, first.stderr
    assert "warning" not in first.stderr  # this interpreter has ldl_backend
    pykrita = tmp_path / "data" / "krita" / "pykrita"
    package = pykrita / "ldl_krita"
    desktop = (pykrita / "ldl_krita.desktop").read_text()
    for line in ("Type=Service", "ServiceTypes=Krita/PythonPlugin", "X-KDE-Library=ldl_krita", "Name=LDL Studio"):
        assert line in desktop.splitlines()
    for module in ("__init__.py", "upscale.py", "pixels.py", "selection_blend.py", "qt.py", "client_import.py"):
        assert (package / module).read_bytes() == (REPO / "plugin" / "krita" / "ldl_krita" / module).read_bytes()
    for module in (REPO / "ldl_backend" / "client").glob("*.py"):
        assert (package / "ldl_client" / module.name).read_bytes() == module.read_bytes()
    assert not list(package.rglob("__pycache__"))
    assert json.loads((package / "backend.json").read_text()) == {
        "python": sys.executable,
        "ldl_studio_home": str(tmp_path / "ldl-home"),
    }
    # One line changed in [python]; the look-alike key in [General] (another case, another group) untouched.
    expected = KRITARC.replace("# keep me\nenable_ldl_krita=false", "# keep me\nenable_ldl_krita=true")
    assert (tmp_path / "config" / "kritarc").read_text() == expected
    before = tree(tmp_path)
    second = run_installer(environment)
    assert second.returncode == 0, second.stderr
    assert "already enabled" in second.stdout
    assert "Nothing changed" in second.stdout
    assert tree(tmp_path) == before


def test_an_older_copy_is_replaced_whole(tmp_path: Path) -> None:
    pykrita, kritarc = tmp_path / "pykrita", tmp_path / "config" / "kritarc"
    (pykrita / "ldl_krita" / "ldl_client").mkdir(parents=True)
    (pykrita / "ldl_krita" / "removed_module.py").write_text("old = True\n")
    (pykrita / "ldl_krita" / "ldl_client" / "stale.py").write_text("old = True\n")
    record = BackendRecord("/some/python", None)
    result = install_krita_plugin(pykrita, kritarc, record)
    assert not (result.package / "removed_module.py").exists()
    assert not (result.package / "ldl_client" / "stale.py").exists()
    assert kritarc.read_text() == "[python]\nenable_ldl_krita=true\n"
    assert json.loads((result.package / "backend.json").read_text()) == {
        "python": "/some/python",
        "ldl_studio_home": None,
    }
    assert sorted(path.name for path in pykrita.iterdir()) == ["ldl_krita", "ldl_krita.desktop"]


def test_the_installed_client_imports_from_the_plugin_folder_alone(tmp_path: Path) -> None:
    result = install_krita_plugin(tmp_path / "pykrita", tmp_path / "kritarc", BackendRecord(sys.executable, None))
    script = textwrap.dedent(
        f"""
        import sys
        sys.path = [{str(result.package.parent)!r}] + [p for p in sys.path if "site-packages" not in p and p]
        from ldl_krita.client_import import Client, RawImage, SubmitOptions
        import ldl_krita, ldl_krita.pixels, ldl_krita.upscale, ldl_krita.selection_blend
        assert Client.__module__ == "ldl_krita.ldl_client.client", Client.__module__
        assert "ldl_backend" not in sys.modules
        SubmitOptions(model="realesr-animevideov3")
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "[python]\nenable_ldl_krita=true\n"),
        ("[General]\nx=1", "[General]\nx=1\n\n[python]\nenable_ldl_krita=true\n"),
        ("[python]\nenable_other=true", "[python]\nenable_other=true\nenable_ldl_krita=true\n"),
        (
            "[python]\nenable_other=true\n\n[Z]\na=b\n",
            "[python]\nenable_other=true\nenable_ldl_krita=true\n\n[Z]\na=b\n",
        ),
        ("[a]\r\nx=1\r\n[python]\r\n", "[a]\r\nx=1\r\n[python]\r\nenable_ldl_krita=true\r\n"),
        (
            "[python]\n enable_ldl_krita = false\nENABLE_LDL_KRITA=false\n",
            "[python]\nenable_ldl_krita=true\nENABLE_LDL_KRITA=false\n",
        ),
    ],
)
def test_kritarc_gets_one_line_and_keeps_everything_else(text: str, expected: str) -> None:
    assert enable_plugin(text, "ldl_krita") == expected
    assert enable_plugin(expected, "ldl_krita") == expected


def test_bytes_that_are_not_utf8_survive(tmp_path: Path) -> None:
    kritarc = tmp_path / "kritarc"
    kritarc.write_bytes(b"[General]\nname=caf\xe9\n")
    install_krita_plugin(tmp_path / "pykrita", kritarc, BackendRecord(sys.executable, None))
    assert kritarc.read_bytes() == b"[General]\nname=caf\xe9\n\n[python]\nenable_ldl_krita=true\n"


def test_an_unusable_folder_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(InstallError) as caught:
        install_krita_plugin(blocker / "pykrita", tmp_path / "kritarc", BackendRecord(sys.executable, None))
    assert str(blocker / "pykrita") in caught.value.message and "--krita-dir" in caught.value.hint
    environment = fresh_environment(tmp_path)
    done = run_installer(environment, "--krita-dir", str(blocker / "pykrita"))
    assert done.returncode == 1
    assert done.stderr.startswith("error: cannot create the Krita plugin folder") and "hint: " in done.stderr


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root can write anywhere")
def test_a_read_only_folder_is_a_clear_error(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(InstallError, match="cannot write to the Krita plugin folder"):
            install_krita_plugin(locked, tmp_path / "kritarc", BackendRecord(sys.executable, None))
    finally:
        locked.chmod(0o700)


def test_options_choose_both_folders(tmp_path: Path) -> None:
    environment = fresh_environment(tmp_path)
    done = run_installer(environment, "--krita-dir", str(tmp_path / "k"), "--config-dir", str(tmp_path / "c"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "k" / "ldl_krita" / "backend.json").is_file()
    assert (tmp_path / "c" / "kritarc").read_text() == "[python]\nenable_ldl_krita=true\n"
    # Only the install manifest goes into the data folder.
    assert [p.name for p in (tmp_path / "data").rglob("*") if p.is_file()] == ["install-manifest.json"]
    assert not (tmp_path / "config").exists()


def test_contradicting_options_are_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    for arguments in (["--purge"], ["--uninstall", "--krita"], ["--uninstall", "--python", "/p"]):
        with pytest.raises(SystemExit) as caught:
            install.main(arguments)
        assert caught.value.code == 2
        assert "--uninstall" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("platform", "environment", "pykrita", "kritarc"),
    [
        ("linux", {"HOME": "/h"}, "/h/.local/share/krita/pykrita", "/h/.config/kritarc"),
        ("linux", {"HOME": "/h", "XDG_DATA_HOME": "/d", "XDG_CONFIG_HOME": "/c"}, "/d/krita/pykrita", "/c/kritarc"),
        ("linux", {"HOME": "/h", "XDG_DATA_HOME": "rel"}, "/h/.local/share/krita/pykrita", "/h/.config/kritarc"),
        ("win32", {"APPDATA": "/r", "LOCALAPPDATA": "/l"}, "/r/krita/pykrita", "/l/kritarc"),
        ("darwin", {"HOME": "/h"}, "/h/Library/Application Support/krita/pykrita", "/h/Library/Preferences/kritarc"),
    ],
)
def test_default_locations(platform: str, environment: dict[str, str], pykrita: str, kritarc: str) -> None:
    found = krita_locations(environment, platform, Path("/h"))
    assert (found.pykrita, found.kritarc) == (Path(pykrita), Path(kritarc))
