"""The app's settings: a typed record saved as JSON in the user's config folder (platformdirs).

A settings file that cannot be read, or a value of the wrong kind, falls back to the default for that value:
settings must never stop the app from starting.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from ldl_backend.storage import write_atomically
from ldl_client import DEFAULT_REFERENCE, DEFAULT_SOFTNESS, DEFAULT_THRESHOLD

MAX_RECENT = 10


@dataclass
class AppSettings:
    """Everything the app remembers between runs."""

    recent_files: list[str] = field(default_factory=list)
    model: str = ""
    scale: int = 0  # 0 = the model's own
    reference: str = str(DEFAULT_REFERENCE)
    device: str = "auto"
    precision: str = "auto"
    tile: int = 0  # 0 = automatic
    threshold: float = DEFAULT_THRESHOLD
    softness: float = DEFAULT_SOFTNESS
    overlay_opacity: float = 0.8
    mask_style: str = "tint"
    original_resample: str = "bicubic"
    brush_radius: float = 32.0
    brush_hardness: float = 0.5
    brush_opacity: float = 1.0
    export_format: str = "png"
    jpeg_quality: int = 92
    last_folder: str = ""
    # Seconds per output megapixel per model pass, learned from finished jobs (see state/estimate.py).
    seconds_per_megapixel: dict[str, float] = field(default_factory=dict)

    def add_recent(self, path: Path) -> None:
        text = str(path)
        self.recent_files = [text, *[item for item in self.recent_files if item != text]][:MAX_RECENT]


def default_settings_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$LDL_STUDIO_HOME/config/app.json`` when that is set, else the platform's user config folder."""
    environ = os.environ if environ is None else environ
    home = environ.get("LDL_STUDIO_HOME")
    if home:
        return Path(home) / "config" / "app.json"
    return Path(platformdirs.user_config_dir("ldl-studio", appauthor=False)) / "app.json"


def load_settings(path: Path) -> AppSettings:
    """The settings in ``path``; defaults for a missing or unreadable file and for each malformed value."""
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return AppSettings()
    if not isinstance(stored, dict):
        return AppSettings()
    defaults = AppSettings()
    values: dict[str, Any] = {}
    for item in dataclasses.fields(AppSettings):
        value = stored.get(item.name)
        default = getattr(defaults, item.name)
        if _same_kind(value, default):
            values[item.name] = value
    return AppSettings(**values)


def _same_kind(value: object, default: object) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return type(value) is type(default)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    if isinstance(default, list):
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    if isinstance(default, dict):
        return isinstance(value, dict) and all(
            isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool) for k, v in value.items()
        )
    return isinstance(value, type(default))


def save_settings(settings: AppSettings, path: Path) -> None:
    """Write atomically (a crash mid-write keeps the previous file)."""
    text = json.dumps(dataclasses.asdict(settings), indent=2, sort_keys=True)
    write_atomically(path, text.encode("utf-8"))
