"""A local folder of wheels that stands in for the package index: the distributions installed in this (the test's)
environment, packed back into wheels from their RECORD, so the installer's pip runs with ``--no-index`` and never
touches the network."""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import re
import zipfile
from pathlib import Path

from packaging.requirements import Requirement

_SKIPPED_METADATA = {"INSTALLER", "REQUESTED", "direct_url.json", "RECORD"}


def requirement_closure(roots: list[str], skip: frozenset[str] = frozenset()) -> list[str]:
    """Names of the installed distributions that ``roots`` (requirement strings, extras allowed) need, themselves
    included, following ``Requires-Dist`` with markers evaluated here. ``skip``: names not followed (torch)."""
    seen: dict[str, None] = {}
    pending = [Requirement(root) for root in roots]
    while pending:
        requirement = pending.pop()
        name = _normal(requirement.name)
        if name in skip or name in seen:
            continue
        seen[name] = None
        distribution = importlib.metadata.distribution(requirement.name)
        for text in distribution.requires or []:
            child = Requirement(text)
            if child.marker is None or any(
                child.marker.evaluate({"extra": extra}) for extra in (requirement.extras or {""})
            ):
                pending.append(child)
    return list(seen)


def repack(name: str, folder: Path) -> Path:
    """``folder/<name>-<version>-<tags>.whl`` from the installed files of ``name`` (not an editable install)."""
    distribution = importlib.metadata.distribution(name)
    wheel_info = distribution.read_text("WHEEL") or ""
    tags = [line.split(":", 1)[1].strip() for line in wheel_info.splitlines() if line.startswith("Tag:")]
    python, abi, platform = (".".join(sorted({tag.split("-")[i] for tag in tags})) for i in range(3))
    dist_name = _normal(distribution.metadata["Name"]).replace("-", "_")
    version = distribution.version
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{dist_name}-{version}-{python}-{abi}-{platform}.whl"
    info = f"{dist_name}-{version}.dist-info"
    records = []
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as archive:
        for file in distribution.files or []:
            parts = file.parts
            if parts[0] == ".." or "__pycache__" in parts or file.name.endswith(".pyc"):
                continue
            if parts[0].endswith(".dist-info"):
                if file.name in _SKIPPED_METADATA:
                    continue
                arcname = f"{info}/{'/'.join(parts[1:])}"
            else:
                arcname = "/".join(parts)
            data = Path(str(file.locate())).read_bytes()
            archive.writestr(arcname, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            records.append(f"{arcname},sha256={digest},{len(data)}")
        records.append(f"{info}/RECORD,,")
        archive.writestr(f"{info}/RECORD", "\n".join(records) + "\n")
    return target


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
