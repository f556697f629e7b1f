"""LDL Studio for Krita: "Upscale with LDL…" and "LDL: blend detail into selection" in Filter › Enhance.

Inside Krita this registers the extension. Anywhere else (unit tests, the venv) the ``krita`` module is missing and
only the pure modules are used: ``pixels``, ``mask_pixels``, ``backend_settings``, ``job``, ``upscale``
and ``selection_blend`` import without Krita and without Qt.
"""

from __future__ import annotations

import sys
from importlib.util import find_spec


def _in_krita() -> bool:
    module = sys.modules.get("krita")
    if module is not None:
        return hasattr(module, "Extension")
    try:
        spec = find_spec("krita")
    except (ImportError, ValueError):
        return False
    # Only Krita's own module counts: a folder that happens to be named "krita" on sys.path (a namespace package,
    # such as a test folder) has no origin.
    return spec is not None and spec.origin not in (None, "namespace")


if _in_krita():
    from .extension import register

    register()
