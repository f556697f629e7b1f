"""How a model file the user picked travels to ``POST /models/import``: its bytes as the body (a weights file as is;
an ncnn model's ``.param`` and ``.bin`` zipped together), its bare file name and the catalog id as the query."""

from __future__ import annotations

import io
import urllib.parse
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .errors import ClientError
from .options import model_name_from_file

MODEL_FILE_TYPE = "application/octet-stream"
NCNN_ZIP_TYPE = "application/x-ldl-ncnn+zip"
# What "Add model file…" offers in a file picker.
MODEL_FILE_PATTERNS = ("*.pth", "*.pt", "*.ckpt", "*.safetensors", "*.param")


@dataclass(frozen=True)
class ModelUpload:
    body: bytes
    content_type: str
    name: str
    file_name: str

    def query(self) -> str:
        return urllib.parse.urlencode([("name", self.name), ("filename", self.file_name)])


def model_upload(path: Path, name: str | None = None) -> ModelUpload:
    """The upload of the model at ``path`` under ``name`` (default: from the file's name). An ncnn model is picked
    by its ``.param`` (or ``.bin``); the other file must sit beside it. Raises ``ClientError`` with a hint when a
    file cannot be read."""
    path = Path(path)
    file_name = path.name
    if path.suffix.lower() in (".param", ".bin"):
        param, weights = path.with_suffix(".param"), path.with_suffix(".bin")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
            for part in (param, weights):
                archive.writestr(part.name, _read(part))
        body, content_type, file_name = buffer.getvalue(), NCNN_ZIP_TYPE, param.name
    else:
        body, content_type = _read(path), MODEL_FILE_TYPE
    return ModelUpload(body, content_type, name or model_name_from_file(file_name), file_name)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as e:
        hint = "an ncnn model needs its .param and .bin side by side" if path.suffix in (".param", ".bin") else ""
        raise ClientError(f"{path} does not exist", hint or "pick the model file again") from e
    except OSError as e:
        raise ClientError(f"cannot read {path}: {e.strerror or e}", "check the file's permissions") from e
