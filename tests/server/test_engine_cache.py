"""The worker's model cache: weights kept within a memory budget, least recently used evicted, one copy per device;
engines per device, precision, tile and alpha mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from ldl_backend.engine.device import Precision, choose_target
from ldl_backend.engine.memory import activation_bytes_per_pixel
from ldl_backend.engine.pipeline import AlphaMode
from ldl_backend.engine.upscale import EngineOptions
from ldl_backend.models.catalog import builtin_catalog
from ldl_backend.models.store import ModelStore
from ldl_backend.server.worker import EngineCache, UnsupportedDeviceError, engine_options
from ldl_client import ReferenceSource, SubmitOptions

COMPACT, ANIME = "realesr-animevideov3", "realesrgan-x4plus-anime"
RESIZE, THROUGH_MODEL = EngineOptions(alpha_mode=AlphaMode.RESIZE), EngineOptions(alpha_mode=AlphaMode.MODEL)


def test_models_stay_within_the_budget_and_share_weights(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "models", builtin_catalog())
    compact_bytes = sum(p.numel() * p.element_size() for p in store.load(COMPACT).network.parameters())
    cache = EngineCache(store, budget_bytes=compact_bytes * 3)
    resize = cache.get(COMPACT, RESIZE)
    assert cache.get(COMPACT, RESIZE) is resize
    through_model = cache.get(COMPACT, THROUGH_MODEL)
    assert through_model is not resize and cache.loaded == (COMPACT,)
    # The anime RRDBNet (17 MB) does not fit beside the compact one (2.4 MB) in 3× the compact's size.
    cache.get(ANIME, RESIZE)
    assert cache.loaded == (ANIME,)
    assert cache.get(COMPACT, RESIZE) is not resize  # evicted, so built again
    assert cache.loaded == (COMPACT,)


def test_a_large_budget_keeps_both(tmp_path: Path) -> None:
    cache = EngineCache(ModelStore(tmp_path / "models", builtin_catalog()), budget_bytes=1 << 30)
    cache.get(COMPACT, RESIZE)
    cache.get(ANIME, RESIZE)
    cache.get(COMPACT, RESIZE)
    assert cache.loaded == (ANIME, COMPACT)


def test_engines_follow_device_precision_and_tile(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "models", builtin_catalog())
    cache = EngineCache(store, budget_bytes=1 << 30)
    automatic = cache.get(COMPACT, RESIZE)
    chosen = choose_target(store.load(COMPACT).descriptor)  # what auto means on this machine
    assert automatic.target == chosen
    # auto is resolved first: naming the device (and precision) it means gives the same engine.
    explicit = EngineOptions(device=str(chosen.device), precision=chosen.precision)
    assert cache.get(COMPACT, explicit) is automatic
    fp32 = cache.get(COMPACT, EngineOptions(device="cpu", precision=Precision.FP32))
    assert fp32.target.precision is Precision.FP32 and fp32.runner.description.endswith("fp32")
    tiled = cache.get(COMPACT, EngineOptions(device="cpu", precision=Precision.FP32, tile=128))
    assert (tiled.settings.tile, tiled.settings.fixed) == (128, True) and tiled is not fp32
    if chosen.device.type == "cpu":
        assert cache.loaded == (COMPACT,)  # one copy of the weights for all of them


def test_a_device_or_precision_this_machine_cannot_run(tmp_path: Path) -> None:
    cache = EngineCache(ModelStore(tmp_path / "models", builtin_catalog()), budget_bytes=1 << 30)
    with pytest.raises(UnsupportedDeviceError, match="fp16 is not supported on the CPU") as raised:
        cache.get(COMPACT, EngineOptions(device="cpu", precision=Precision.FP16))
    assert raised.value.code == "unsupported_device" and "fp32" in raised.value.hint
    assert cache.get(COMPACT, RESIZE).target.device.type in ("cpu", "cuda", "mps")  # the cache still works


def test_job_options_become_engine_options() -> None:
    lanczos = ReferenceSource.parse("lanczos")
    job = SubmitOptions(
        COMPACT, reference=lanczos, alpha=AlphaMode.MODEL, device="cuda:1", precision=Precision.BF16, tile=96
    )
    assert engine_options(job) == EngineOptions(
        device="cuda:1", precision=Precision.BF16, tile=96, alpha_mode=AlphaMode.MODEL
    )
    assert engine_options(SubmitOptions(COMPACT, reference=lanczos)) == RESIZE


def test_the_servers_tile_memory_bounds_wide_cpu_tiles(tmp_path: Path) -> None:
    # RRDBNet's automatic CPU tiles may take a quarter of the free RAM; a server keeps them within its own share.
    store = ModelStore(tmp_path / "models", builtin_catalog())
    cpu_fp32 = EngineOptions(device="cpu", precision=Precision.FP32)
    own_rule = EngineCache(store, budget_bytes=1 << 30).get(ANIME, cpu_fp32)
    bounded = EngineCache(store, budget_bytes=1 << 30, tile_memory=300 << 20).get(ANIME, cpu_fp32)
    per_pixel = activation_bytes_per_pixel(store.load(ANIME).descriptor, Precision.FP32)
    assert bounded.settings.budget is not None and own_rule.settings.budget is not None
    assert int((200 << 20) / per_pixel) < bounded.settings.budget.max_pixels <= int((300 << 20) / per_pixel)
    assert own_rule.settings.budget.max_pixels > bounded.settings.budget.max_pixels
