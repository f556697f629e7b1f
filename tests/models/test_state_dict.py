"""The checks every loaded state dict passes (``validate_state_dict``), each at its edge: the last accepted value
and the first refused one. The mutation run's test set for ``ldl_backend/models/state_dict.py``."""

from __future__ import annotations

import pytest
import torch

from ldl_backend.errors import ModelFileError
from ldl_backend.models import state_dict as state_dict_module
from ldl_backend.models.state_dict import block_indices, validate_state_dict

FLOATS = [torch.float16, torch.bfloat16, torch.float32, torch.float64]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("bad", [float("inf"), float("-inf"), float("nan")])
def test_non_finite_weights_are_refused_in_every_float_dtype(bad: float, dtype: torch.dtype) -> None:
    weights = torch.tensor([0.5, bad, -0.25], dtype=dtype)
    with pytest.raises(ModelFileError, match="'w' contains NaN or infinity") as caught:
        validate_state_dict({"ok": torch.zeros(2), "w": weights}, "m.pth")
    assert "m.pth" in str(caught.value) and caught.value.hint


def test_the_largest_values_float32_holds_are_accepted() -> None:
    largest = torch.finfo(torch.float32).max
    for dtype in FLOATS:
        top = min(torch.finfo(dtype).max, largest)
        extreme = torch.tensor([top, -top, torch.finfo(dtype).tiny], dtype=dtype)
        checked = validate_state_dict({"w": extreme}, "m")["w"]
        assert checked.dtype == torch.float32 and bool(torch.isfinite(checked).all())


@pytest.mark.parametrize("value", [torch.finfo(torch.float64).max, -3.5e38])
def test_float64_values_beyond_float32s_range_are_refused(value: float) -> None:
    # Finite as read, infinite once converted: the network would hold infinities.
    with pytest.raises(ModelFileError, match="'w' holds values beyond float32's range") as caught:
        validate_state_dict({"w": torch.tensor([0.5, value], dtype=torch.float64)}, "m.pth")
    assert "m.pth" in str(caught.value) and caught.value.hint


def test_a_float64_tensor_whose_sum_overflows_is_checked_value_by_value() -> None:
    # The finiteness check sums in float64 first; this sum is inf although every value is finite (and refused
    # only by the range check after it, which a NaN never reaches).
    big = torch.finfo(torch.float64).max
    with pytest.raises(ModelFileError, match="beyond float32's range"):
        validate_state_dict({"w": torch.tensor([big, big], dtype=torch.float64)}, "m")
    with pytest.raises(ModelFileError, match="NaN or infinity"):
        validate_state_dict({"w": torch.tensor([big, big, float("nan")], dtype=torch.float64)}, "m")


@pytest.mark.parametrize("dtype", FLOATS)
def test_the_result_is_a_contiguous_detached_float32_copy(dtype: torch.dtype) -> None:
    source = torch.arange(6, dtype=dtype).reshape(2, 3).t().requires_grad_(dtype != torch.bfloat16)
    result = validate_state_dict({"a": source, "b": torch.ones(1, dtype=dtype)}, "m")
    assert list(result) == ["a", "b"]
    assert result["a"].dtype == torch.float32 and result["a"].is_contiguous() and not result["a"].requires_grad
    assert torch.equal(result["a"], source.detach().float())


@pytest.mark.parametrize(
    ("candidate", "message"),
    [
        ({}, "does not contain a state dict \\(found dict\\)"),
        ([torch.zeros(1)], "found list"),
        (None, "found NoneType"),
        ({1: torch.zeros(1)}, "non-text key 1"),
        ({"w": [1.0]}, "'w' is a list, not a tensor"),
        ({"w": torch.zeros(2, dtype=torch.int32)}, "dtype torch.int32, expected floating point"),
        ({"w": torch.zeros(2, dtype=torch.bool)}, "expected floating point"),
        ({"w": torch.zeros(2, dtype=torch.complex64)}, "expected floating point"),
        ({"w": torch.zeros(2, 2).to_sparse()}, "'w' is sparse or quantized"),
        ({"w": torch.zeros((1,) * 6)}, "shape \\(1, 1, 1, 1, 1, 1\\), larger than any supported network"),
    ],
)
def test_what_is_not_a_dense_float_state_dict_is_refused(candidate: object, message: str) -> None:
    with pytest.raises(ModelFileError, match=message) as caught:
        validate_state_dict(candidate, "m.pth")
    assert str(caught.value).startswith("m.pth") and caught.value.hint


@pytest.mark.filterwarnings("ignore:.*quantized tensor creation functions.*:UserWarning")
def test_quantized_weights_are_refused() -> None:
    quantized = torch.quantize_per_tensor(torch.zeros(2), 0.1, 0, torch.quint8)
    with pytest.raises(ModelFileError, match="'w' is sparse or quantized"):
        validate_state_dict({"w": quantized}, "m")


def test_five_dimensions_are_accepted() -> None:
    assert validate_state_dict({"w": torch.zeros((1,) * 5)}, "m")["w"].dim() == 5


def test_the_element_limits_are_inclusive(monkeypatch: pytest.MonkeyPatch) -> None:
    # The real limits (2^28 and 2^29 elements) would take gigabytes to reach; the comparisons are what is tested.
    monkeypatch.setattr(state_dict_module, "MAX_TENSOR_ELEMENTS", 4)
    monkeypatch.setattr(state_dict_module, "MAX_TOTAL_ELEMENTS", 6)
    assert len(validate_state_dict({"a": torch.zeros(4), "b": torch.zeros(2)}, "m")) == 2
    with pytest.raises(ModelFileError, match="'a' has shape \\(5,\\)"):
        validate_state_dict({"a": torch.zeros(5)}, "m")
    with pytest.raises(ModelFileError, match="m holds more than 6 parameters") as caught:
        validate_state_dict({"a": torch.zeros(4), "b": torch.zeros(3)}, "m")
    assert caught.value.hint


def test_block_indices() -> None:
    keys = ["body.0.w", "body.10.w", "body.2.b", "body.2.w", "body.x.w", "bodyx.3.w", "tail.4.w", "body.5"]
    state = dict.fromkeys(keys, torch.zeros(1))
    # The prefix ends with its dot; a key with nothing after the number ("body.5") names no block.
    assert block_indices(state, "body.") == [0, 2, 10]
    assert block_indices(state, "body") == []
    assert block_indices(state, "absent") == []
    assert block_indices({"a.b.7.c": torch.zeros(1)}, "a.b.") == [7]
