"""backend.json → how the plugin connects: the recorded Python and LDL_STUDIO_HOME, strict about the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ldl_krita.backend_settings import connect_settings
from ldl_krita.errors import PluginError

from ldl_client import ConnectSettings
from ldl_client.backend_record import BackendRecord, read_backend_record


def test_without_a_record_the_defaults_are_used(tmp_path: Path) -> None:
    assert read_backend_record(tmp_path) is None
    assert connect_settings(tmp_path) == ConnectSettings()


def test_the_recorded_python_and_home_are_used(tmp_path: Path) -> None:
    (tmp_path / "backend.json").write_text(
        json.dumps({"python": "/opt/ldl/bin/python", "ldl_studio_home": "/data/ldl"})
    )
    settings = connect_settings(tmp_path)
    assert settings.python == "/opt/ldl/bin/python" and settings.start_server
    assert settings.environment is not None and settings.environment["LDL_STUDIO_HOME"] == "/data/ldl"


def test_a_null_home_leaves_the_environment_alone(tmp_path: Path) -> None:
    (tmp_path / "backend.json").write_text(json.dumps({"python": "/usr/bin/python3", "ldl_studio_home": None}))
    settings = connect_settings(tmp_path)
    assert settings.python == "/usr/bin/python3" and settings.environment is None


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        "[]",
        json.dumps({"python": "", "ldl_studio_home": None}),
        json.dumps({"python": 3, "ldl_studio_home": None}),
        json.dumps({"python": "/p", "ldl_studio_home": None, "extra": 1}),
    ],
)
def test_a_damaged_record_is_an_error_with_a_hint(tmp_path: Path, text: str) -> None:
    (tmp_path / "backend.json").write_text(text)
    with pytest.raises(PluginError) as caught:
        connect_settings(tmp_path)
    assert "installer" in caught.value.hint


def test_the_installer_s_record_reads_back(tmp_path: Path) -> None:
    record = BackendRecord("/opt/ldl/bin/python", "/data/ldl")
    (tmp_path / "backend.json").write_bytes(record.to_json())
    assert read_backend_record(tmp_path) == record
