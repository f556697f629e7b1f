"""The server's folders and files are the user's alone: 0700 folders and 0600 files from ``ldl serve`` (its umask
covers the worker and SQLite's side files), older files tightened at start, and a runtime folder that others can
write to refused with a hint."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ldl_backend.server import ServerConfig, prepare_server
from ldl_backend.server.private_folders import InsecureFolderError
from ldl_client import ReferenceSource, SubmitOptions
from ldl_client.launcher import start_server
from ldl_client.records import JobState
from tests.server.conftest import COMPACT
from tests.server.serve_process import client, serve

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def too_open(root: Path) -> list[str]:
    """Every folder under ``root`` (itself included) that is not 0700 and every file that is not 0600."""
    found = [] if mode(root) == 0o700 else [f"{root} {mode(root):o}"]
    for folder, folders, files in os.walk(root):
        found += [f"{Path(folder, n)} {mode(Path(folder, n)):o}" for n in folders if mode(Path(folder, n)) != 0o700]
        found += [f"{Path(folder, n)} {mode(Path(folder, n)):o}" for n in files if mode(Path(folder, n)) != 0o600]
    return found


def private_roots(home: Path) -> list[Path]:
    """Under ``LDL_STUDIO_HOME``: the runtime folder, the job database's folder, the input and layer cache."""
    return [home / "run", home / "server", home / "cache" / "server"]


def config(home: Path) -> ServerConfig:
    return ServerConfig(home / "server", home / "cache" / "server", home / "run")


def test_a_served_job_leaves_only_private_files(tmp_path: Path, photo_png: bytes) -> None:
    process = serve(tmp_path)
    try:
        server = client(tmp_path)
        options = SubmitOptions(model=COMPACT, reference=ReferenceSource.parse("lanczos"))
        running = server.submit(photo_png, options)
        queued = server.submit(photo_png, options)  # its decoded input waits in the cache while the first runs
        assert any((tmp_path / "cache" / "server" / "inputs").iterdir())
        seen_while_running = [problem for root in private_roots(tmp_path) for problem in too_open(root)]
        for job in (running, queued):
            assert server.wait(job.id).state is JobState.SUCCEEDED
        server.layer(queued.id, "blend", "tiff")  # written to the scratch folder first
        server.reblend(queued.id, threshold=0.5, softness=0.2)
        files = {path.name for path in (tmp_path / "server").iterdir()}
        assert {"jobs.sqlite3", "jobs.sqlite3-wal", "jobs.sqlite3-shm"} <= files
        assert seen_while_running == []
        assert [problem for root in private_roots(tmp_path) for problem in too_open(root)] == []
    finally:
        process.terminate()
        process.communicate(timeout=30)


def test_a_runtime_folder_others_can_write_to_is_refused(tmp_path: Path) -> None:
    runtime = tmp_path / "run"
    runtime.mkdir()
    runtime.chmod(0o777)
    with pytest.raises(InsecureFolderError) as refused:
        prepare_server(config(tmp_path), tmp_path / "models", "test")
    assert str(runtime) in refused.value.message and "chmod 700" in refused.value.hint
    assert mode(runtime) == 0o777  # left for the user to look at, not silently changed
    assert not (tmp_path / "server").exists()  # refused before anything was written


@pytest.fixture
def old_home(tmp_path: Path) -> Iterator[Path]:
    """Folders and files as an older version left them: readable by everyone."""
    for folder in private_roots(tmp_path):
        folder.mkdir(parents=True, mode=0o755)
        folder.chmod(0o755)
    for path in (tmp_path / "server" / "jobs.sqlite3", tmp_path / "cache" / "server" / "left.npy"):
        path.write_bytes(b"")
        path.chmod(0o644)
    yield tmp_path


def test_folders_and_files_left_open_are_tightened(old_home: Path) -> None:
    prepare_server(config(old_home), old_home / "models", "test").listener.close()
    assert [problem for root in private_roots(old_home) for problem in too_open(root)] == []


def test_the_log_of_a_started_server_is_private(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "server.log"
    start_server("/bin/true", log).wait(10)
    assert mode(log.parent) == 0o700 and mode(log) == 0o600
