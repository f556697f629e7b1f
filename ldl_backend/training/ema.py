"""An exponential moving average of a generator's weights (LDL's SR_ema, and the usual exported model).

After each step, every parameter becomes ``decay·ema + (1 − decay)·current`` — BasicSR's ``model_ema``
(``ema.mul_(decay).add_(current, alpha=1 − decay)``, same operation order). BasicSR averages parameters only;
buffers (none in RRDBNet or SwinIR, running statistics elsewhere) are copied from the current network, so an
averaged network never pairs averaged weights with stale statistics.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn


class Ema:
    """Holds ``module``, a frozen (eval mode, no gradients) copy of the network given, and updates it.

    ``decay`` in [0, 1): 0 copies the current weights at each update. Raises ``ValueError`` for another decay
    and, in ``update``, for a network whose parameter names differ from the copy's.
    """

    def __init__(self, network: nn.Module, decay: float) -> None:
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"the EMA decay must be in [0, 1), not {decay}")
        self.decay = decay
        self.module = copy.deepcopy(network).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, network: nn.Module) -> None:
        """Fold ``network``'s current weights into the average (call after each optimiser step)."""
        current = dict(network.named_parameters())
        averaged = dict(self.module.named_parameters())
        if current.keys() != averaged.keys():
            raise ValueError("the network's parameters differ from the EMA copy's; pass the same architecture")
        for name, value in averaged.items():
            value.mul_(self.decay).add_(current[name].detach().to(value.dtype), alpha=1.0 - self.decay)
        buffers = dict(network.named_buffers())
        for name, value in self.module.named_buffers():
            value.copy_(buffers[name])

    def state_dict(self) -> dict[str, Any]:
        return self.module.state_dict()

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.module.load_state_dict(state, strict=True)
