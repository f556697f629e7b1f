"""Where the product keeps its files. Read once in the composition root and passed down."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import platformdirs

from ldl_client.locations import APP_NAME, HOME_VARIABLE, runtime_dir

__all__ = ["APP_NAME", "HOME_VARIABLE", "assets_root", "cache_root", "data_root", "models_root", "runtime_root"]


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
    """Where a running server leaves its discovery file: the clients' own rule (``ldl_client.locations``), so the
    server writes exactly where they look."""
    return runtime_dir(environment)


def cache_root(environment: Mapping[str, str] | None = None) -> Path:
    """Files the product can rebuild (e.g. low-resolution images made for ``ldl eval``)."""
    environment = os.environ if environment is None else environment
    override = environment.get(HOME_VARIABLE)
    return Path(override) / "cache" if override else Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))
