"""Upscale a Krita document with LDL: the headless entry point and its three phases.

``upscale_document`` runs everything in order on the calling (GUI) thread. The "Upscale with LDL…" action runs the
same phases apart, so Krita stays responsive: ``prepare_upscale`` (GUI thread: reads the pixels), ``run_job`` in
``job.py`` (worker thread: no Krita, no Qt), ``apply_upscale`` (GUI thread: changes the document).

The document changes only in ``apply_upscale``, after the job succeeded and every layer was converted.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any, Literal

from . import host_api
from .client_import import Client, LayerNames, RawImage, SubmitOptions
from .errors import PluginError, UnsupportedDocument
from .job import JobLayers, ProgressCallback, run_job
from .layer_stack import LayerContent, add_ldl_group
from .pixels import PixelFormat, to_raw

Target = Literal["document", "new_document", "new_layer"]
TARGETS: tuple[str, ...] = ("document", "new_document", "new_layer")


@dataclass(frozen=True)
class UpscaleRequest:
    """What to upscale and how: the job's ``options`` (the client's, checked when built) and where the result goes.

    ``target``: ``document`` scales the whole document by the factor (LDL for the active paint layer, Krita's
    bicubic for the other layers; a selection is ignored); ``new_document`` and ``new_layer`` upscale only the
    selection's bounding box (the whole layer without a selection) into a new document, or into a new group right
    above the active layer in this document, its top left corner at the selection's (the document keeps its size,
    so the group reaches past the selection by the factor: move or transform it as needed). Krita's layers take
    whole factors only. Raises ``ValueError``.
    """

    options: SubmitOptions
    target: Target = "document"

    def __post_init__(self) -> None:
        if self.target not in TARGETS:
            raise ValueError(f"target {self.target!r} must be one of {', '.join(TARGETS)}")
        scale = self.options.scale
        if scale is not None and not float(scale).is_integer():
            raise ValueError(f"scale {scale!r} must be a whole number for Krita's layers, e.g. 2 or 4")

    def to_setting(self) -> str:
        """The request as Krita's settings keep it (the options in their query form, the one serialisation)."""
        return json.dumps({"options": self.options.query(), "target": self.target})

    @classmethod
    def from_setting(cls, text: str) -> UpscaleRequest:
        """Read ``to_setting``'s text; ``ValueError`` for anything else (another version's, or damaged)."""
        data = json.loads(text)
        if not isinstance(data, dict) or not isinstance(data.get("options"), str):
            raise ValueError("not a saved upscale request")
        options = SubmitOptions.from_query(urllib.parse.parse_qsl(data["options"], keep_blank_values=True))
        return cls(options, data.get("target", "document"))


@dataclass(frozen=True)
class UpscaleOutcome:
    """What an upscale did: the backend's ``job_id`` (its layers stay on the backend), the ``document`` that changed
    (the new one for ``new_document``), the added layers' size (the document's new size unless the target is
    ``new_layer``), where their top left corner is, the factor, and the names of the nodes it created."""

    job_id: str
    width: int
    height: int
    scale: int
    offset: tuple[int, int]
    names: LayerNames
    document: Any = field(compare=False)

    @property
    def node_names(self) -> tuple[str, ...]:
        return self.names.all


@dataclass(frozen=True)
class PreparedUpscale:
    """The first phase's result: the pixels to upload and what the document looked like when they were read."""

    document: host_api.Document
    source: host_api.Node
    request: UpscaleRequest
    fmt: PixelFormat
    rect: tuple[int, int, int, int]
    image: RawImage
    snapshot: tuple[int, int, str, str]


def upscale_document(
    document: host_api.Document,
    request: UpscaleRequest,
    client: Client,
    *,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    host: host_api.Host | None = None,
) -> UpscaleOutcome:
    """Upscale ``document`` (a ``krita.Document``) through ``client`` and add the LDL layers; no dialogs.

    Blocks until the job is done (call it on Krita's GUI thread: Krita's API is not thread-safe). ``on_progress``
    and ``cancel``: see ``job.run_job``. ``host``: ``Krita.instance()`` unless given (tests pass a stub).
    Raises ``PluginError`` (``UnsupportedDocument``, ``BackendFailed``, ``Cancelled``) with a message and a hint;
    the document is unchanged then.
    """
    prepared = prepare_upscale(document, request)
    layers = run_job(client, prepared.image, request.options, prepared.fmt, on_progress=on_progress, cancel=cancel)
    return apply_upscale(prepared, layers, host=host)


def check_document(document: host_api.Document) -> tuple[PixelFormat, host_api.Node]:
    """The document's pixel format and the paint layer to upscale; raises ``UnsupportedDocument`` (CMYK, Lab, no
    active paint layer, a layer in another colour space than the image)."""
    fmt = PixelFormat.of(document.colorModel(), document.colorDepth())
    source = document.activeNode()
    if source is None or source.type() != "paintlayer":
        what = "nothing" if source is None else f"'{source.name()}', a {source.type() or 'node'}"
        raise UnsupportedDocument(
            f"LDL upscales the active paint layer, and the active node is {what}",
            "select the paint layer to upscale in the Layers docker, then run the upscale again",
        )
    if (source.colorModel(), source.colorDepth()) != (fmt.model, fmt.depth):
        raise UnsupportedDocument(
            f"the layer '{source.name()}' is {source.colorModel()} {source.colorDepth()} but the image is "
            f"{fmt.model} {fmt.depth}",
            "convert the layer to the image's colour space (Layer › Convert › Convert Layer Color Space…)",
        )
    return fmt, source


def prepare_upscale(document: host_api.Document, request: UpscaleRequest) -> PreparedUpscale:
    """Read the pixels to upload (GUI thread). Raises ``UnsupportedDocument`` before any job runs."""
    fmt, source = check_document(document)
    rect = _source_rect(document, request)
    x, y, width, height = rect
    data = bytes(source.pixelData(x, y, width, height))
    image = to_raw(fmt, data, width, height)
    snapshot = (document.width(), document.height(), fmt.model, fmt.depth)
    return PreparedUpscale(document, source, request, fmt, rect, image, snapshot)


def apply_upscale(prepared: PreparedUpscale, layers: JobLayers, *, host: host_api.Host | None = None) -> UpscaleOutcome:
    """Change the document (GUI thread): scale it or make the new document, and add the LDL group."""
    host = host if host is not None else _krita_host()
    document = prepared.document
    now = (document.width(), document.height(), document.colorModel(), document.colorDepth())
    if now != prepared.snapshot:
        raise PluginError(
            "the document's size or colour space changed while LDL was working",
            "run Upscale with LDL again",
        )
    target = prepared.request.target
    x, y, _, _ = prepared.rect
    if target == "new_document":
        target_document = _new_document(host, document, prepared, layers)
        offset = (0, 0)
        parent, above = target_document.rootNode(), None
        scale_to = None
    else:
        target_document = document
        offset = (x * layers.scale, y * layers.scale) if target == "document" else (x, y)
        source = _still_there(document, prepared.source)
        parent = (source.parentNode() if source is not None else None) or document.rootNode()
        above = source
        scale_to = (layers.width, layers.height) if target == "document" else None
    content = LayerContent(
        x=offset[0],
        y=offset[1],
        width=layers.width,
        height=layers.height,
        reference=layers.reference,
        detail=layers.detail,
        artifact_map=layers.artifact_map,
        mask=layers.mask,
    )
    try:
        names = add_ldl_group(
            host,
            target_document,
            content,
            parent=parent,
            above=above,
            scale_to=scale_to,
            replace_initial_layers=target == "new_document",
        )
    except BaseException:
        if target_document is not document:
            target_document.close()  # a half-built new image helps nobody
        raise
    return UpscaleOutcome(
        job_id=layers.job_id,
        width=layers.width,
        height=layers.height,
        scale=layers.scale,
        offset=offset,
        names=names,
        document=target_document,
    )


def _source_rect(document: host_api.Document, request: UpscaleRequest) -> tuple[int, int, int, int]:
    width, height = document.width(), document.height()
    selection = document.selection() if request.target != "document" else None
    if selection is None:
        return (0, 0, width, height)
    left, top = max(0, selection.x()), max(0, selection.y())
    right = min(width, selection.x() + selection.width())
    bottom = min(height, selection.y() + selection.height())
    if right <= left or bottom <= top:
        raise UnsupportedDocument(
            "the selection is empty or outside the image",
            "select the region to upscale, or deselect (Select › Deselect) to upscale the whole layer",
        )
    return (left, top, right - left, bottom - top)


def _new_document(
    host: host_api.Host, document: host_api.Document, prepared: PreparedUpscale, layers: JobLayers
) -> host_api.Document:
    title = document.name() or "Untitled"
    created = host.createDocument(
        layers.width,
        layers.height,
        f"{title} (LDL ×{layers.scale})",
        prepared.fmt.model,
        prepared.fmt.depth,
        document.colorProfile(),
        document.xRes(),
    )
    window = host.activeWindow()
    if window is not None:
        window.addView(created)
    return created


def _still_there(document: host_api.Document, node: host_api.Node) -> host_api.Node | None:
    """``node`` when it is still in the document (the user may have deleted it while the job ran)."""
    wanted = node.uniqueId()
    stack = list(document.rootNode().childNodes())
    while stack:
        candidate = stack.pop()
        if candidate.uniqueId() == wanted:
            return candidate
        stack.extend(candidate.childNodes())
    return None


def _krita_host() -> host_api.Host:
    # Imported by name, and only here: the rest of this module runs without Krita (tests pass a stub host).
    return import_module("krita").Krita.instance()
