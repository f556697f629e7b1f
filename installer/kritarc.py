"""Enabling a Python plugin in ``kritarc`` (KConfig's INI format) without disturbing any other line.

Krita reads ``enable_NAME=true`` in the ``[python]`` group. Only that one line is added or changed: comments,
blank lines, the order of keys and groups, unknown groups and the file's line endings stay as they were. Keys are
case-sensitive, as in KConfig.
"""

from __future__ import annotations

SECTION = "python"


def enable_plugin(text: str, plugin: str) -> str:
    """``text`` (a kritarc, possibly empty) with ``enable_<plugin>=true`` in ``[python]``."""
    key = f"enable_{plugin}"
    newline = "\r\n" if "\r\n" in text else "\n"
    wanted = f"{key}=true"
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip() == f"[{SECTION}]"), None)
    if start is None:
        prefix = text
        if prefix and not prefix.endswith(("\n", "\r")):
            prefix += newline
        if prefix.strip():
            prefix += newline  # a blank line between groups, as Krita writes them
        return f"{prefix}[{SECTION}]{newline}{wanted}{newline}"
    end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
    found = False
    for i in range(start + 1, end):
        name, equals, _value = lines[i].partition("=")
        if equals and name.strip() == key:
            lines[i] = wanted + _ending(lines[i])
            found = True
    if not found:
        position = end
        while position > start + 1 and not lines[position - 1].strip():
            position -= 1  # after the group's last entry, before the blank lines that end it
        if not lines[position - 1].endswith(("\n", "\r")):
            lines[position - 1] += newline
        lines.insert(position, wanted + newline)
    return "".join(lines)


def _ending(line: str) -> str:
    return line[len(line.rstrip("\r\n")) :]


def plugin_value(text: str, plugin: str) -> str | None:
    """The value of ``enable_<plugin>`` in ``[python]`` (the last one when repeated), or None when there is none."""
    key = f"enable_{plugin}"
    value = None
    for line in _group_lines(text.splitlines()):
        name, equals, rest = line.partition("=")
        if equals and name.strip() == key:
            value = rest.strip()
    return value


def has_group(text: str) -> bool:
    return any(line.strip() == f"[{SECTION}]" for line in text.splitlines())


def disable_plugin(text: str, plugin: str, previous: str | None, remove_group: bool) -> str:
    """Undo ``enable_plugin``: ``enable_<plugin>`` goes back to ``previous`` (None: the line is removed), and when
    ``remove_group`` the ``[python]`` group goes too if nothing else is left in it (with the blank line
    ``enable_plugin`` put before it). Every other line stays as it is."""
    key = f"enable_{plugin}"
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip() == f"[{SECTION}]"), None)
    if start is None:
        return text
    end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
    kept = lines[: start + 1]
    for line in lines[start + 1 : end]:
        name, equals, _value = line.partition("=")
        if equals and name.strip() == key:
            if previous is not None:
                kept.append(f"{key}={previous}{_ending(line)}")
            continue
        kept.append(line)
    body = kept[start + 1 :]
    if remove_group and not any(line.strip() for line in body):
        before = lines[:start]
        if end == len(lines) and before and not before[-1].strip():
            before = before[:-1]  # the blank line enable_plugin wrote before a group it added at the end
        return "".join(before + lines[end:])
    return "".join(kept + lines[end:])


def remove_group(text: str, group: str) -> str:
    """``text`` without the group ``[group]`` (its header and entries; the blank lines before the next group stay)."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip() == f"[{group}]"), None)
    if start is None:
        return text
    end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
    before = lines[:start]
    if end == len(lines):
        while before and not before[-1].strip():
            before.pop()
    return "".join(before + lines[end:])


def _group_lines(lines: list[str]) -> list[str]:
    start = next((i for i, line in enumerate(lines) if line.strip() == f"[{SECTION}]"), None)
    if start is None:
        return []
    end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
    return lines[start + 1 : end]
