"""The client folder works alone: copied under another name into an interpreter that cannot import ldl_backend.

That is how the installer ships it into Krita's and GIMP's plugin folders (Python 3.10–3.13).
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import ldl_client

from .fake_server import Backend, FakeServer

CLIENT_DIR = Path(ldl_client.__file__).parent

SCRIPT = textwrap.dedent(
    """
    import importlib, importlib.abc, pkgutil, sys

    class Forbid(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("ldl_backend", "numpy", "platformdirs"):
                raise ImportError(f"{name} must not be imported by the client")
            return None

    sys.meta_path.insert(0, Forbid())
    sys.path[:] = [sys.argv[1]] + [p for p in sys.path if "site-packages" not in p and p not in ("", ".")]
    package = importlib.import_module("host_plugin_client")
    for module in pkgutil.walk_packages(package.__path__, "host_plugin_client."):
        importlib.import_module(module.name)
    outside = sorted(
        name for name in sys.modules
        if name.split(".")[0] not in (*sys.stdlib_module_names, "__main__", "host_plugin_client")
    )
    assert not outside, outside
    settings = package.ConnectSettings(start_server=False, environment={"LDL_STUDIO_HOME": sys.argv[2]})
    client = package.connect(timeout=5, settings=settings)
    image = package.RawImage(1, 1, 3, "uint8", b"abc")
    job = client.submit(image, package.SubmitOptions(model="tiny-x2"))
    print(client.health().status, job.state.value, sys.version_info[:2])
    """
)


def interpreters() -> list[str]:
    """This interpreter and whichever of Python 3.10–3.13 this machine also has."""
    found = {sys.executable}
    pyenv = Path.home() / ".pyenv" / "versions"
    for minor in range(10, 14):
        found.update(str(path) for path in sorted(pyenv.glob(f"3.{minor}.*/bin/python3.{minor}"))[:1])
        # pyenv's shims refuse to run outside a configured shell; the real binaries are found above.
        if (path := shutil.which(f"python3.{minor}")) and "shims" not in Path(path).parts:
            found.add(path)
    return sorted(found)


@pytest.mark.parametrize("python", interpreters())
def test_the_copied_folder_imports_and_talks_alone(python: str, tmp_path: Path, home: Path) -> None:
    check = subprocess.run([python, "-c", "import sys; print(sys.version_info >= (3, 10))"], capture_output=True)
    if check.stdout.strip() != b"True":
        pytest.skip(f"{python} is not a usable Python 3.10+")
    root = tmp_path / "plugins"
    shutil.copytree(CLIENT_DIR, root / "host_plugin_client", ignore=shutil.ignore_patterns("__pycache__"))
    server = FakeServer(Backend(token="t"))
    try:
        server.write_discovery(home / "run" / "server.json")
        result = subprocess.run(
            [python, "-I", "-S", "-c", SCRIPT, str(root), str(home)], capture_output=True, text=True, timeout=30
        )
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok queued")


def test_only_standard_library_and_relative_imports() -> None:
    for path in sorted(CLIENT_DIR.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in sys.stdlib_module_names, f"{path.name} imports {name}"


ISOLATED_IMPORT = textwrap.dedent(
    """
    import importlib.abc, sys

    class Absent(importlib.abc.MetaPathFinder):
        # A host Python without numpy and torch (Krita's, GIMP's): importing either fails as it would there.
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("numpy", "torch", "ldl_backend", "platformdirs"):
                raise ModuleNotFoundError(f"No module named {name!r}")
            return None

    sys.meta_path.insert(0, Absent())
    sys.path.insert(0, sys.argv[1])
    import ldl_client
    print(ldl_client.API_VERSION, ldl_client.SubmitOptions().query())
    """
)


@pytest.mark.parametrize("python", ["/usr/bin/python3", *interpreters()])
def test_python3_isolated_imports_ldl_client_without_numpy_or_torch(python: str) -> None:
    """``python3 -I -c "import ldl_client"`` as a host's own Python runs it (the repository root on its path)."""
    if not Path(python).exists():
        pytest.skip(f"{python} does not exist here")
    result = subprocess.run(
        [python, "-I", "-c", ISOLATED_IMPORT, str(CLIENT_DIR.parent)], capture_output=True, text=True, timeout=30
    )
    if result.returncode != 0 and "SyntaxError" in result.stderr:
        pytest.skip(f"{python} is older than Python 3.10")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("1 model=realesrgan-x4plus&reference=lanczos"), result.stdout
