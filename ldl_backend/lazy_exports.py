"""Package attributes imported on first use, so that the light parts the desktop app imports (the mask maths in
``ldl_backend.artifacts.masks``/``blend``, ``ldl_backend.imageio``) load without torch: opening the app must not cost
the seconds and the memory of the model stack. (The client library is a package of its own, ``ldl_client``, and
never imports ``ldl_backend``.)"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping


def lazy_getattr(package: str, exports: Mapping[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` that imports ``exports[name]`` (a module path) the first time ``name`` is read."""
    package_module = importlib.import_module(package)

    def getattr_(name: str) -> object:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(package_module, name, value)
        return value

    return getattr_
