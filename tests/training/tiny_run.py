"""Small pieces the training tests share: the tiny generator, a random VGG19 drawn once, a free loopback port."""

from __future__ import annotations

import copy
import functools
import socket

import torch

from ldl_backend.archs.rrdbnet import RRDBNet, RRDBNetConfig
from ldl_backend.archs.vgg import Vgg19Features
from ldl_backend.models.detection import default_registry
from ldl_backend.models.loading import LoadedModel
from ldl_backend.training.vgg_weights import random_vgg19


def tiny_generator() -> LoadedModel:
    """RRDBNet ×4 with 2 blocks and 16 features, the same weights every call."""
    torch.manual_seed(0)
    descriptor, network = default_registry().load(RRDBNet(RRDBNetConfig(num_block=2, num_feat=16)).state_dict())
    return LoadedModel(descriptor, network)


@functools.cache
def _random_vgg(layers: tuple[str, ...]) -> Vgg19Features:
    return random_vgg19(layers, seed=0)


def random_vgg(layers: tuple[str, ...]) -> Vgg19Features:
    """A VGG19 with seeded random weights (a fresh copy: drawing its 20M weights once saves seconds per test)."""
    return copy.deepcopy(_random_vgg(layers))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
