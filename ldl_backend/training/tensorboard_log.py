"""TensorBoard event files beside the CSV logs, when the optional ``tensorboard`` package is installed.

In ``RUN/tensorboard/``: every ``log.csv`` row's values as ``train/NAME`` (the loss terms, ``lr``,
``iterations_per_s``), every validation's mean scores as ``val/NAME`` (``psnr_y``, ``ssim_y``; ``niqe`` and
``lpips`` when they are numbers) and its sample images as ``samples/IMAGE``, each at its iteration. Without the
package ``open_tensorboard`` returns None and the run keeps its CSV files alone.

A resumed run writes a new event file in the same folder with ``purge_step`` = the checkpoint's iteration + 1:
TensorBoard then hides what the interrupted run logged after its checkpoint, as ``RunLog`` drops those CSV rows
(the rows up to and including the checkpoint's iteration stay in both).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ldl_backend.errors import LdlError
from ldl_backend.evaluation.scoring import Score
from ldl_backend.imageio import read_image

if TYPE_CHECKING:
    from torch.utils.tensorboard import SummaryWriter

TENSORBOARD_FOLDER = "tensorboard"
NOT_INSTALLED = "TensorBoard is not installed: log.csv only (pip install tensorboard for live curves)"


class TensorBoardLog:
    """Writes a run's scalars and validation samples through a ``SummaryWriter`` (see the module docstring)."""

    def __init__(self, writer: SummaryWriter) -> None:
        self._writer = writer

    def scalars(self, row: Mapping[str, float]) -> None:
        """One ``RunLog.write`` row: its ``iteration`` is the step, every other value a ``train/NAME`` scalar."""
        step = int(row["iteration"])
        for name, value in row.items():
            if name != "iteration":
                self._writer.add_scalar(f"train/{name}", value, step)

    def validation(self, iteration: int, means: Mapping[str, Score], samples: Path) -> None:
        """A validation's mean scores (text such as "not installed" is left out) and the images in ``samples``."""
        for name, value in means.items():
            if not isinstance(value, str):
                self._writer.add_scalar(f"val/{name}", value, iteration)
        # Read back from the files the validator saved: what TensorBoard shows is what samples/ holds.
        for path in sorted(samples.glob("*.png")):
            colour = read_image(path).colour
            self._writer.add_image(f"samples/{path.stem}", colour, iteration, dataformats="HWC")
        self._writer.flush()  # validations are rare and worth seeing at once

    def close(self) -> None:
        self._writer.close()


def open_tensorboard(run_dir: Path, resume_from: int = 0) -> TensorBoardLog | None:
    """The TensorBoard log of the run in ``run_dir`` (a run resumed at iteration ``resume_from`` > 0 hides the
    later steps of the interrupted one), or None when ``tensorboard`` is not installed.

    Raises ``LdlError`` when the package is installed but fails to load (a broken install should be fixed or
    skipped on purpose, not silently lose the curves).
    """
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    except Exception as error:  # a damaged install fails in many ways (protobuf versions, for one)
        raise LdlError(
            f"TensorBoard is installed but could not be loaded: {error}",
            "reinstall or uninstall the tensorboard package, or add --no-tensorboard",
        ) from error
    purge_step = resume_from + 1 if resume_from > 0 else None
    return TensorBoardLog(SummaryWriter(log_dir=str(run_dir / TENSORBOARD_FOLDER), purge_step=purge_step))
