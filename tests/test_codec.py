"""The codec carries data, never code: faithful round trips, and everything else refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from autograder.protocol.codec import Codec, CodecError, Limits

CODEC = Codec()


def _round_trip(value):
    return CODEC.decode(CODEC.encode(value))


def test_plain_values_come_back_equal_and_with_their_types():
    value = {"a": [1, 2.5, None, True, "é"], "b": (3, (4,)), "c": torch.Size([2, 3]), "d": {}, "big": 10**30}
    back = _round_trip(value)
    assert back == value
    assert type(back["b"]) is tuple
    assert type(back["a"]) is list
    assert type(back["c"]) is torch.Size


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16, torch.int64, torch.int32, torch.bool])
def test_tensors_come_back_bit_for_bit(dtype):
    tensor = (torch.randn(3, 4, 5) * 10).to(dtype)
    back = _round_trip(tensor)
    assert back.dtype == dtype
    assert back.shape == tensor.shape
    assert torch.equal(back, tensor)


def test_views_scalars_empty_tensors_and_requires_grad_survive():
    base = torch.arange(24.0).reshape(4, 6)
    assert torch.equal(_round_trip(base[:, 1::2].T), base[:, 1::2].T)
    assert _round_trip(torch.tensor(3.5)).item() == 3.5
    assert _round_trip(torch.empty(0, 3)).shape == (0, 3)
    leaf = torch.ones(2, requires_grad=True)
    assert _round_trip(leaf).requires_grad


def test_numpy_scalars_become_python_numbers():
    assert _round_trip(np.int64(7)) == 7
    assert type(_round_trip(np.int64(7))) is int
    assert type(_round_trip(np.float32(0.5))) is float


@pytest.mark.parametrize(
    "module",
    [
        nn.RNN(3, 5, num_layers=2, batch_first=True, nonlinearity="relu"),
        nn.GRU(3, 4, bidirectional=True, batch_first=True),
        nn.LSTM(2, 6, num_layers=2, proj_size=3),
        nn.RNNCell(3, 4, bias=False),
        nn.GRUCell(2, 3),
        nn.Linear(4, 2),
        nn.Linear(4, 2, bias=False).double(),
    ],
    ids=lambda m: type(m).__name__,
)
def test_allowed_modules_are_rebuilt_with_the_same_configuration_and_weights(module):
    module.eval()
    back = _round_trip(module)
    assert type(back) is type(module)
    assert repr(back) == repr(module)
    assert not back.training
    state, back_state = module.state_dict(), back.state_dict()
    assert state.keys() == back_state.keys()
    assert all(torch.equal(state[k], back_state[k]) and state[k].dtype == back_state[k].dtype for k in state)


class _Custom:
    pass


@pytest.mark.parametrize(
    "value",
    [
        (x for x in range(3)),
        _Custom(),
        lambda: 1,
        print,
        np.zeros(3),
        {1: "int key"},
        {1, 2},
        b"raw bytes",
        torch.zeros(3).to_sparse(),
        torch.zeros(2, dtype=torch.complex64),
        nn.Sequential(nn.Linear(2, 2)),
        nn.Conv1d(2, 2, 3),
    ],
    ids=lambda v: type(v).__name__,
)
def test_anything_but_data_is_refused_with_its_type_named(value):
    with pytest.raises(CodecError):
        CODEC.encode(value)


def test_a_custom_subclass_of_an_allowed_type_is_refused():
    class SneakyTensor(torch.Tensor):
        pass

    class SneakyInt(int):
        def __eq__(self, other):
            return True

    for value in (torch.zeros(2).as_subclass(SneakyTensor), SneakyInt(3), [SneakyInt(1)]):
        with pytest.raises(CodecError):
            CODEC.encode(value)


def test_limits_bound_what_one_value_may_hold():
    small = Codec(Limits(max_bytes=1000, max_items=10, max_depth=3))
    with pytest.raises(CodecError, match="larger than"):
        small.encode(torch.zeros(1000))
    with pytest.raises(CodecError, match="items"):
        small.encode(list(range(11)))
    with pytest.raises(CodecError, match="deeper"):
        small.encode([[[[[1]]]]])
    with pytest.raises(CodecError, match="digits"):
        CODEC.encode(10**5000)


@pytest.mark.parametrize(
    "tree",
    [
        {"$": "pickle", "v": "cos\nsystem\n"},
        {"$": "tensor", "dtype": "float32", "shape": [10], "data": b"\x00" * 4, "requires_grad": False},
        {"$": "tensor", "dtype": "object", "shape": [1], "data": b"\x00" * 8, "requires_grad": False},
        {"$": "tensor", "dtype": "int64", "shape": [1], "data": b"\x00" * 8, "requires_grad": True},
        {"$": "module", "class": "Module", "init": {}, "state": {}, "training": True},
        {
            "$": "module",
            "class": "Linear",
            "init": {"in_features": 10**9, "out_features": 10**9},
            "state": {},
            "training": True,
        },
        {
            "$": "module",
            "class": "Linear",
            "init": {"in_features": 2, "out_features": 2, "device": "cuda"},
            "state": {},
            "training": True,
        },
        {"$": "module", "class": "GRU", "init": {"input_size": 2}, "state": {}, "training": True},
        {"$": "dict", "v": [[1, 2]]},
        {"$": "list", "v": "not a list"},
        {"unknown": 1},
        object(),
    ],
    ids=[
        "unknown-kind",
        "short-data",
        "bad-dtype",
        "int-grad",
        "bare-module",
        "huge-module",
        "extra-init",
        "missing-init",
        "int-key",
        "list-not-list",
        "no-tag",
        "object",
    ],
)
def test_forged_trees_are_refused_without_building_anything_large(tree):
    with pytest.raises(CodecError):
        CODEC.decode(tree)


def test_a_modules_accumulated_gradients_cross_too():
    layer = nn.Linear(3, 2)
    layer(torch.ones(1, 3)).sum().backward()
    back = _round_trip(layer)
    assert torch.equal(back.weight.grad, layer.weight.grad)
    assert torch.equal(back.bias.grad, layer.bias.grad)
    assert _round_trip(nn.Linear(3, 2)).weight.grad is None
