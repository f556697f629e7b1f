"""Networks built on the meta device (shapes, no memory), without the cost of initialising weights that do not exist."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

Network = TypeVar("Network", bound=nn.Module)

# In-place fills an initialiser makes: torch.nn.init's functions and the tensor methods they and the architectures
# call. Only these are skipped: an in-place op that changes a shape (unsqueeze_, resize_…) must still run.
_FILLS = frozenset(
    {name for name in dir(nn.init) if name.endswith("_") and not name.startswith("_")}
    | {"uniform_", "normal_", "zero_", "fill_", "mul_", "add_", "sub_", "div_", "clamp_", "erfinv_", "exp_"}
)


class _SkipFillsOnMeta(TorchFunctionMode):
    """Returns a meta tensor unchanged from an in-place fill. Every ``reset_parameters`` fills its weights; on the
    meta device there is nothing to fill, yet each fill goes through a Python decomposition (about 0.2 s for the
    700 fills of x4plus: most of building it). A mode is local to its thread: other threads' networks, on real
    devices or not, are initialised as usual."""

    def __torch_function__(
        self, func: Callable[..., Any], types: Any, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None
    ) -> Any:
        kwargs = kwargs or {}
        if getattr(func, "__name__", "") in _FILLS:
            # torch.nn.init's functions arrive with every argument by keyword, tensor methods with self first.
            target = args[0] if args else kwargs.get("tensor")
            if isinstance(target, torch.Tensor) and target.is_meta:
                return target
        return func(*args, **kwargs)


@contextlib.contextmanager
def meta_device() -> Iterator[None]:
    """Within the block, modules are built on the meta device and their initialisers do nothing."""
    with torch.device("meta"), _SkipFillsOnMeta():
        yield


def build_on_meta(build: Callable[[], Network]) -> Network:
    """``build()`` on the meta device: the network's exact keys, shapes and dtypes, no memory, no initialisation."""
    with meta_device():
        return build()
