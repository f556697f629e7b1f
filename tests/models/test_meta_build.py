"""Meta-device builds skip initialisers and nothing else: the same keys, shapes and dtypes as a real build,
real tensors still filled, shape-changing in-place ops still applied, other threads untouched."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest
import torch
from torch import nn

from ldl_backend.archs.rrdbnet import RRDBNetConfig
from ldl_backend.archs.srvgg import SRVGGNetCompactConfig
from ldl_backend.archs.swinir_config import SwinIRConfig
from ldl_backend.models.architectures.registry import BUILTIN_SPECS
from ldl_backend.models.descriptor import ArchConfig, build_network
from ldl_backend.models.meta_build import build_on_meta, meta_device

# Small versions of each architecture (SwinIR with its absolute position embedding, whose init is a trunc_normal_).
CONFIGS = [
    SwinIRConfig(embed_dim=12, depths=(2, 1), num_heads=(2, 2), window_size=4, num_feat=8, ape=True),
    RRDBNetConfig(num_block=2, num_feat=16, num_grow_ch=8),
    SRVGGNetCompactConfig(),
]


def test_every_architecture_is_covered() -> None:
    assert {type(config) for config in CONFIGS} == {spec.config_type for spec in BUILTIN_SPECS}


@pytest.mark.parametrize("config", CONFIGS, ids=lambda config: type(config).__name__)
def test_the_network_has_a_real_builds_keys_shapes_and_dtypes(config: ArchConfig) -> None:
    # Against a real build (a plain meta build's first trunc_normal_ compiles a decomposition: seconds).
    plain = build_network(config).state_dict()
    built = build_on_meta(lambda: build_network(config)).state_dict()
    assert [(k, v.shape, v.dtype) for k, v in built.items()] == [(k, v.shape, v.dtype) for k, v in plain.items()]
    assert all(tensor.is_meta for tensor in built.values())


def test_initialisers_on_meta_tensors_are_skipped() -> None:
    calls: list[str] = []
    with meta_device():
        weight = torch.empty(4, 3, 3, 3)
        # Each would go through a Python decomposition on the meta device; skipped, it returns its tensor.
        for fill in (nn.init.kaiming_uniform_, nn.init.trunc_normal_, nn.init.zeros_):
            assert fill(weight) is weight
            calls.append(fill.__name__)
        assert weight.mul_(0.1) is weight
    assert weight.is_meta and len(calls) == 3


def test_real_tensors_are_still_filled_and_shapes_still_change() -> None:
    with meta_device():
        real = nn.init.uniform_(torch.zeros(1000, device="cpu"), 1.0, 2.0)
        scaled = torch.ones(3, device="cpu").mul_(4.0)
        grown = torch.empty(3, 4).unsqueeze_(0)
    assert float(real.min()) >= 1.0 and float(real.max()) <= 2.0 and float(real.std()) > 0.1
    assert scaled.tolist() == [4.0, 4.0, 4.0]
    assert grown.is_meta and grown.shape == (1, 3, 4)


def test_another_thread_builds_real_initialised_networks_meanwhile() -> None:
    built: list[nn.Conv2d] = []
    with meta_device():
        thread = threading.Thread(target=lambda: built.append(nn.Conv2d(3, 8, 3)))
        thread.start()
        thread.join()
        here = nn.Conv2d(3, 8, 3)
    assert here.weight.is_meta
    assert not built[0].weight.is_meta and float(built[0].weight.detach().abs().sum()) > 0.0


def test_loading_swinir_builds_it_once_without_importing_dynamo() -> None:
    # Its derived buffers (relative position index, RGB mean) are computed on the CPU even in a meta build, so the
    # loaded skeleton is complete (no second, initialised build), and no integer arithmetic on meta tensors pulls in
    # torch._dynamo (several seconds at the first SwinIR load).
    script = (
        "import sys, torch\n"
        "from ldl_backend.archs.swinir_config import SwinIRConfig\n"
        "from ldl_backend.models import detection\n"
        "from ldl_backend.models.descriptor import ModelDescriptor, build_network\n"
        "config = SwinIRConfig(embed_dim=12, depths=(2,), num_heads=(2,), window_size=4, num_feat=8, scale=2)\n"
        "source = build_network(config).eval()\n"
        "real_builds = []\n"
        "build = ModelDescriptor.build\n"
        "ModelDescriptor.build = lambda self: real_builds.append(self) or build(self)\n"
        "_, network = detection.default_registry().load(source.state_dict())\n"
        "image = torch.rand(1, 3, 12, 12)\n"
        "with torch.inference_mode():\n"
        "    same = torch.equal(network(image), source(image))\n"
        "print('torch._dynamo' in sys.modules, len(real_builds), same)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.strip().splitlines()[-1] == "False 0 True"
