"""The installed plugin runs on the hosts' own Pythons: Krita's /usr/bin/python3 (with PyQt5) and any of Python
3.10–3.13 this machine has, with nothing but the plugin folder on the path (no numpy, no ldl_backend)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from installer.steps.krita import install_krita_plugin
from ldl_client.backend_record import BackendRecord

KRITA_PYTHON = Path("/usr/bin/python3")

PURE = textwrap.dedent(
    """
    import array, importlib, importlib.abc, os, random, struct, sys

    class Forbid(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("ldl_backend", "numpy", "krita"):
                raise ImportError(f"{name} must not be imported")
            return None

    sys.meta_path.insert(0, Forbid())
    sys.path[:] = [sys.argv[1]] + [p for p in sys.path if "-packages" not in p and p not in ("", ".")]
    import ldl_krita  # no krita module: registers nothing
    from ldl_krita import backend_settings, job, mask_pixels, pixels, selection_blend, upscale
    from ldl_krita.client_import import next_layer_names
    from ldl_krita.client_import import Client, ConnectSettings, ModelInfo, RawImage, ReferenceSource, estimate_seconds
    assert Client.__module__ == "ldl_krita.ldl_client.client"
    model = ModelInfo("m", "RRDBNet", 4, True, "detail", "", 6.5)
    assert estimate_seconds(model, "auto", ReferenceSource.parse("tta:8"), 1_000_000, {}) > 0
    assert backend_settings.connect_settings(os.path.join(sys.argv[1], "ldl_krita")).python == "/recorded/python"

    rng = random.Random(0)
    for model, channels in (("RGBA", 4), ("GRAYA", 2)):
        for depth in ("U8", "U16", "F16", "F32"):
            fmt = pixels.PixelFormat.of(model, depth)
            for opaque in (True, False):
                count = 6 * 5
                if depth == "U8":
                    samples = [rng.randrange(256) for _ in range(count * channels)]
                    one, data_of = 255, bytes
                elif depth == "U16":
                    samples = [rng.randrange(65536) for _ in range(count * channels)]
                    one, data_of = 65535, lambda s: array.array("H", s).tobytes()
                else:
                    code = "e" if depth == "F16" else "f"
                    samples = [rng.random() for _ in range(count * channels)]
                    one, data_of = 1.0, lambda s, c=code: struct.pack(f"={len(s)}{c}", *s)
                if opaque:
                    samples[channels - 1 :: channels] = [one] * count
                data = data_of(samples)
                image = pixels.to_raw(fmt, data, 6, 5)
                expected_channels = (3 if model == "RGBA" else 1) if opaque else 4
                assert image.channels == expected_channels, (model, depth, opaque, image.channels)
                assert pixels.from_raw(fmt, image) == data, (model, depth, opaque)
    planes = [bytes(rng.randrange(256) for _ in range(999)) for _ in range(3)]
    means = pixels.mean3(*planes, "uint8")
    assert list(means) == [(a + b + c + 1) // 3 for a, b, c in zip(*planes)]
    mask = RawImage(2, 1, 1, "float32", struct.pack("<2f", 0.0, 1.0))
    assert mask_pixels.mask_bytes(mask) == bytes([0, 255])
    assert next_layer_names(["LDL"]).group == "LDL 2"
    print("pure ok", sys.version_info[:2])
    """
)

QT = textwrap.dedent(
    """
    import os, sys
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    sys.path[:0] = [sys.argv[1]]
    from ldl_krita import qt
    assert qt.BINDING == "PyQt5", qt.BINDING
    app = qt.QApplication([])
    from ldl_krita.client_import import ModelInfo, SubmitOptions
    from ldl_krita.dialog import UpscaleDialog
    from ldl_krita.upscale import UpscaleRequest
    models = [ModelInfo("realesr-animevideov3", "SRVGGNetCompact", 4, True, "detail", "compact")]
    last = UpscaleRequest(SubmitOptions(model="realesr-animevideov3"), target="new_layer")
    dialog = UpscaleDialog(models, ("cpu",), (100, 80), True, {}, last)
    request = dialog.request()
    assert request.options.model == "realesr-animevideov3" and request.target == "new_layer", request
    assert UpscaleRequest.from_setting(request.to_setting()) == request
    assert "400×320" in dialog.estimate.text(), dialog.estimate.text()
    print("qt ok")
    """
)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pykrita")
    install_krita_plugin(folder, folder.parent / "kritarc", BackendRecord("/recorded/python", None))
    return folder


def krita_python_or_skip() -> str:
    if not KRITA_PYTHON.exists():
        pytest.skip(f"{KRITA_PYTHON} (Krita's Python on Debian) is missing")
    return str(KRITA_PYTHON)


def other_pythons() -> list[str]:
    found: dict[str, str] = {}
    pyenv = Path.home() / ".pyenv" / "versions"
    for minor in range(10, 14):
        candidates = sorted(pyenv.glob(f"3.{minor}.*/bin/python3.{minor}"))
        path = shutil.which(f"python3.{minor}")
        if path and "shims" not in Path(path).parts:
            candidates.append(Path(path))
        if candidates:
            found[f"3.{minor}"] = str(candidates[0])
    return list(found.values())


def run(python: str, script: str, folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [python, "-c", script, str(folder)], capture_output=True, text=True, timeout=120, check=False, cwd=folder
    )


def test_pure_modules_and_client_run_on_kritas_python(installed: Path) -> None:
    done = run(krita_python_or_skip(), PURE, installed)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("pure ok")


def test_dialog_builds_a_request_with_kritas_pyqt5(installed: Path) -> None:
    python = krita_python_or_skip()
    if subprocess.run([python, "-c", "import PyQt5.QtWidgets"], capture_output=True, check=False).returncode:
        pytest.skip(f"{python} has no PyQt5 (install python3-pyqt5)")
    done = run(python, QT, installed)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "qt ok"


@pytest.mark.parametrize("python", other_pythons() or [sys.executable])
def test_pure_modules_run_on_python_3_10_to_3_13(installed: Path, python: str) -> None:
    done = run(python, PURE, installed)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("pure ok")
