"""The one place the plugin imports the client library from: every name of the client's ``__all__``.

Installed, the client is a copy inside this package (``ldl_krita/ldl_client``, put there by ``installer/install.py``);
in the repository it is ``ldl_client``, so the unit tests run against the same code.
"""

from __future__ import annotations

from importlib.util import find_spec
from typing import TYPE_CHECKING

# Checked rather than caught: an ImportError inside the copied client must surface, not fall through. The type
# checker reads the repository's client (the copy is the same code). The client's ``__all__`` is the list of names.
if not TYPE_CHECKING and find_spec(".ldl_client", __package__) is not None:
    from .ldl_client import *  # noqa: F403
    from .ldl_client import __all__ as __all__
else:
    from ldl_client import *  # noqa: F403
    from ldl_client import __all__ as __all__
