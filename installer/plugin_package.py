"""What every host plug-in folder holds besides the plug-in's own code: a copy of the client library and the
installer's record of the backend. One definition for the Krita and GIMP steps."""

from __future__ import annotations

import shutil
from importlib.util import find_spec
from pathlib import Path

from ldl_client.backend_record import BACKEND_FILE, BackendRecord

from .errors import InstallError
from .files import IGNORED

CLIENT_NAME = "ldl_client"
REPO_ROOT = Path(__file__).resolve().parents[1]


def assemble_package(source: Path, package: Path, client_source: Path, record: BackendRecord) -> None:
    """Copy the plug-in folder ``source`` to ``package`` (which must not exist) without caches, then add
    ``package/ldl_client`` (a copy of ``client_source``) and ``package/backend.json`` (``record``).

    A copy of the client or a record lying in ``source`` never wins over the real ones. Raises ``OSError``.
    """
    shutil.copytree(source, package, ignore=IGNORED)
    client = package / CLIENT_NAME
    if client.exists():
        shutil.rmtree(client)
    (package / BACKEND_FILE).unlink(missing_ok=True)
    shutil.copytree(client_source, client, ignore=IGNORED)
    (package / BACKEND_FILE).write_bytes(record.to_json())


def default_client_source() -> Path:
    """The ``ldl_client`` package to copy: the checkout's, else the installed one. Raises ``InstallError``."""
    in_checkout = REPO_ROOT / CLIENT_NAME
    if in_checkout.is_dir():
        return in_checkout
    spec = find_spec(CLIENT_NAME)
    if spec is None or spec.origin is None:
        raise InstallError(f"cannot find {CLIENT_NAME}", "run the installer from an LDL Studio checkout")
    return Path(spec.origin).parent
