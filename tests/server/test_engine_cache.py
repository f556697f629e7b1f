"""The worker's model cache: weights kept within a memory budget, least recently used evicted, one copy each."""

from __future__ import annotations

from pathlib import Path

from ldl_backend.engine.pipeline import AlphaMode
from ldl_backend.models.catalog import builtin_catalog
from ldl_backend.models.store import ModelStore
from ldl_backend.server.worker import EngineCache

COMPACT, ANIME = "realesr-animevideov3", "realesrgan-x4plus-anime"


def test_models_stay_within_the_budget_and_share_weights(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "models", builtin_catalog())
    compact_bytes = sum(p.numel() * p.element_size() for p in store.load(COMPACT).network.parameters())
    cache = EngineCache(store, budget_bytes=compact_bytes * 3)
    resize = cache.get(COMPACT, AlphaMode.RESIZE)
    assert cache.get(COMPACT, AlphaMode.RESIZE) is resize
    through_model = cache.get(COMPACT, AlphaMode.MODEL)
    assert through_model is not resize and cache.loaded == (COMPACT,)
    # The anime RRDBNet (17 MB) does not fit beside the compact one (2.4 MB) in 3× the compact's size.
    cache.get(ANIME, AlphaMode.RESIZE)
    assert cache.loaded == (ANIME,)
    assert cache.get(COMPACT, AlphaMode.RESIZE) is not resize  # evicted, so built again
    assert cache.loaded == (COMPACT,)


def test_a_large_budget_keeps_both(tmp_path: Path) -> None:
    cache = EngineCache(ModelStore(tmp_path / "models", builtin_catalog()), budget_bytes=1 << 30)
    cache.get(COMPACT, AlphaMode.RESIZE)
    cache.get(ANIME, AlphaMode.RESIZE)
    cache.get(COMPACT, AlphaMode.RESIZE)
    assert cache.loaded == (ANIME, COMPACT)
