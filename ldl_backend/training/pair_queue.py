"""Real-ESRGAN's training-pair pool: batches pass through a shuffled queue so that one batch mixes images (and
degradations) drawn at different iterations.

Behaviour of ``_dequeue_and_enqueue`` in ``realesrgan/models/realesrganArtifactsDis_model.py`` (csjliang/LDL):
while the queue fills, each incoming batch is stored and also returned unchanged; once full, the queue is
shuffled, its first B pairs are returned and replaced by the incoming batch. The size must be a multiple of the
batch size. The shuffle draws from the queue's own seeded generator (Real-ESRGAN uses the global one), so a run
is reproducible and the queue's state can be checkpointed.

The shuffle permutes a slot map, not the stored pairs: the queue's order is ``stored[slots]``, so an exchange moves
only the B pairs that leave and enter (Real-ESRGAN's indexing copies the whole queue, 300 MB per iteration for the
real-world recipe's 180 pairs of 256-pixel GT and GT').
"""

from __future__ import annotations

from typing import Any

import torch


class PairQueue:
    """A pool of ``size`` (LR, GT) pairs. Raises ``ValueError`` for a size < 1 and, in ``exchange``, for a batch
    whose size does not divide the queue's or whose shapes differ from the first batch's."""

    def __init__(self, size: int, seed: int) -> None:
        if size < 1:
            raise ValueError(f"the queue size must be positive, not {size}")
        self.size = size
        self._generator = torch.Generator().manual_seed(seed)
        self._lq: torch.Tensor | None = None
        self._gt: torch.Tensor | None = None
        self._slots = torch.arange(size)  # queue position → storage row
        self._filled = 0

    @property
    def filled(self) -> int:
        return self._filled

    @torch.no_grad()
    def exchange(self, lq: torch.Tensor, gt: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Put an N×C×h×w LR / N×C×H×W GT batch in; get the batch to train on (see the module docstring)."""
        batch = lq.shape[0]
        if gt.shape[0] != batch or self.size % batch:
            raise ValueError(f"a batch of {batch} (GT {gt.shape[0]}) does not divide the queue size {self.size}")
        if self._lq is None or self._gt is None:
            self._lq = lq.new_zeros((self.size, *lq.shape[1:]))
            self._gt = gt.new_zeros((self.size, *gt.shape[1:]))
        if self._lq.shape[1:] != lq.shape[1:] or self._gt.shape[1:] != gt.shape[1:]:
            raise ValueError(f"batch shapes {tuple(lq.shape)}, {tuple(gt.shape)} differ from the queue's")
        if self._lq.device != lq.device:  # a queue restored from a checkpoint (on the CPU) follows its batches
            self._lq, self._gt = self._lq.to(lq.device), self._gt.to(gt.device)
        if self._filled < self.size:
            self._lq[self._filled : self._filled + batch] = lq
            self._gt[self._filled : self._filled + batch] = gt
            self._filled += batch
            return lq, gt
        order = torch.randperm(self.size, generator=self._generator)
        self._slots = self._slots[order]
        leaving = self._slots[:batch].to(self._lq.device)
        out_lq = self._lq[leaving]  # advanced indexing copies: the rows can be overwritten below
        out_gt = self._gt[leaving]
        self._lq[leaving] = lq
        self._gt[leaving] = gt
        return out_lq, out_gt

    def state_dict(self) -> dict[str, Any]:
        """The pairs in queue order (the slot map is not saved; on the CPU, wherever the queue lives), the fill
        level and the generator's state."""
        slots = self._slots
        lq = None if self._lq is None else self._lq[slots.to(self._lq.device)].cpu()
        gt = None if self._gt is None else self._gt[slots.to(self._gt.device)].cpu()
        return {"lq": lq, "gt": gt, "filled": self._filled, "generator": self._generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._lq = None if state["lq"] is None else state["lq"].clone()
        self._gt = None if state["gt"] is None else state["gt"].clone()
        self._slots = torch.arange(self.size)
        self._filled = int(state["filled"])
        self._generator.set_state(state["generator"])
