"""The evaluation report: a Markdown table with its protocol written above it, and the same numbers as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from ldl_backend.evaluation.scoring import ImageScore, Score, mean_row

_COLUMNS = ("psnr_y", "ssim_y", "niqe", "lpips")
_HEADINGS = {"psnr_y": "PSNR-Y (dB) ↑", "ssim_y": "SSIM-Y ↑", "niqe": "NIQE ↓", "lpips": "LPIPS ↓"}
_DIGITS = {"psnr_y": 4, "ssim_y": 4, "niqe": 4, "lpips": 4}


@dataclass(frozen=True)
class Protocol:
    """Everything a reader needs to set these numbers beside published ones."""

    dataset: str
    images: int
    scale: int
    low_res: str
    metrics: str
    models: tuple[tuple[str, str], ...]  # (name, how it ran)

    def lines(self) -> list[str]:
        lines = [
            f"- Data: {self.dataset}, {self.images} image(s), ×{self.scale}.",
            f"- Low-resolution inputs: {self.low_res}.",
            f"- Metrics: {self.metrics}.",
        ]
        lines += [f"- `{name}`: {how}." for name, how in self.models]
        return lines


@dataclass(frozen=True)
class Report:
    protocol: Protocol
    scores: tuple[ImageScore, ...]
    timings: bool = True

    def model_names(self) -> list[str]:
        return list(dict.fromkeys(score.model for score in self.scores))

    def rows_with_means(self) -> list[ImageScore]:
        return [*self.scores, *self._means()]

    def markdown(self) -> str:
        out = ["# Super-resolution evaluation", "", "## Protocol", "", *self.protocol.lines(), ""]
        headings = [_HEADINGS[column] for column in _COLUMNS] + (["s/image"] if self.timings else [])
        out += ["## Mean over all images", ""]
        out += _table(["model", *headings], [self._cells(row, row.model) for row in self._means()])
        out += ["", "## Per image", ""]
        out += _table(["image", "model", *headings], [[row.image, *self._cells(row, row.model)] for row in self.scores])
        return "\n".join(out) + "\n"

    def csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["image", "model", *_COLUMNS, *(["seconds"] if self.timings else [])])
        for row in self.rows_with_means():
            values = [_format(getattr(row, column), _DIGITS[column]) for column in _COLUMNS]
            writer.writerow([row.image, row.model, *values, *([f"{row.seconds:.3f}"] if self.timings else [])])
        return buffer.getvalue()

    def _means(self) -> list[ImageScore]:
        return [mean_row([s for s in self.scores if s.model == name], name) for name in self.model_names()]

    def _cells(self, row: ImageScore, model: str) -> list[str]:
        cells = [_format(getattr(row, column), _DIGITS[column]) for column in _COLUMNS]
        if self.timings:
            cells.append(f"{row.seconds:.2f}")
        return [model, *cells]


def _format(value: Score, digits: int) -> str:
    return value if isinstance(value, str) else f"{value:.{digits}f}"


def _table(headings: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(headings) + " |", "|" + "|".join("---" for _ in headings) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines
