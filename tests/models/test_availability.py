"""A model's availability follows what is on disk: a release downloaded by hand and imported under its published
file name installs as its listing, and then runs."""

from __future__ import annotations

from pathlib import Path

import torch

from ldl_backend.archs.rrdbnet import RRDBNet
from ldl_backend.models.store import ModelStore
from ldl_client import Availability

MANUAL = "ldl-realworld-rrdb-x4"


def test_a_hand_downloaded_release_imports_as_its_listing(
    store: ModelStore, tmp_path: Path, tiny_rrdbnet: RRDBNet
) -> None:
    before = store.status(MANUAL)
    assert before.availability is Availability.MANUAL and "net_g_RealESRGAN+LDL.pth" in before.note
    downloaded = tmp_path / "net_g_RealESRGAN+LDL.pth"
    torch.save({"params_ema": tiny_rrdbnet.state_dict()}, downloaded)
    entry = store.import_file(downloaded)
    assert entry.name == MANUAL
    after = store.status(MANUAL)
    assert after.availability is Availability.READY and after.note == ""
    # Once installed, the same file name no longer maps to the listing: a second import is a model of its own.
    assert store.import_file(downloaded).name != MANUAL
