"""The light parts load without torch: the app and the plugins import the client and the mask maths only."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "module",
    ["ldl_client", "ldl_backend.artifacts.masks", "ldl_backend.artifacts.blend", "ui.widgets.main_window"],
)
def test_light_modules_do_not_import_torch(module: str) -> None:
    code = f"import sys, {module}; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("package", ["ldl_backend", "ldl_backend.artifacts", "ldl_client"])
def test_every_public_name_resolves(package: str) -> None:
    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = module.nope


def test_client_names_survive_importing_every_submodule() -> None:
    # ldl_client resolves its names on first use; importing a submodule sets the package attribute of the same
    # name, so a public name equal to a submodule's (``connect`` in connect.py, once) would turn into the module.
    code = (
        "import importlib, pkgutil, types, ldl_client\n"
        "for info in pkgutil.walk_packages(ldl_client.__path__, 'ldl_client.'):\n"
        "    importlib.import_module(info.name)\n"
        "print([n for n in ldl_client.__all__ if isinstance(getattr(ldl_client, n), types.ModuleType)])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
