"""The README documents the defaults users get: the reference table marks the contract's default reference, and
`ldl upscale --help` names the same one as its default."""

from __future__ import annotations

import re
from pathlib import Path

from ldl_backend.commands.upscale import add_arguments
from ldl_client import DEFAULT_REFERENCE, ReferenceSource

README = Path(__file__).resolve().parents[1] / "README.md"


def reference_rows() -> dict[str, str]:
    """The first column's value (in backticks) → the row, for the table under the `--reference` header."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| `--reference` |"))
    rows = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        first = line.split("|")[1]
        match = re.search(r"`([^`]+)`", first)
        assert match, line
        rows[match.group(1)] = first
    return rows


def test_the_readme_marks_the_contracts_default_reference() -> None:
    marked = [value for value, first in reference_rows().items() if "(default)" in first]
    assert len(marked) == 1, marked
    assert ReferenceSource.parse(marked[0]) == DEFAULT_REFERENCE


def test_ldl_upscale_defaults_to_the_same_reference() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    default = parser.get_default("reference")
    assert ReferenceSource.parse(default) == DEFAULT_REFERENCE
    help_text = next(action.help for action in parser._actions if action.dest == "reference")
    assert help_text is not None and f"{DEFAULT_REFERENCE} (default" in help_text
