"""Training configurations as TOML files: ``load_config`` reads one, ``dump_config`` writes one.

A file names the recipe it starts from and overrides any field of any section::

    preset = "realworld"

    [loss]
    gan = 0.05

    [data]
    patch = 192

Unknown sections and keys are errors that name the key's path (``data.pach``); so are values of the wrong type
and values the dataclasses refuse. ``dump_config`` writes every field, so ``load_config`` of its output gives
back the same config. TOML is read with ``tomllib`` (Python 3.11+) or the ``tomli`` package on 3.10.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import typing
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from types import ModuleType
from typing import Any

from ldl_backend.training.config import PRESETS, PresetName, TrainingConfig, TrainingConfigError

_PRESET_KEY = "preset"


def _section_names() -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(TrainingConfig) if f.name != _PRESET_KEY)


def _toml_module() -> ModuleType:
    for name in ("tomllib", "tomli"):
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError:
            continue
    raise TrainingConfigError(
        "reading TOML needs Python 3.11 or later, or the tomli package", "install it with `pip install tomli`"
    )


def load_config(path: Path) -> TrainingConfig:
    """Read a training config from a TOML file (see the module docstring for the layout).

    Raises ``TrainingConfigError`` for an unreadable file, invalid TOML, a missing or unknown preset, unknown
    keys (named by their path), wrongly typed or out-of-range values.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise TrainingConfigError(f"{path} could not be read: {error}", "check the path of the config file") from error
    return parse_config(text, str(path))


def parse_config(text: str, source: str = "<config>") -> TrainingConfig:
    """``load_config`` for TOML text; ``source`` names it in error messages."""
    toml: Any = _toml_module()
    try:
        document = toml.loads(text)
    except toml.TOMLDecodeError as error:
        raise TrainingConfigError(f"{source} is not valid TOML: {error}", "check the line it names") from error
    return config_from_mapping(document, source)


def config_from_mapping(document: Mapping[str, object], source: str = "<config>") -> TrainingConfig:
    """Build a config from parsed TOML (nested mappings): the preset's values, overridden section by section."""
    sections = _section_names()
    unknown = [key for key in document if key != _PRESET_KEY and key not in sections]
    if unknown:
        raise TrainingConfigError(
            f"{source}: unknown key {unknown[0]!r}",
            f"the top level holds 'preset' and the sections {', '.join(sections)}",
        )
    preset_name = document.get(_PRESET_KEY)
    choices = ", ".join(repr(p.value) for p in PresetName)
    if preset_name is None:
        raise TrainingConfigError(f"{source} names no preset", f"start the file with preset = one of {choices}")
    if not isinstance(preset_name, str) or preset_name not in {p.value for p in PresetName}:
        raise TrainingConfigError(f"{source}: preset {preset_name!r} is unknown", f"use one of {choices}")
    config = PRESETS[PresetName(preset_name)]
    changes: dict[str, object] = {}
    for name in sections:
        table = document.get(name)
        if table is None:
            continue
        if not isinstance(table, Mapping):
            raise TrainingConfigError(f"{source}: {name} is a value, not a section", f"write it as [{name}]")
        changes[name] = _override(getattr(config, name), typing.cast(Mapping[str, object], table), name, source)
    try:
        return dataclasses.replace(config, **changes)
    except TrainingConfigError as error:
        raise TrainingConfigError(f"{source}: {error.message}", error.hint) from error


def _override(base: Any, table: Mapping[str, object], path: str, source: str) -> Any:
    hints = typing.get_type_hints(type(base))
    known = [f.name for f in dataclasses.fields(base)]
    changes: dict[str, object] = {}
    for key, value in table.items():
        if key not in known:
            raise TrainingConfigError(f"{source}: unknown key {path}.{key}", f"[{path}] accepts {', '.join(known)}")
        changes[key] = _convert(value, hints[key], f"{path}.{key}", source)
    try:
        return dataclasses.replace(base, **changes)
    except TrainingConfigError as error:
        raise TrainingConfigError(f"{source}: {error.message}", error.hint) from error


def _convert(value: object, annotation: Any, path: str, source: str) -> object:
    def wrong(expected: str) -> TrainingConfigError:
        return TrainingConfigError(f"{source}: {path} is {value!r}, expected {expected}", f"write {path} as {expected}")

    if annotation is bool:
        if not isinstance(value, bool):
            raise wrong("true or false")
        return value
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong("a whole number")
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise wrong("a number")
        return float(value)
    if annotation is str:
        if not isinstance(value, str):
            raise wrong("a string")
        return value
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        choices = [member.value for member in annotation]
        if value not in choices:
            raise wrong("one of " + ", ".join(json.dumps(choice) for choice in choices))
        return annotation(value)
    if typing.get_origin(annotation) is tuple:
        args = typing.get_args(annotation)
        if not isinstance(value, list):
            raise wrong("a list")
        items = typing.cast(list[object], value)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(item, args[0], f"{path}[{i}]", source) for i, item in enumerate(items))
        if len(items) != len(args):
            raise wrong(f"a list of {len(args)} values")
        return tuple(
            _convert(item, arg, f"{path}[{i}]", source) for i, (item, arg) in enumerate(zip(items, args, strict=True))
        )
    raise TypeError(f"{path}: no TOML form for {annotation!r}")  # a field type this module does not know


def dump_config(config: TrainingConfig) -> str:
    """The config as TOML text, every field written out; ``parse_config`` of it returns an equal config."""
    lines = [f"{_PRESET_KEY} = {_format(config.preset)}"]
    for name in _section_names():
        section = getattr(config, name)
        lines += ["", f"[{name}]"]
        lines += [f"{f.name} = {_format(getattr(section, f.name))}" for f in dataclasses.fields(section)]
    return "\n".join(lines) + "\n"


def _format(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return json.dumps(value.value)
    if isinstance(value, (int, float, str)):
        # repr keeps every float bit (and TOML reads 1e-05 and 0.0001 alike); json quotes and escapes strings.
        return json.dumps(value) if isinstance(value, str) else repr(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(_format(item) for item in typing.cast(tuple[object, ...], value)) + "]"
    raise TypeError(f"no TOML form for {value!r}")
