"""VGG19 (configuration "E", no batch norm) as a feature extractor, from plain ``torch.nn`` layers.

The layers follow torchvision's ``vgg19().features`` index for index, so the ImageNet file's ``features.N.weight``
and ``features.N.bias`` keys load unchanged (torchvision itself does not import beside this torch). Layers are
named as BasicSR names them (``conv1_1``, ``relu1_1``, …, ``pool5``); the extractor returns the outputs of the
layers it is asked for. LDL's perceptual loss asks for convolutions, i.e. features *before* their ReLU.

Input contract: N×3×H×W float, already normalised as the weights expect (ImageNet mean and standard deviation
for the torchvision file; the perceptual loss does that). H and W of at least 16 for ``conv5_*`` (four 2×2
max-pools precede stage 5).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

# (output channels, convolutions) of the five stages; each stage ends with a 2×2 max-pool.
VGG19_STAGES: tuple[tuple[int, int], ...] = ((64, 2), (128, 2), (256, 4), (512, 4), (512, 4))


def _layer_names() -> tuple[str, ...]:
    names: list[str] = []
    for stage, (_, convs) in enumerate(VGG19_STAGES, start=1):
        for index in range(1, convs + 1):
            names += [f"conv{stage}_{index}", f"relu{stage}_{index}"]
        names.append(f"pool{stage}")
    return tuple(names)


VGG19_LAYERS: tuple[str, ...] = _layer_names()
"""Every layer of torchvision's ``vgg19().features`` in order: ``VGG19_LAYERS[N]`` is ``features.N``."""


def _modules() -> list[nn.Module]:
    modules: list[nn.Module] = []
    channels = 3
    for out_channels, convs in VGG19_STAGES:
        for _ in range(convs):
            # Not in place: a convolution's output (a pre-ReLU feature) must survive the ReLU after it.
            modules += [nn.Conv2d(channels, out_channels, 3, 1, 1), nn.ReLU(inplace=False)]
            channels = out_channels
        modules.append(nn.MaxPool2d(2, 2))
    return modules


class Vgg19Features(nn.Module):
    """VGG19's ``features`` up to the deepest requested layer; ``forward`` returns the requested outputs.

    ``layers``: names from :data:`VGG19_LAYERS`, in any order, without repeats. The parameters are torchvision's
    default initialisation until weights are loaded (``load_state_dict`` with ``features.N.*`` keys, or
    :func:`randomize_vgg19` for smoke tests). Raises ``ValueError`` for an unknown or repeated layer name.
    """

    def __init__(self, layers: Sequence[str]) -> None:
        super().__init__()
        unknown = [name for name in layers if name not in VGG19_LAYERS]
        if unknown or not layers:
            raise ValueError(
                f"unknown VGG19 layers {unknown} (layers are named conv1_1 … conv5_4, relu…, pool1 … pool5)"
                if unknown
                else "ask for at least one VGG19 layer"
            )
        if len(set(layers)) != len(layers):
            raise ValueError(f"VGG19 layers are repeated in {list(layers)}")
        self.layers = tuple(layers)
        self._indices = {VGG19_LAYERS.index(name): position for position, name in enumerate(self.layers)}
        last = max(self._indices)
        self.features = nn.Sequential(*_modules()[: last + 1])

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The outputs of ``self.layers``, in that order."""
        outputs: list[torch.Tensor | None] = [None] * len(self.layers)
        for index, layer in enumerate(self.features):
            x = layer(x)
            position = self._indices.get(index)
            if position is not None:
                outputs[position] = x
        return [output for output in outputs if output is not None]


def randomize_vgg19(network: Vgg19Features, seed: int) -> Vgg19Features:
    """Fill ``network`` with seeded random weights (torchvision's scheme: Kaiming-normal, fan-out, zero bias).

    For smoke tests only: features of a random VGG carry no perceptual meaning. Returns ``network``.
    """
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in network.features:
            if isinstance(module, nn.Conv2d):
                fan_out = module.out_channels * module.kernel_size[0] * module.kernel_size[1]
                weight = torch.randn(module.weight.shape, generator=generator) * math.sqrt(2.0 / fan_out)
                module.weight.copy_(weight)
                if module.bias is not None:
                    module.bias.zero_()
    return network
