"""Where the product keeps its files. Read once in the composition root and passed down."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

import platformdirs

APP_NAME = "ldl-studio"
HOME_VARIABLE = "LDL_STUDIO_HOME"


def data_root(environment: Mapping[str, str] | None = None) -> Path:
    """``$LDL_STUDIO_HOME`` when set (tests, portable installs), else the user data directory."""
    environment = os.environ if environment is None else environment
    override = environment.get(HOME_VARIABLE)
    return Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def models_root(environment: Mapping[str, str] | None = None) -> Path:
    return data_root(environment) / "models"


def assets_root(environment: Mapping[str, str] | None = None) -> Path:
    """Auxiliary files that metrics need (NIQE parameters, LPIPS weights), kept beside the models."""
    return data_root(environment) / "assets"


def runtime_root(environment: Mapping[str, str] | None = None) -> Path:
    """Where a running server leaves its discovery file: ``$LDL_STUDIO_HOME/run`` when set, else the user runtime
    directory (the user state directory where the platform has no runtime directory)."""
    environment = os.environ if environment is None else environment
    override = environment.get(HOME_VARIABLE)
    if override:
        return Path(override) / "run"
    if sys.platform.startswith("linux") and not environment.get("XDG_RUNTIME_DIR"):
        # platformdirs would fall back to a folder under the shared /tmp.
        return Path(platformdirs.user_state_dir(APP_NAME, appauthor=False))
    return Path(platformdirs.user_runtime_dir(APP_NAME, appauthor=False))


def cache_root(environment: Mapping[str, str] | None = None) -> Path:
    """Files the product can rebuild (e.g. low-resolution images made for ``ldl eval``)."""
    environment = os.environ if environment is None else environment
    override = environment.get(HOME_VARIABLE)
    return Path(override) / "cache" if override else Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))
