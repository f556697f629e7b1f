"""Undo and redo of mask edits within a memory budget."""

from __future__ import annotations

from collections import deque

import numpy as np

from ldl_backend.artifacts.pixel_box import PixelBox


class TileEdit:
    """The state of some boxes of the two paint arrays; ``swap`` exchanges it with the arrays' current content,
    so the same object undoes and then redoes the step."""

    def __init__(self, tiles: list[tuple[PixelBox, np.ndarray, np.ndarray]]) -> None:
        self._tiles = tiles

    @property
    def nbytes(self) -> int:
        return sum(painted.nbytes + coverage.nbytes for _, painted, coverage in self._tiles)

    def swap(self, painted: np.ndarray, coverage: np.ndarray) -> PixelBox:
        """Exchange the saved boxes with ``painted``/``coverage``; returns the union of the boxes."""
        changed: PixelBox | None = None
        for box, saved_painted, saved_coverage in self._tiles:
            area = box.slices()
            current = painted[area].copy(), coverage[area].copy()
            painted[area], coverage[area] = saved_painted, saved_coverage
            saved_painted[...], saved_coverage[...] = current
            changed = box if changed is None else changed.union(box)
        return changed if changed is not None else PixelBox(0, 0, 0, 0)


Step = TileEdit | str


class History:
    """A linear undo history; pushing a step forgets the redo branch. Steps past ``max_bytes`` are dropped, oldest
    first (the newest step is always kept)."""

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._done: deque[Step] = deque()
        self._undone: list[Step] = []

    @property
    def can_undo(self) -> bool:
        return bool(self._done)

    @property
    def can_redo(self) -> bool:
        return bool(self._undone)

    def push(self, step: Step) -> None:
        self._done.append(step)
        self._undone.clear()
        while len(self._done) > 1 and self._bytes() > self._max_bytes:
            self._done.popleft()

    def undo(self) -> Step | None:
        if not self._done:
            return None
        step = self._done.pop()
        self._undone.append(step)
        return step

    def redo(self) -> Step | None:
        if not self._undone:
            return None
        step = self._undone.pop()
        self._done.append(step)
        return step

    def _bytes(self) -> int:
        return sum(step.nbytes for step in self._done if isinstance(step, TileEdit))
