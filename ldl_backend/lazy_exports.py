"""Package attributes imported on first use, so that light parts (the client library, mask maths) load without
torch: ``import ldl_client`` must not cost the seconds and the memory of the model stack."""

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
