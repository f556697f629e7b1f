"""Real-ESRGAN's training-pair pool: fills while passing batches through, then shuffles and swaps."""

from __future__ import annotations

import pytest
import torch

from ldl_backend.training.pair_queue import PairQueue


def _batch(start: int, size: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    ids = torch.arange(start, start + size, dtype=torch.float32)
    return ids.view(-1, 1, 1, 1).expand(-1, 3, 2, 2).clone(), ids.view(-1, 1, 1, 1).expand(-1, 3, 8, 8).clone()


def _ids(images: torch.Tensor) -> list[int]:
    return [int(v) for v in images[:, 0, 0, 0]]


def test_the_queue_fills_then_swaps_shuffled_pairs() -> None:
    queue = PairQueue(6, seed=0)
    for start in (0, 2, 4):  # filling: every batch comes back as it went in
        lq, gt = _batch(start)
        out_lq, out_gt = queue.exchange(lq, gt)
        assert _ids(out_lq) == _ids(out_gt) == [start, start + 1]
    assert queue.filled == 6
    seen: list[int] = []
    for start in range(6, 40, 2):
        out_lq, out_gt = queue.exchange(*_batch(start))
        assert _ids(out_lq) == _ids(out_gt)  # pairs stay pairs
        seen += _ids(out_lq)
    assert len(set(seen)) == len(seen)  # a pair leaves the queue once
    assert seen != sorted(seen)  # shuffled, not first-in first-out
    assert max(seen) < 40


def test_a_seed_fixes_the_order_and_the_state_resumes_it() -> None:
    first, second = PairQueue(4, seed=3), PairQueue(4, seed=3)
    for start in range(0, 8, 2):
        first.exchange(*_batch(start))
        second.exchange(*_batch(start))
    resumed = PairQueue(4, seed=99)
    resumed.load_state_dict(first.state_dict())
    for start in range(8, 20, 2):
        expected = _ids(second.exchange(*_batch(start))[0])
        assert _ids(first.exchange(*_batch(start))[0]) == expected
        assert _ids(resumed.exchange(*_batch(start))[0]) == expected


def test_sizes_are_checked() -> None:
    with pytest.raises(ValueError, match="does not divide"):
        PairQueue(5, seed=0).exchange(*_batch(0))
    queue = PairQueue(4, seed=0)
    queue.exchange(*_batch(0))
    with pytest.raises(ValueError, match="differ"):
        queue.exchange(torch.zeros(2, 3, 4, 4), torch.zeros(2, 3, 16, 16))


class _CopyingQueue:
    """The queue as Real-ESRGAN writes it: the stored pairs themselves are shuffled at every exchange."""

    def __init__(self, size: int, seed: int) -> None:
        self.size, self.generator = size, torch.Generator().manual_seed(seed)
        self.lq: list[torch.Tensor] = []
        self.gt: list[torch.Tensor] = []

    def exchange(self, lq: torch.Tensor, gt: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if len(self.lq) < self.size:
            self.lq += list(lq)
            self.gt += list(gt)
            return lq, gt
        order = torch.randperm(self.size, generator=self.generator).tolist()
        self.lq, self.gt = [self.lq[i] for i in order], [self.gt[i] for i in order]
        out = torch.stack(self.lq[: len(lq)]), torch.stack(self.gt[: len(gt)])
        self.lq[: len(lq)], self.gt[: len(gt)] = list(lq), list(gt)
        return out


def test_the_slot_map_gives_the_order_of_a_queue_that_moves_its_pairs() -> None:
    queue, reference = PairQueue(8, seed=5), _CopyingQueue(8, seed=5)
    for start in range(0, 60, 4):
        batch = _batch(start, size=4)
        got, expected = queue.exchange(*batch), reference.exchange(*batch)
        assert _ids(got[0]) == _ids(expected[0]) and _ids(got[1]) == _ids(expected[1])
    state = queue.state_dict()
    assert _ids(state["lq"]) == _ids(torch.stack(reference.lq))  # saved in queue order
