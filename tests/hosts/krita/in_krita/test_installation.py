"""What the installer put into the fresh Krita profile, seen from inside Krita."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def test_the_plugin_runs_on_its_own_copy_of_the_client_library() -> None:
    from ldl_krita import client_import

    assert client_import.connect.__module__.startswith("ldl_krita.ldl_client."), client_import.connect.__module__
    assert "ldl_backend" not in sys.modules, "the plugin reached for the backend package, not its copied client"


def test_the_installer_recorded_the_backend(host_config: dict[str, Any]) -> None:
    import ldl_krita

    record = json.loads((Path(ldl_krita.__file__).parent / "backend.json").read_text("utf-8"))
    assert record == {"python": host_config["python"], "ldl_studio_home": host_config["ldl_studio_home"]}
