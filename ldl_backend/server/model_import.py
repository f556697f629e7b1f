"""``POST /models/import``: a model file the user picked in a front end, uploaded and registered in the model store
with the same detection and checks as ``ldl models import``. The file's bytes are the body (never a path: the
server reads nothing the client names); an ncnn model's ``.param`` and ``.bin`` travel together as a zip."""

from __future__ import annotations

import shutil
import uuid
import zipfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from ldl_backend.errors import CatalogError, LdlError
from ldl_backend.models.store import ModelStatus, ModelStore
from ldl_backend.server.errors import ApiError, bad_request, conflict
from ldl_client.model_upload import MODEL_FILE_TYPE, NCNN_ZIP_TYPE
from ldl_client.options import MODEL_ID_RULE, model_name_from_file

# Suffixes kept from the uploaded file's name (content sniffing decides the rest).
_WEIGHT_SUFFIXES = (".pth", ".pt", ".ckpt", ".safetensors")


def import_upload(
    store: ModelStore, body: bytes, content_type: str, query: Mapping[str, str], scratch: Path, max_bytes: int
) -> ModelStatus:
    """Register the uploaded model under ``query["name"]`` (default: from ``query["filename"]``).

    400 for a malformed request, 409 for a name that is taken, 415 for another content type, 422 for a file that is
    not a model this version can use (with the detection's message and hint). Nothing is kept on any error.
    """
    file_name = query.get("filename", "model")
    if not file_name or "/" in file_name or "\\" in file_name or file_name in (".", ".."):
        raise bad_request(f"filename {file_name!r} must be a bare file name", "send the picked file's name only")
    name = query.get("name") or model_name_from_file(file_name)
    if not body:
        raise bad_request("the request body is empty", "send the model file itself as the body")
    folder = scratch / f"import-{uuid.uuid4().hex}"
    folder.mkdir(parents=True)
    try:
        path = _write(folder, body, content_type, file_name, max_bytes)
        try:
            entry = store.import_file(path, name, source_name=file_name)
        except CatalogError as error:
            if "already exists" in error.message:
                raise conflict(error.message, "choose another name, or remove that model first") from error
            raise ApiError(400, "bad_request", error.message, error.hint or f"names are {MODEL_ID_RULE}") from error
        except (
            LdlError
        ) as error:  # ModelFileError, UnknownArchitectureError…: the file is no model this version can use
            raise ApiError(422, error.code, error.message, error.hint) from error
        return store.status(entry.name)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _write(folder: Path, body: bytes, content_type: str, file_name: str, max_bytes: int) -> Path:
    if content_type == MODEL_FILE_TYPE:
        suffix = PurePosixPath(file_name).suffix.lower()
        path = folder / ("model" + (suffix if suffix in _WEIGHT_SUFFIXES else ""))
        path.write_bytes(body)
        return path
    if content_type == NCNN_ZIP_TYPE:
        return _unpack_ncnn(folder, body, max_bytes)
    raise ApiError(
        415,
        "unsupported_media_type",
        f"unsupported Content-Type {content_type or '(none)'!r}",
        f"send the file as {MODEL_FILE_TYPE}, or an ncnn .param and .bin zipped as {NCNN_ZIP_TYPE}",
    )


def _unpack_ncnn(folder: Path, body: bytes, max_bytes: int) -> Path:
    """The zip's one ``.param`` and one ``.bin`` as ``model.param``/``model.bin``; checked before anything is read
    out (two members, their suffixes, their total size against the body limit: no zip bomb)."""
    archive_path = folder / "upload.zip"
    archive_path.write_bytes(body)
    hint = "zip exactly the model's .param and .bin files"
    try:
        with zipfile.ZipFile(archive_path) as archive:
            members = archive.infolist()
            suffixes = sorted(PurePosixPath(member.filename).suffix.lower() for member in members)
            if suffixes != [".bin", ".param"]:
                raise bad_request(f"the ncnn upload holds {len(members)} file(s), not one .param and one .bin", hint)
            if sum(member.file_size for member in members) > max_bytes:
                raise ApiError(413, "body_too_large", "the unpacked ncnn model is larger than the body limit", hint)
            for member in members:
                target = folder / ("model" + PurePosixPath(member.filename).suffix.lower())
                with archive.open(member) as source, target.open("wb") as destination:
                    shutil.copyfileobj(source, destination)
    except zipfile.BadZipFile as error:
        raise bad_request("the ncnn upload is not a valid zip file", hint) from error
    archive_path.unlink()
    return folder / "model.param"
