"""Every command-line option whose values are an Enum's shows and accepts the values users type."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from enum import Enum

import pytest

from ldl_backend.cli import build_parser


def _parsers(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, (*path, name))


def _enum_options() -> list[tuple[tuple[str, ...], argparse.ArgumentParser, argparse.Action]]:
    found = []
    for path, parser in _parsers(build_parser()):
        for action in parser._actions:
            choices = action.choices if isinstance(action.choices, list) else []
            if any(isinstance(choice, Enum) for choice in choices):
                found.append((path, parser, action))
    return found


def test_the_known_enum_options_are_found() -> None:
    names = {(path, action.option_strings[0]) for path, _, action in _enum_options()}
    assert {(("eval",), "--degradation"), (("upscale",), "--alpha"), (("upscale",), "--backend")} <= names
    assert (("models", "import"), "--weights") in names


@pytest.mark.parametrize("option", _enum_options(), ids=lambda o: " ".join((*o[0], o[2].option_strings[0])))
def test_help_lists_values_and_parsing_takes_them(
    option: tuple[tuple[str, ...], argparse.ArgumentParser, argparse.Action],
) -> None:
    _, parser, action = option
    members = [choice for choice in action.choices or [] if isinstance(choice, Enum)]
    text = parser.format_help()
    for member in members:
        assert f"{type(member).__name__}." not in text
    assert "{" + ",".join(str(member.value) for member in members) + "}" in text
    for member in members:
        assert action.type is not None and callable(action.type)
        assert action.type(str(member.value)) is member
    with pytest.raises(argparse.ArgumentTypeError, match="choose from"):
        action.type("no-such-value")  # type: ignore[misc]
