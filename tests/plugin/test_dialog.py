"""The dialog builds the request it shows; the progress runner keeps work off the GUI thread and cancels it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from ldl_krita.dialog import UpscaleDialog
from ldl_krita.errors import Cancelled, PluginError
from ldl_krita.job import describe_progress
from ldl_krita.qt import QStandardItemModel, Qt, QtWidgets
from ldl_krita.task import ProgressRunner
from ldl_krita.upscale import UpscaleRequest
from pytestqt.qtbot import QtBot

from ldl_backend.archs.rrdbnet import RRDBNet
from ldl_client import DEFAULT_MODEL, Availability, Client, ModelInfo, Precision, ReferenceSource, SubmitOptions

PACKAGED, READY, MANUAL = Availability.PACKAGED, Availability.READY, Availability.MANUAL

MODELS = [
    ModelInfo("realesrgan-x4plus", "RRDBNet", 4, False, "detail", "slow, best detail", None, PACKAGED, "converted"),
    ModelInfo("realesr-animevideov3", "SRVGGNetCompact", 4, True, "detail", "compact", None, READY),
    ModelInfo("ldl-bicubic-rrdb-x2", "RRDBNet", 2, True, "detail", "x2", None, READY),
    ModelInfo("ldl-bicubic-swinir-x2", "SwinIR", 2, False, "detail", "x2", None, MANUAL, "download it by hand"),
    ModelInfo("realesrnet-x4plus", "RRDBNet", 4, True, "reference", "faithful", None, READY),
]


def _item_enabled(dialog: UpscaleDialog, name: str) -> bool:
    items = dialog.model.model()
    assert isinstance(items, QStandardItemModel)
    item = items.item(dialog.model.findData(name))
    assert item is not None
    return item.isEnabled()


def test_defaults_give_the_default_model_at_its_own_scale_before_its_first_conversion(qtbot: QtBot) -> None:
    dialog = UpscaleDialog(MODELS, ("cpu", "cuda:0"), (100, 50), False, {})
    qtbot.addWidget(dialog)
    assert dialog.request() == UpscaleRequest(
        SubmitOptions(model=DEFAULT_MODEL, reference=ReferenceSource.parse("lanczos")), target="document"
    )
    assert dialog.model.itemData(0) == DEFAULT_MODEL and dialog.model_note.text() == "converted"
    assert [b.isEnabled() for b in dialog.targets.buttons()] == [True, False, False]
    assert dialog.reference.findData("model:realesrnet-x4plus") >= 0
    assert "100×50 → 400×200" in dialog.estimate.text()
    dialog.model.setCurrentIndex(dialog.model.findData("ldl-bicubic-rrdb-x2"))
    assert dialog.scale.value() == 2 and dialog.request().options.scale is None
    assert "100×50 → 200×100" in dialog.estimate.text()
    assert not dialog.add_model.isVisible()  # no import callable given


def test_a_model_that_cannot_run_is_greyed_out_with_how_to_get_it(qtbot: QtBot) -> None:
    dialog = UpscaleDialog(MODELS, ("cpu",), (100, 50), False, {})
    qtbot.addWidget(dialog)
    manual = dialog.model.findData("ldl-bicubic-swinir-x2")
    assert manual == dialog.model.count() - 1  # the ones that run come first
    assert not _item_enabled(dialog, "ldl-bicubic-swinir-x2") and _item_enabled(dialog, DEFAULT_MODEL)
    tip = dialog.model.itemData(manual, Qt.ItemDataRole.ToolTipRole)
    assert "not installed: download it by hand" in tip
    # A last request naming it (it was removed since) falls back to the default model.
    last = UpscaleRequest(SubmitOptions(model="ldl-bicubic-swinir-x2"), target="document")
    restored = UpscaleDialog(MODELS, ("cpu",), (100, 50), False, {}, last)
    qtbot.addWidget(restored)
    assert restored.request().options.model == DEFAULT_MODEL
    restored.model.setCurrentIndex(manual)
    with pytest.raises(PluginError, match="not installed"):
        restored.request()


def test_an_older_server_without_availability_gets_an_installed_model(qtbot: QtBot) -> None:
    old = [replace(model, availability=None, note="") for model in MODELS]
    dialog = UpscaleDialog(old, ("cpu",), (100, 50), False, {})
    qtbot.addWidget(dialog)
    assert dialog.request().options.model == "ldl-bicubic-rrdb-x2"  # the first installed one, by name


def test_add_model_file_imports_through_the_backend_and_selects_it(
    qtbot: QtBot, client: Client, tmp_path: Path, tiny_rrdbnet: RRDBNet
) -> None:
    dialog = UpscaleDialog(client.models(), ("cpu",), (100, 50), False, {}, import_model=client.import_model)
    qtbot.addWidget(dialog)
    assert dialog.add_model.isVisibleTo(dialog)
    picked = tmp_path / "Krita Tiny RRDB.pth"
    torch.save({"params_ema": tiny_rrdbnet.state_dict()}, picked)
    dialog.add_model_file(picked)
    qtbot.waitUntil(lambda: dialog.importing is None, timeout=60_000)
    assert dialog.import_error is None
    assert dialog.model.currentData() == "krita-tiny-rrdb"
    assert dialog.request().options.model == "krita-tiny-rrdb" and dialog.scale.value() == 4
    assert _item_enabled(dialog, "krita-tiny-rrdb")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a model")
    dialog.add_model_file(junk)
    qtbot.waitUntil(lambda: dialog.importing is None, timeout=60_000)
    assert dialog.import_error is not None and dialog.import_error.informativeText()
    assert dialog.model.currentData() == "krita-tiny-rrdb"


def test_choices_end_up_in_the_request(qtbot: QtBot) -> None:
    dialog = UpscaleDialog(MODELS, ("cpu", "cuda:0"), (100, 50), True, {})
    qtbot.addWidget(dialog)
    dialog.model.setCurrentIndex(dialog.model.findData("realesr-animevideov3"))
    assert dialog.scale.value() == 4
    dialog.scale.setValue(3)
    dialog.reference.setCurrentIndex(dialog.reference.findData("lanczos"))
    dialog.targets.buttons()[2].setChecked(True)
    assert dialog.request() == UpscaleRequest(
        SubmitOptions(model="realesr-animevideov3", scale=3, reference=ReferenceSource.parse("lanczos")),
        target="new_layer",
    )
    dialog.advanced.setChecked(True)
    dialog.device.setCurrentIndex(dialog.device.findData("cuda:0"))
    dialog.precision.setCurrentIndex(dialog.precision.findData("fp16"))
    dialog.tile.setValue(256)
    options = dialog.request().options
    assert (options.device, options.precision, options.tile) == ("cuda:0", Precision.FP16, 256)
    dialog.tile.setValue(dialog.tile.minimum())
    assert dialog.request().options.tile is None  # "auto"
    dialog.advanced.setChecked(False)
    assert (dialog.request().options.device, dialog.request().options.precision) == ("auto", None)


def test_the_last_request_is_restored_and_learned_rates_change_the_estimate(qtbot: QtBot) -> None:
    last = UpscaleRequest(
        SubmitOptions(
            model="realesr-animevideov3", scale=2, reference=ReferenceSource.parse("tta:2"), device="cpu", tile=64
        ),
        target="new_document",
    )
    dialog = UpscaleDialog(MODELS, ("cpu",), (1000, 1000), True, {"realesr-animevideov3@cpu": 30.0}, last)
    qtbot.addWidget(dialog)
    assert dialog.request() == last
    assert "about 4 min" in dialog.estimate.text()  # 30 s/MP × 2 passes × 4 MP


def run_to_end(qtbot: QtBot, work: Callable[..., object], cancel: str = "", abandon: bool = False) -> list[object]:
    outcome: list[object] = []
    runner = ProgressRunner(
        None,
        "test",
        work,
        outcome.append,
        outcome.append,
        lambda done, total, stage: f"{stage} {done}/{total}",
        abandon_on_cancel=abandon,
    )
    runner.start()
    if cancel:
        qtbot.waitUntil(lambda: runner.task.progress[2] == "working", timeout=5000)
        if cancel == "button":
            runner.dialog.findChild(QtWidgets.QPushButton).click()  # type: ignore[union-attr]
        else:
            runner.dialog.cancel()  # as Escape does: no canceled() signal, the runner notices on its next poll
    qtbot.waitUntil(lambda: bool(outcome), timeout=10000)
    assert not runner.timer.isActive() and not runner.dialog.isVisible()
    return outcome


def test_the_runner_reports_progress_and_hands_back_the_result(qtbot: QtBot) -> None:
    threads: list[threading.Thread] = []

    def work(cancel: threading.Event, report: Callable[[int, int, str], None]) -> str:
        threads.append(threading.current_thread())
        for done in range(3):
            report(done, 3, "working")
            time.sleep(0.05)
        return "result"

    assert run_to_end(qtbot, work) == ["result"]
    assert threads[0] is not threading.main_thread()


@pytest.mark.parametrize("how", ["button", "escape"])
def test_cancel_reaches_the_work_and_its_error_comes_back(qtbot: QtBot, how: str) -> None:
    def work(cancel: threading.Event, report: Callable[[int, int, str], None]) -> str:
        report(0, 0, "working")
        if cancel.wait(10):
            raise Cancelled("the upscale was cancelled")
        return "not cancelled"

    (error,) = run_to_end(qtbot, work, cancel=how)
    assert isinstance(error, Cancelled)


@pytest.mark.parametrize(
    ("done", "total", "stage", "text"),
    [(0, 0, "upload", "Sending the image…"), (2, 5, "detail", "Upscaling (detail): 2 / 5")],
)
def test_progress_texts(done: int, total: int, stage: str, text: str) -> None:
    assert describe_progress(done, total, stage) == text
