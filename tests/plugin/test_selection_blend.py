""" "LDL: blend detail into selection": the mask becomes max(mask, selection) inside the selection's box only."""

from __future__ import annotations

import numpy as np
import pytest
from ldl_krita.errors import NothingToBlend
from ldl_krita.layer_stack import LayerContent, add_ldl_group
from ldl_krita.selection_blend import blend_detail_into_selection

from .fake_krita import FakeDocument, FakeKrita, FakeSelection

W, H = 20, 16


def document_with_group(host: FakeKrita, mask: np.ndarray) -> FakeDocument:
    document = host.open_document(b"\x10\x20\x30\xff" * (W * H), W, H, "RGBA", "U8")
    layer = b"\x01\x02\x03\xff" * (W * H)
    content = LayerContent(0, 0, W, H, layer, layer, layer, mask.tobytes())
    add_ldl_group(host, document, content, parent=document.rootNode(), above=document.node("Background"))
    return document


def mask_of(document: FakeDocument, name: str = "LDL mask") -> np.ndarray:
    return np.frombuffer(document.node(name).pixelData(0, 0, W, H), np.uint8).reshape(H, W)


@pytest.mark.parametrize("version", ["5.2.0", "5.1.5"])
def test_the_mask_turns_white_inside_a_feathered_selection_and_stays_elsewhere(version: str) -> None:
    host = FakeKrita(version)
    mask = np.random.default_rng(0).integers(0, 256, (H, W), dtype=np.uint8)
    document = document_with_group(host, mask)
    np.testing.assert_array_equal(mask_of(document), mask)
    coverage = np.zeros((6, 8), np.uint8)
    coverage[1:5, 1:7] = 255
    coverage[0, :] = 100  # a feathered edge
    document.setSelection(FakeSelection(5, 3, 8, 6, coverage.tobytes()))
    blend_detail_into_selection(document)
    expected = mask.copy()
    expected[3:9, 5:13] = np.maximum(mask[3:9, 5:13], coverage)
    np.testing.assert_array_equal(mask_of(document), expected)
    assert (mask_of(document)[4:8, 6:12] == 255).all()


def test_the_group_around_the_active_node_wins_over_the_topmost() -> None:
    host = FakeKrita()
    document = document_with_group(host, np.zeros((H, W), np.uint8))
    layer = b"\x01\x02\x03\xff" * (W * H)
    content = LayerContent(0, 0, W, H, layer, layer, layer, bytes(W * H))
    add_ldl_group(host, document, content, parent=document.rootNode(), above=document.node("LDL"))
    document.setSelection(FakeSelection(0, 0, 2, 2))
    document.setActiveNode(document.node("LDL reference"))
    blend_detail_into_selection(document)
    assert mask_of(document)[0, 0] == 255 and mask_of(document, "LDL mask 2")[0, 0] == 0
    document.setActiveNode(document.node("Background"))
    blend_detail_into_selection(document)
    assert mask_of(document, "LDL mask 2")[0, 0] == 255  # no group around it: the topmost one


def test_without_a_selection_or_a_group_the_errors_say_what_to_do() -> None:
    host = FakeKrita()
    plain = host.open_document(b"\0" * (W * H * 4), W, H, "RGBA", "U8")
    plain.setSelection(FakeSelection(0, 0, 2, 2))
    with pytest.raises(NothingToBlend, match="no LDL group") as caught:
        blend_detail_into_selection(plain)
    assert "Upscale with LDL" in caught.value.hint
    document = document_with_group(host, np.zeros((H, W), np.uint8))
    document.changes.clear()
    with pytest.raises(NothingToBlend, match="no selection"):
        blend_detail_into_selection(document)
    document.node("LDL mask").remove()
    document.setSelection(FakeSelection(0, 0, 2, 2))
    document.changes.clear()
    with pytest.raises(NothingToBlend, match="transparency mask"):
        blend_detail_into_selection(document)
    assert document.changes == []
