"""The pair queue on the GPU (where the trainer keeps it): the same pairs as on the CPU, a CPU checkpoint state,
and a resume from that state onto GPU batches."""

from __future__ import annotations

import torch

from ldl_backend.training.pair_queue import PairQueue


def _batch(start: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    ids = torch.arange(start, start + 2, dtype=torch.float32, device=device).view(-1, 1, 1, 1)
    return ids.expand(-1, 3, 2, 2).clone(), ids.expand(-1, 3, 8, 8).clone()


def test_a_queue_on_the_gpu_matches_the_cpu_and_resumes_from_its_checkpoint_state() -> None:
    cuda, cpu = torch.device("cuda"), torch.device("cpu")
    on_gpu, on_cpu = PairQueue(6, seed=1), PairQueue(6, seed=1)
    for start in range(0, 20, 2):
        gpu_out, cpu_out = on_gpu.exchange(*_batch(start, cuda)), on_cpu.exchange(*_batch(start, cpu))
        assert gpu_out[0].device.type == "cuda"
        assert torch.equal(gpu_out[1].cpu(), cpu_out[1])
    state = on_gpu.state_dict()
    assert state["lq"].device == cpu and state["gt"].device == cpu
    resumed = PairQueue(6, seed=99)
    resumed.load_state_dict(state)
    for start in range(20, 40, 2):
        expected = on_gpu.exchange(*_batch(start, cuda))
        got = resumed.exchange(*_batch(start, cuda))
        assert got[0].device.type == "cuda"
        assert torch.equal(got[0], expected[0]) and torch.equal(got[1], expected[1])
