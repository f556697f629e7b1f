"""LDL Studio for Krita: "Upscale with LDL…" and "LDL: blend detail into selection" in Filter › Enhance.

Inside Krita this registers the extension. Anywhere else (unit tests, the venv) the ``krita`` module is missing and
only the pure modules are used: ``pixels``, ``naming``, ``mask_pixels``, ``backend_settings``, ``job``, ``upscale``
and ``selection_blend`` import without Krita and without Qt.
"""

from __future__ import annotations

import sys
from importlib.util import find_spec


def _in_krita() -> bool:
    if "krita" in sys.modules:
        return True
    try:
        return find_spec("krita") is not None
    except (ImportError, ValueError):
        return False


if _in_krita():
    from .extension import register

    register()
