"""Command-line options whose values are an ``Enum``'s: shown and accepted as the values users type."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar

E = TypeVar("E", bound=Enum)


def enum_choice(kind: type[E]) -> dict[str, Any]:
    """``add_argument`` keywords for an option of ``kind``: help and errors list ``{bicubic,realesrgan}`` (the
    values), not ``{Degradation.BICUBIC,…}``; the parsed value is the member."""
    values = [str(member.value) for member in kind]
    return {"type": _parser(kind, values), "choices": list(kind), "metavar": "{" + ",".join(values) + "}"}


def _parser(kind: type[E], values: list[str]) -> Callable[[str], E]:
    def parse(text: str) -> E:
        for member in kind:
            if str(member.value) == text:
                return member
        raise argparse.ArgumentTypeError(f"invalid choice {text!r} (choose from {', '.join(values)})")

    return parse
