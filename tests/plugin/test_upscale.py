"""``upscale_document`` against the stub of Krita's API and a real backend on 127.0.0.1 (the compact model)."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest
from ldl_krita.errors import BackendFailed, Cancelled, PluginError, UnsupportedDocument
from ldl_krita.job import run_job
from ldl_krita.pixels import PixelFormat, from_raw
from ldl_krita.upscale import (
    UpscaleOutcome,
    UpscaleRequest,
    apply_upscale,
    prepare_upscale,
    upscale_document,
)

from ldl_client import Client, LayerName, Precision, RawImage, ReferenceSource, SubmitOptions
from tests.server.conftest import COMPACT

from .fake_krita import FakeDocument, FakeKrita, FakeSelection

REQUEST = UpscaleRequest(SubmitOptions(model=COMPACT, reference=ReferenceSource.parse("lanczos")))
H, W = 24, 32


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.chelsea()[100 : 100 + H, 200 : 200 + W])


def rgba(photo: np.ndarray, dtype: type = np.uint8, transparent: bool = False) -> np.ndarray:
    if np.issubdtype(dtype, np.integer):
        top = np.iinfo(dtype).max
        colour = photo.astype(np.float64) / 255 * top
        pixels = np.concatenate([colour, np.full((H, W, 1), top)], axis=-1).round().astype(dtype)
        if transparent:
            pixels[:, : W // 2, 3] = top // 3
    else:
        pixels = np.concatenate([photo / 255.0, np.ones((H, W, 1))], axis=-1).astype(dtype)
        if transparent:
            pixels[:, : W // 2, 3] = 0.25
    return pixels


def bgra(pixels: np.ndarray) -> bytes:
    return np.ascontiguousarray(pixels[..., [2, 1, 0, 3]]).tobytes()


def layer_array(client: Client, job_id: str, name: LayerName) -> np.ndarray:
    layer = client.layer(job_id, name, "raw")
    dtype = np.dtype(layer.dtype).newbyteorder("<")
    return np.frombuffer(layer.data, dtype).reshape(layer.height, layer.width, layer.channels)


def expected_8bit(layer: np.ndarray) -> bytes:
    """A backend RGB layer as Krita's opaque B, G, R, A bytes."""
    opaque = np.full((*layer.shape[:2], 1), 255, np.uint8)
    return bgra(np.concatenate([layer, opaque], axis=-1))


def snapshot(document: FakeDocument) -> tuple[Any, ...]:
    pixels = tuple(node.pixelData(0, 0, document.width(), document.height()) for node in document.walk())
    return (document.width(), document.height(), document.xRes(), document.tree(), pixels, document.selection())


def check_layers(
    document: FakeDocument, outcome: UpscaleOutcome, client: Client, offset: tuple[int, int] = (0, 0)
) -> None:
    """The group's structure, and every layer's pixels equal to the backend's (8-bit documents)."""
    names = outcome.names
    group = document.node(names.group)
    assert [(node.name(), node.type()) for node in group.childNodes()] == [
        (names.reference, "paintlayer"),
        (names.detail, "paintlayer"),
        (names.artifact_map, "paintlayer"),
    ]
    detail = document.node(names.detail)
    assert [(node.name(), node.type()) for node in detail.childNodes()] == [(names.mask, "transparencymask")]
    assert not document.node(names.artifact_map).visible() and detail.visible()
    x, y = offset
    w, h = outcome.width, outcome.height
    pairs: list[tuple[str, LayerName]] = [(names.reference, "reference"), (names.detail, "detail")]
    for node_name, layer in pairs:
        assert document.node(node_name).pixelData(x, y, w, h) == expected_8bit(
            layer_array(client, outcome.job_id, layer)
        )
    mask = layer_array(client, outcome.job_id, "mask")[..., 0].astype(np.float64)
    expected_mask = np.floor(mask * 255 + 0.5).astype(np.uint8).tobytes()
    assert document.node(names.mask).pixelData(x, y, w, h) == expected_mask
    artifact_map = layer_array(client, outcome.job_id, "map")[..., 0].astype(np.float64)
    gray = np.floor(artifact_map * 255 + 0.5).astype(np.uint8)[..., None]
    assert document.node(names.artifact_map).pixelData(x, y, w, h) == expected_8bit(np.repeat(gray, 3, axis=-1))


@pytest.mark.parametrize("version", ["5.2.0", "5.1.5"])
def test_the_document_is_scaled_and_gets_the_ldl_group(photo: np.ndarray, client: Client, version: str) -> None:
    host = FakeKrita(version)
    document = host.open_document(bgra(rgba(photo)), W, H, "RGBA", "U8")
    selection = FakeSelection(3, 4, 10, 8)
    document.setSelection(selection)
    seen: list[tuple[int, int, str]] = []
    outcome = upscale_document(document, REQUEST, client, host=host, on_progress=lambda *p: seen.append(p))
    assert (outcome.width, outcome.height, outcome.scale, outcome.offset) == (W * 4, H * 4, 4, (0, 0))
    assert outcome.document is document and outcome.node_names == (
        "LDL",
        "LDL reference",
        "LDL detail",
        "LDL mask",
        "LDL artifact map",
    )
    assert (document.width(), document.height()) == (W * 4, H * 4)
    assert (document.xRes(), document.yRes()) == (300.0, 300.0)  # scaleImage alone would leave 288
    assert ("scaleImage", W * 4, H * 4, 300, 300, "Bicubic") in document.changes
    # The group sits right above the upscaled layer, which Krita resampled with the rest of the document.
    assert [name for depth, name, _ in document.tree() if depth == 0] == ["Background", "LDL"]
    assert len(document.node("Background").pixelData(0, 0, W * 4, H * 4)) == W * H * 16 * 4
    check_layers(document, outcome, client)
    stages = {stage for _, _, stage in seen}
    assert {"upload", "download", "convert"} <= stages
    # The selection stays (Krita's mask action would have turned it into the mask). On 5.1 the action leaves the new
    # mask active, ready to paint on.
    active = document.activeNode()
    assert active is document.node("LDL mask" if version == "5.1.5" else "Background")
    assert document.selection() is not None and document.selection().coverage == selection.coverage  # type: ignore[union-attr]
    assert host.mask_action.triggered == (1 if version == "5.1.5" else 0)


def test_a_second_upscale_adds_a_numbered_group(photo: np.ndarray, client: Client) -> None:
    host = FakeKrita()
    document = host.open_document(bgra(rgba(photo)), W, H, "RGBA", "U8")
    upscale_document(
        document,
        UpscaleRequest(SubmitOptions(model=COMPACT, reference=ReferenceSource.parse("lanczos"), scale=2)),
        client,
        host=host,
    )
    document.setActiveNode(document.node("Background"))
    second = upscale_document(
        document,
        UpscaleRequest(SubmitOptions(model=COMPACT, reference=ReferenceSource.parse("lanczos"), scale=2)),
        client,
        host=host,
    )
    assert second.names.group == "LDL 2" and second.names.mask == "LDL mask 2"
    assert (document.width(), document.height()) == (W * 4, H * 4)
    check_layers(document, second, client)


@pytest.mark.parametrize("version", ["5.2.0", "5.1.5"])
def test_a_failed_job_leaves_the_document_untouched(photo: np.ndarray, client: Client, version: str) -> None:
    host = FakeKrita(version)
    document = host.open_document(bgra(rgba(photo)), W, H, "RGBA", "U8")
    document.setSelection(FakeSelection(1, 1, 4, 4))
    before = snapshot(document)
    failing = UpscaleRequest(
        SubmitOptions(model=COMPACT, reference=ReferenceSource.parse("lanczos"), device="cpu", precision=Precision.FP16)
    )
    with pytest.raises(BackendFailed) as caught:
        upscale_document(document, failing, client, host=host)
    assert caught.value.code == "unsupported_device"
    assert "fp16" in caught.value.message and caught.value.hint
    assert document.changes == [] and snapshot(document) == before
    assert host.mask_action.triggered == 0


def test_an_unknown_model_is_the_backends_error(photo: np.ndarray, client: Client) -> None:
    host = FakeKrita()
    document = host.open_document(bgra(rgba(photo)), W, H, "RGBA", "U8")
    with pytest.raises(BackendFailed) as caught:
        upscale_document(document, UpscaleRequest(SubmitOptions(model="no-such-model")), client, host=host)
    assert caught.value.code == "unknown_model" and caught.value.hint
    assert document.changes == []


def test_the_selection_goes_to_a_new_document(photo: np.ndarray, client: Client) -> None:
    host = FakeKrita()
    document = host.open_document(bgra(rgba(photo)), W, H, "RGBA", "U8")
    document.setSelection(FakeSelection(8, 4, 12, 10))
    before = snapshot(document)
    request = UpscaleRequest(
        SubmitOptions(model=COMPACT, reference=ReferenceSource.parse("lanczos"), scale=2), target="new_document"
    )
    outcome = upscale_document(document, request, client, host=host)
    created = outcome.document
    assert created is not document and snapshot(document) == before
    assert (created.width(), created.height(), outcome.width, outcome.height) == (24, 20, 24, 20)
    assert (created.colorModel(), created.colorDepth(), created.xRes()) == ("RGBA", "U8", 300.0)
    assert [name for depth, name, _ in created.tree() if depth == 0] == ["LDL"]  # the new image's Background went
    assert host.window.activeView().document() is created  # type: ignore[union-attr]
    check_layers(created, outcome, client)


@pytest.mark.parametrize("version", ["5.2.0", "5.1.5"])
def test_the_selection_goes_to_a_new_layer_group_at_its_place(photo: np.ndarray, client: Client, version: str) -> None:
    host = FakeKrita(version)
    document = host.open_document(bgra(rgba(photo)), W, H, "RGBA", "U8")
    document.setSelection(FakeSelection(8, 4, 12, 10))
    request = UpscaleRequest(
        SubmitOptions(model=COMPACT, reference=ReferenceSource.parse("lanczos"), scale=2), target="new_layer"
    )
    outcome = upscale_document(document, request, client, host=host)
    assert (document.width(), document.height()) == (W, H)
    assert (outcome.offset, outcome.width, outcome.height) == ((8, 4), 24, 20)
    check_layers(document, outcome, client, offset=(8, 4))


def test_legacy_krita_needs_the_document_in_a_window(photo: np.ndarray, client: Client) -> None:
    host = FakeKrita("5.1.5")
    document = host.open_document(bgra(rgba(photo)), W, H, "RGBA", "U8")
    other = host.open_document(bgra(rgba(photo)), W, H, "RGBA", "U8")
    assert host.window.activeView().document() is other  # type: ignore[union-attr]
    outcome = upscale_document(document, REQUEST, client, host=host)  # brought to the front, as a tab click would
    check_layers(document, outcome, client)
    hidden = host.createDocument(W, H, "hidden", "RGBA", "U8", "", 72.0)
    hidden.node("Background").setPixelData(bgra(rgba(photo)), 0, 0, W, H)
    hidden.changes.clear()
    with pytest.raises(PluginError, match="active window") as caught:
        upscale_document(hidden, REQUEST, client, host=host)
    assert "tab" in caught.value.hint and hidden.changes == []


def test_a_newer_krita_whose_masks_keep_no_pixels_falls_back_to_the_action(photo: np.ndarray, client: Client) -> None:
    host = FakeKrita("5.3.0", masks_have_pixels=False)
    document = host.open_document(bgra(rgba(photo)), W, H, "RGBA", "U8")
    outcome = upscale_document(document, REQUEST, client, host=host)
    assert host.mask_action.triggered == 1
    check_layers(document, outcome, client)


def test_a_new_image_that_cannot_be_finished_is_closed(
    photo: np.ndarray, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = FakeKrita("5.1.5")
    document = host.open_document(bgra(rgba(photo)), W, H, "RGBA", "U8")
    monkeypatch.setattr(host, "action", lambda name: None)  # Krita without the mask action
    before = snapshot(document)
    request = UpscaleRequest(
        SubmitOptions(model=COMPACT, reference=ReferenceSource.parse("lanczos"), scale=2), target="new_document"
    )
    with pytest.raises(PluginError, match="transparency mask"):
        upscale_document(document, request, client, host=host)
    created = host.documents[-1]
    assert created is not document and created.closed
    assert snapshot(document) == before


@pytest.mark.parametrize(
    ("model", "depth", "dtype", "transparent"),
    [
        ("RGBA", "U16", np.uint16, True),
        ("RGBA", "F16", np.float16, False),
        ("RGBA", "F32", np.float32, True),
        ("GRAYA", "U8", np.uint8, False),
        ("GRAYA", "U16", np.uint16, True),
    ],
)
def test_every_depth_keeps_its_depth(
    photo: np.ndarray, client: Client, model: str, depth: str, dtype: type, transparent: bool
) -> None:
    host = FakeKrita()
    pixels = rgba(photo, dtype, transparent)
    if model == "GRAYA":
        pixels = pixels[..., [1, 3]]  # the green channel as gray, and alpha
        data = np.ascontiguousarray(pixels).tobytes()
    else:
        data = bgra(pixels) if depth.startswith("U") else pixels.tobytes()
    document = host.open_document(data, W, H, model, depth)
    outcome = upscale_document(document, REQUEST, client, host=host)
    fmt = PixelFormat(model, depth)
    assert (document.colorModel(), document.colorDepth()) == (model, depth)
    pairs: list[tuple[str, LayerName]] = [(outcome.names.reference, "reference"), (outcome.names.detail, "detail")]
    for node_name, layer in pairs:
        raw = client.layer(outcome.job_id, layer, "raw")
        assert raw.channels == (4 if transparent else (1 if model == "GRAYA" else 3))
        assert document.node(node_name).pixelData(0, 0, outcome.width, outcome.height) == from_raw(fmt, raw)
    if depth == "U16" and model == "RGBA":
        reference = layer_array(client, outcome.job_id, "reference")
        got = np.frombuffer(document.node(outcome.names.reference).pixelData(0, 0, W * 4, H * 4), np.uint16)
        np.testing.assert_array_equal(got.reshape(H * 4, W * 4, 4), reference[..., [2, 1, 0, 3]])


def test_unsupported_documents_fail_before_any_job(photo: np.ndarray) -> None:
    host = FakeKrita()
    cmyk = host.createDocument(W, H, "c", "CMYKA", "U8", "", 72.0)
    untouchable: Any = object()  # any use of the client would raise AttributeError
    with pytest.raises(UnsupportedDocument, match="CMYKA"):
        upscale_document(cmyk, REQUEST, untouchable, host=host)
    document = host.open_document(bgra(rgba(photo)), W, H, "RGBA", "U8")
    group = document.createNode("Group", "grouplayer")
    document.rootNode().addChildNode(group, None)
    document.setActiveNode(group)
    with pytest.raises(UnsupportedDocument, match="active paint layer") as caught:
        upscale_document(document, REQUEST, untouchable, host=host)
    assert "Layers docker" in caught.value.hint


def test_cancel_stops_the_job_and_changes_nothing(photo: np.ndarray, client: Client) -> None:
    host = FakeKrita()
    document = host.open_document(bgra(rgba(photo)), W, H, "RGBA", "U8")
    before = snapshot(document)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        upscale_document(document, REQUEST, client, host=host, cancel=cancel)
    cancel = threading.Event()

    def cancel_once_running(done: int, total: int, stage: str) -> None:
        if stage not in ("upload",):
            cancel.set()

    slow = UpscaleRequest(SubmitOptions(model=COMPACT, reference=ReferenceSource.parse("tta:8")))
    with pytest.raises(Cancelled):
        upscale_document(document, slow, client, host=host, cancel=cancel, on_progress=cancel_once_running)
    assert snapshot(document) == before and document.changes == []
    latest = client.jobs()[0]
    assert latest.state.is_final


def test_a_document_changed_during_the_job_is_not_touched(photo: np.ndarray, client: Client) -> None:
    host = FakeKrita()
    document = host.open_document(bgra(rgba(photo)), W, H, "RGBA", "U8")
    prepared = prepare_upscale(document, REQUEST)
    layers = run_job(client, prepared.image, REQUEST.options, prepared.fmt)
    document.scaleImage(W + 1, H, 300, 300, "Bicubic")  # the user resized it meanwhile
    document.changes.clear()
    with pytest.raises(PluginError, match="changed while LDL was working"):
        apply_upscale(prepared, layers, host=host)
    assert document.changes == []


def test_raw_image_sent_for_an_opaque_layer_is_rgb(photo: np.ndarray) -> None:
    host = FakeKrita()
    document = host.open_document(bgra(rgba(photo)), W, H, "RGBA", "U8")
    prepared = prepare_upscale(document, REQUEST)
    assert isinstance(prepared.image, RawImage)
    assert (prepared.image.channels, prepared.image.dtype) == (3, "uint8")
    np.testing.assert_array_equal(np.frombuffer(prepared.image.data, np.uint8).reshape(H, W, 3), photo)
