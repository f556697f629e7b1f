"""The checkpoint file's formats and per-process states: a format-1 file (rank 0's queue and random states alone)
reads as a one-entry process list, newer or foreign files are refused with a hint, and each process of a resumed
run takes its own entry, with a warning when the number of processes changed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from ldl_backend.training.checkpoint import (
    CHECKPOINT_FORMAT,
    CheckpointError,
    RngStates,
    load_checkpoint,
    own_process_state,
)


def _entry(tag: int) -> dict[str, Any]:
    return {"queue": {"filled": tag}, "rng": {"tag": tag}}


def _state(world_size: int | None, entries: int, iteration: int = 3, sample_position: int = 12) -> dict[str, Any]:
    processes = [_entry(rank) for rank in range(entries)]
    return {
        "iteration": iteration,
        "sample_position": sample_position,
        "world_size": world_size,
        "processes": processes,
    }


def test_a_format_1_checkpoint_reads_as_rank_0s_entry(tmp_path: Path) -> None:
    rng = RngStates.capture().as_dict()
    path = tmp_path / "old.pt"
    torch.save({"format": 1, "iteration": 3, "sample_position": 6, "queue": None, "rng": rng}, path)
    state = load_checkpoint(path)
    assert state["format"] == CHECKPOINT_FORMAT and state["world_size"] is None
    assert "queue" not in state and "rng" not in state
    [entry] = state["processes"]
    assert entry["queue"] is None and torch.equal(entry["rng"]["torch"], rng["torch"])


def test_newer_and_foreign_files_are_refused_with_a_hint(tmp_path: Path) -> None:
    newer = tmp_path / "newer.pt"
    torch.save({"format": CHECKPOINT_FORMAT + 1, "iteration": 1}, newer)
    with pytest.raises(CheckpointError, match="newer ldl train") as caught:
        load_checkpoint(newer)
    assert "update ldl-studio" in caught.value.hint
    foreign = tmp_path / "weights.pt"
    torch.save({"params_ema": torch.zeros(1)}, foreign)
    with pytest.raises(CheckpointError, match="not a checkpoint of this trainer"):
        load_checkpoint(foreign)


def test_each_process_takes_its_own_entry() -> None:
    state = _state(world_size=2, entries=2)
    assert [own_process_state(state, rank, 2, batch=2) for rank in range(2)] == [(_entry(0), None), (_entry(1), None)]


@pytest.mark.parametrize("world_size", [1, 4])
def test_another_number_of_processes_resumes_with_a_warning(world_size: int) -> None:
    state = _state(world_size=2, entries=2)
    taken = [own_process_state(state, rank, world_size, batch=2) for rank in range(world_size)]
    assert [entry for entry, _ in taken] == [_entry(rank % 2) for rank in range(world_size)]
    warning = taken[0][1]
    assert warning is not None and f"2 process(es) and this run has {world_size}" in warning
    assert "does not continue exactly" in warning


def test_a_format_1_checkpoints_world_size_comes_from_its_sample_position() -> None:
    # Iteration 3 at batch 2: sample position 12 means 2 processes wrote it, 6 means one.
    two = _state(world_size=None, entries=1, sample_position=12)
    assert own_process_state(two, 0, 1, batch=2)[1] is not None
    warning = own_process_state(two, 1, 2, batch=2)[1]
    assert warning is not None and "first process's pair queue and random states only" in warning
    one = _state(world_size=None, entries=1, sample_position=6)
    assert own_process_state(one, 0, 1, batch=2) == (_entry(0), None)
    assert own_process_state(_state(world_size=None, entries=1, iteration=0, sample_position=0), 0, 1, 2)[1] is None
