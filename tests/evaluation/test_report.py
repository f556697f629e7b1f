"""The evaluation report: protocol above the table, means, markers for missing metrics, CSV with a mean row."""

from __future__ import annotations

import csv
import io
import math

import numpy as np

from ldl_backend.evaluation.report import Protocol, Report
from ldl_backend.evaluation.scoring import NOT_APPLICABLE, NOT_INSTALLED, ImageScore, MetricSuite, mean_score

PROTOCOL = Protocol("set", 2, 4, "bicubic", "PSNR-Y", (("bicubic", "MATLAB-style bicubic"),))


def scores() -> tuple[ImageScore, ...]:
    return (
        ImageScore("a", "m1", 30.0, 0.9, 5.0, NOT_INSTALLED, 1.0),
        ImageScore("b", "m1", 32.0, 0.8, 7.0, NOT_INSTALLED, 3.0),
        ImageScore("a", "m2", 20.0, 0.5, 4.0, NOT_INSTALLED, 2.0),
    )


def test_markdown_has_protocol_means_and_markers() -> None:
    text = Report(PROTOCOL, scores()).markdown()
    assert text.index("## Protocol") < text.index("| model |")
    assert "| m1 | 31.0000 | 0.8500 | 6.0000 | not installed | 2.00 |" in text
    assert "| b | m1 | 32.0000 |" in text


def test_csv_rows_and_final_mean_rows() -> None:
    rows = list(csv.reader(io.StringIO(Report(PROTOCOL, scores()).csv())))
    assert rows[0] == ["image", "model", "psnr_y", "ssim_y", "niqe", "lpips", "seconds"]
    assert [row[0] for row in rows[1:]] == ["a", "b", "a", "mean", "mean"]
    assert rows[-2][:4] == ["mean", "m1", "31.0000", "0.8500"]
    assert rows[-1][-1] == "2.000"


def test_without_timings_the_seconds_column_is_gone() -> None:
    report = Report(PROTOCOL, scores(), timings=False)
    assert "seconds" not in report.csv() and "s/image" not in report.markdown()


def test_mean_keeps_markers_and_infinity() -> None:
    assert mean_score([1.0, 3.0]) == 2.0
    assert mean_score([NOT_INSTALLED, NOT_INSTALLED]) == NOT_INSTALLED
    assert mean_score([math.inf, 30.0]) == math.inf


def test_suite_marks_missing_ground_truth_and_missing_files() -> None:
    suite = MetricSuite(4, lambda a, b: 1.0, lambda a, b: 0.5, None, None)
    image = np.zeros((8, 8, 3), np.uint8)
    without_truth = suite.score("x", "m", image, None, 0.1)
    assert without_truth.psnr_y == NOT_APPLICABLE and without_truth.niqe == NOT_INSTALLED
    with_truth = suite.score("x", "m", image, image, 0.1)
    assert with_truth.psnr_y == 1.0 and with_truth.lpips == NOT_INSTALLED
