"""The installer's pure parts: the PyTorch build per platform and GPU, the launchers' files per platform, the user
folders per platform, undoing the kritarc line, and the stdlib PNG the model check upscales."""

from __future__ import annotations

import plistlib
import shutil
import subprocess
from pathlib import Path

import pytest

from installer.errors import InstallError
from installer.kritarc import disable_plugin, enable_plugin, has_group, plugin_value, remove_group
from installer.launchers import desktop_entry, icon_svg, info_plist, mac_start_script, windows_shortcut_script
from installer.locations import user_locations
from installer.pip_sources import PipSources
from installer.steps.krita import install_krita_plugin
from installer.steps.model import png_size, tiny_png
from installer.torch_choice import CPU_INDEX, Gpu, InstalledTorch, choose_torch, fits, parse_nvidia_smi
from ldl_client.backend_record import BackendRecord

NVIDIA_SMI = """\
+-----------------------------------------------------------------------------------------+
| NVIDIA-SMI 570.86.15              Driver Version: 570.86.15      CUDA Version: 12.8     |
|-----------------------------------------+------------------------+----------------------+
| GPU  Name                 Persistence-M | Bus-Id          Disp.A | Volatile Uncorr. ECC |
|=========================================+========================+======================|
|   0  NVIDIA H100 80GB HBM3          On  |   00000000:19:00.0 Off |                    0 |
+-----------------------------------------+------------------------+----------------------+
"""


def test_nvidia_smi_is_read() -> None:
    assert parse_nvidia_smi(NVIDIA_SMI) == Gpu("NVIDIA H100 80GB HBM3", (12, 8))
    assert parse_nvidia_smi("No devices were found\n") is None


@pytest.mark.parametrize(
    ("platform", "device", "gpu", "build", "index"),
    [
        ("linux", "auto", None, "cpu", CPU_INDEX),
        ("win32", "auto", None, "cpu", CPU_INDEX),
        ("linux", "auto", Gpu("H100", (12, 8)), "cu128", "https://download.pytorch.org/whl/cu128"),
        ("linux", "auto", Gpu("RTX", (13, 1)), "cu130", "https://download.pytorch.org/whl/cu130"),
        ("win32", "auto", Gpu("RTX", (12, 6)), "cu126", "https://download.pytorch.org/whl/cu126"),
        ("linux", "auto", Gpu("old", (11, 8)), "cpu", CPU_INDEX),  # the driver is too old: CPU, and it says so
        ("linux", "cpu", Gpu("H100", (12, 8)), "cpu", CPU_INDEX),
        ("linux", "cuda", None, "cu130", "https://download.pytorch.org/whl/cu130"),
        ("darwin", "auto", None, "default", None),
    ],
)
def test_the_build_follows_the_platform_and_the_gpu(
    platform: str, device: str, gpu: Gpu | None, build: str, index: str | None
) -> None:
    choice = choose_torch(platform, device, gpu, "nvidia-smi not found")
    assert (choice.build, choice.index_url) == (build, index)
    assert choice.reason


def test_reasons_name_the_cause() -> None:
    assert choose_torch("linux", "auto", None, "nvidia-smi not found").reason == "no NVIDIA GPU (nvidia-smi not found)"
    assert "update the NVIDIA driver" in choose_torch("linux", "auto", Gpu("old", (11, 8)), "").reason
    with pytest.raises(ValueError, match="no CUDA build for macOS"):
        choose_torch("darwin", "cuda", None, "")


def test_an_installed_pytorch_is_kept_when_it_fits() -> None:
    cpu, cuda = choose_torch("linux", "cpu", None, ""), choose_torch("linux", "auto", Gpu("H100", (12, 8)), "")
    assert fits(InstalledTorch("2.13.0+cpu", None), cpu)[0]
    assert fits(InstalledTorch("2.13.0+cu128", "12.8"), cpu)[0]  # a CUDA build runs on the CPU too: no download
    assert fits(InstalledTorch("2.13.0+cu128", "12.8"), cuda)[0]
    assert not fits(InstalledTorch("2.13.0+cpu", None), cuda)[0]
    assert not fits(InstalledTorch("2.0.1", None), cpu)[0]


def test_pip_sources() -> None:
    assert PipSources().arguments(CPU_INDEX) == ["--index-url", CPU_INDEX]
    assert PipSources((Path("/w"),), no_index=True).arguments(CPU_INDEX) == ["--no-index", "--find-links", "/w"]
    assert PipSources((Path("/w"),)).arguments() == ["--find-links", "/w"]


def test_desktop_entry_quotes_paths_and_validates(tmp_path: Path) -> None:
    executable = Path("/home/a user/.local/share/ldl-studio/venv/bin/ldl-studio")
    text = desktop_entry(executable, "ldl-studio")
    assert 'Exec="/home/a user/.local/share/ldl-studio/venv/bin/ldl-studio" %F' in text.splitlines()
    assert desktop_entry(Path("/p/100%/ldl-studio"), "x").count("Exec=/p/100%%/ldl-studio %F") == 1
    validator = shutil.which("desktop-file-validate")
    if validator is None:
        pytest.skip("desktop-file-validate is not installed (Debian: desktop-file-utils)")
    entry = tmp_path / "ldl-studio.desktop"
    entry.write_text(text)
    done = subprocess.run([validator, str(entry)], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout


def test_macos_bundle_and_windows_shortcut_files() -> None:
    plist = plistlib.loads(info_plist("ldl-studio").encode())
    assert plist["CFBundleExecutable"] == "ldl-studio" and plist["CFBundlePackageType"] == "APPL"
    assert plist["NSHighResolutionCapable"] is True
    script = mac_start_script(Path("/Users/o'neil/venv/bin/ldl-studio"))
    assert script == "#!/bin/sh\nexec '/Users/o'\\''neil/venv/bin/ldl-studio' \"$@\"\n"
    shortcut = windows_shortcut_script(
        Path("C:/Users/o'neil/Start Menu/LDL Studio.lnk"), Path("C:/v/Scripts/ldl-studio.exe"), Path("C:/v/Scripts")
    )
    assert "$link = $shell.CreateShortcut('C:/Users/o''neil/Start Menu/LDL Studio.lnk')" in shortcut
    assert "$link.TargetPath = 'C:/v/Scripts/ldl-studio.exe'" in shortcut and shortcut.endswith("$link.Save()\n")


def test_the_icon_is_a_small_svg() -> None:
    svg = icon_svg()
    assert svg.startswith("<svg") and 'viewBox="0 0 128 128"' in svg and len(svg.encode()) < 4096


@pytest.mark.parametrize(
    ("platform", "environment", "data", "bin_folder", "applications"),
    [
        ("linux", {"HOME": "/h"}, "/h/.local/share/ldl-studio", "/h/.local/bin", "/h/.local/share/applications"),
        ("linux", {"HOME": "/h", "XDG_DATA_HOME": "/d"}, "/d/ldl-studio", "/h/.local/bin", "/d/applications"),
        (
            "darwin",
            {"HOME": "/h"},
            "/h/Library/Application Support/ldl-studio",
            "/h/.local/bin",
            "/h/Applications",
        ),
        (
            "win32",
            {"LOCALAPPDATA": "/l", "APPDATA": "/r"},
            "/l/ldl-studio",
            None,
            "/r/Microsoft/Windows/Start Menu/Programs",
        ),
    ],
)
def test_user_locations(
    platform: str, environment: dict[str, str], data: str, bin_folder: str | None, applications: str
) -> None:
    found = user_locations(environment, platform, Path("/h"))
    assert found.data == Path(data)
    assert found.bin == (Path(bin_folder) if bin_folder else None)
    assert found.applications == Path(applications)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[General]\nx=1\n",
        "[python]\nenable_other=true\n",
        "[python]\nenable_ldl_krita=false\n\n[Z]\na=b\n",
        "[a]\r\nx=1\r\n[python]\r\n",
    ],
)
def test_the_kritarc_line_is_undone_exactly(text: str) -> None:
    enabled = enable_plugin(text, "ldl_krita")
    undone = disable_plugin(enabled, "ldl_krita", plugin_value(text, "ldl_krita"), not has_group(text))
    assert undone == text


def test_undoing_keeps_what_krita_added_since() -> None:
    # Krita rewrote the file: another plug-in is enabled in the group the installer added, so the group stays.
    text = "[python]\nenable_ldl_krita=true\nenable_other=true\n"
    assert disable_plugin(text, "ldl_krita", None, True) == "[python]\nenable_other=true\n"


def test_the_check_image_is_a_png() -> None:
    assert png_size(tiny_png(8)) == (8, 8)
    import io

    from PIL import Image

    with Image.open(io.BytesIO(tiny_png(8))) as image:
        image.load()
        assert image.mode == "RGB" and image.getpixel((7, 7)) == (223, 223, 128)


def test_purge_takes_the_plugins_settings_group_and_nothing_else() -> None:
    text = "[General]\nx=1\n\n[ldl_krita]\nmodel=a\n\n[python]\nenable_other=true\n"
    assert remove_group(text, "ldl_krita") == "[General]\nx=1\n\n[python]\nenable_other=true\n"
    assert remove_group("[General]\nx=1\n\n[ldl_krita]\nmodel=a\n", "ldl_krita") == "[General]\nx=1\n"
    assert remove_group("[General]\nx=1\n", "ldl_krita") == "[General]\nx=1\n"


def test_a_kritarc_that_cannot_be_written_undoes_the_plugin_copy(tmp_path: Path) -> None:
    kritarc = tmp_path / "config" / "kritarc"
    kritarc.mkdir(parents=True)  # a folder where the file should be: it cannot be read or written
    with pytest.raises(InstallError, match="cannot read"):
        install_krita_plugin(tmp_path / "pykrita", kritarc, BackendRecord("/p", None))
    assert list((tmp_path / "pykrita").iterdir()) == []
