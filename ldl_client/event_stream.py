"""Parsing a ``text/event-stream`` body (the WHATWG server-sent events format) into events."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    """One dispatched event: ``event`` is its type (``message`` when the stream named none), ``data`` its payload."""

    event: str
    data: str
    id: str | None = None


def parse_events(lines: Iterable[bytes]) -> Iterator[Event]:
    """Events from the stream's raw lines (as ``http.client.HTTPResponse`` yields them), one per blank line.

    Comment lines (``:`` keep-alives) are skipped; several ``data:`` lines join with ``\\n``. Unlike a browser,
    an event with a type but no data is still dispatched, so an ``event: end`` without ``data`` is not lost.
    An event cut off by the end of the stream is dropped, as the format asks.
    """
    event_type = ""
    data: list[str] = []
    last_id: str | None = None
    for raw in lines:
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            if data or event_type:
                yield Event(event_type or "message", "\n".join(data), last_id)
            event_type, data = "", []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event_type = value
        elif name == "data":
            data.append(value)
        elif name == "id" and "\x00" not in value:
            last_id = value
        # "retry" and unknown fields are ignored: the client decides itself when to reconnect.
