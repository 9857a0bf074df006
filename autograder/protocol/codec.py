"""Codec: the only values that cross between student code and the grader, as data, never as code.

A value is encoded into a tree of plain values (None, bool, int, float, str, bytes, lists and
str-keyed dicts), which any transport can carry, and decoded into fresh objects on the other
side. Accepted: None, bool, int, float, str, list, tuple, str-keyed dict, ``torch.Size``, NumPy
scalars (as Python numbers), dense CPU tensors of the allow-listed dtypes, and the allow-listed
``nn`` modules (rebuilt from their class, constructor arguments, state dict and the ``.grad``
their parameters hold). Nothing else:
no pickle, no callables, no custom classes, so the grader never runs an object the student made.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import torch
from torch import nn

from autograder.protocol import wire

DTYPES: dict[str, torch.dtype] = {
    "float32": torch.float32,
    "float64": torch.float64,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "int64": torch.int64,
    "int32": torch.int32,
    "int16": torch.int16,
    "int8": torch.int8,
    "uint8": torch.uint8,
    "bool": torch.bool,
}
_DTYPE_NAMES = {dtype: name for name, dtype in DTYPES.items()}

# Recurrent layers, cells and the linear head: what the assignment passes and may get back.
_RECURRENT = ("RNN", "GRU", "LSTM")
_CELLS = ("RNNCell", "GRUCell", "LSTMCell")
MODULES: dict[str, type[nn.Module]] = {name: getattr(nn, name) for name in (*_RECURRENT, *_CELLS, "Linear")}

_TAG = "$"  # every container, tensor and module is a dict carrying its kind under this key


class CodecError(ValueError):
    """A value outside the codec (a generator, a custom object, a tensor too large, a forged tree)."""


@dataclass(frozen=True)
class Limits:
    """Bounds on one encoded value, so that a result cannot exhaust the grader's memory."""

    max_bytes: int = wire.REPLY.blob_bytes  # all tensor data in one value (what the grader reads of a reply)
    max_items: int = 500_000  # elements of lists, tuples and dicts, all nesting levels together
    # Each tensor and each container costs the grader a Python object to build, a tensor far more than its
    # bytes: these bounds are far above what the contract's values hold (a tensor or two, a module's
    # parameters, a few tuples), far below a value that would keep the grader busy for seconds.
    max_tensors: int = wire.REPLY.blobs  # tensors, a module's parameters and their gradients included
    max_containers: int = 10_000  # lists, tuples, dicts, torch.Size and modules
    max_depth: int = 32
    max_str: int = 1_000_000  # characters of one string
    max_int_digits: int = 4_300  # Python's own default limit for int <-> str conversion


class Codec:
    """Encodes values into plain trees and decodes them back, within ``limits``."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()

    # -- encoding -------------------------------------------------------------------------------
    def encode(self, value: object) -> object:
        budget = _Budget(self.limits)
        return self._encode(value, budget, 0)

    # Any: the value is dispatched on its exact type (``kind``), which mypy cannot narrow it by.
    def _encode(self, value: Any, budget: _Budget, depth: int) -> object:
        if depth > self.limits.max_depth:
            raise CodecError(_REASONS["depth"].format(self.limits.max_depth))
        kind = type(value)
        if value is None or kind is bool:
            return value
        if kind is int:
            _check_int(value, self.limits)
            return value
        if kind is float:
            return value
        if kind is str:
            budget.text(value)
            return value
        if isinstance(value, np.generic) and kind in _NUMPY_SCALARS:
            return self._encode(value.item(), budget, depth)
        if kind is torch.Size:
            budget.container()
            return {_TAG: "size", "v": [int(n) for n in value]}
        if kind in (list, tuple):
            budget.container()
            budget.items(len(value))
            items = [self._encode(item, budget, depth + 1) for item in value]
            return {_TAG: "list" if kind is list else "tuple", "v": items}
        if issubclass(kind, dict):  # an OrderedDict or a defaultdict is a dict to the student: read as one
            budget.container()
            budget.items(dict.__len__(value))
            pairs = []
            for key, item in dict.items(value):  # dict's own methods: a subclass's overrides never run here
                if type(key) is not str:
                    raise CodecError(_REASONS["key"].format(type(key).__name__))
                budget.text(key)
                pairs.append([key, self._encode(item, budget, depth + 1)])
            return {_TAG: "dict", "v": pairs}
        if kind in (torch.Tensor, nn.Parameter):
            return self._encode_tensor(value, budget)
        if kind in MODULES.values():
            return self._encode_module(value, budget)
        raise CodecError(_refusal(kind))

    def _encode_tensor(self, tensor: torch.Tensor, budget: _Budget) -> dict:
        if tensor.layout is not torch.strided or tensor.device.type != "cpu":
            raise CodecError(_REASONS["layout"].format(f"{tensor.layout} on {tensor.device}"))
        if tensor.dtype not in _DTYPE_NAMES:
            raise CodecError(_REASONS["dtype"].format(tensor.dtype))
        budget.tensor()
        data = tensor.detach().contiguous()
        size = data.numel() * data.element_size()
        budget.bytes(size)
        raw = data.reshape(-1).view(torch.uint8).numpy().tobytes() if data.numel() else b""
        return {
            _TAG: "tensor",
            "dtype": _DTYPE_NAMES[tensor.dtype],
            "shape": list(tensor.shape),
            "data": raw,
            "requires_grad": bool(tensor.requires_grad),
        }

    def _encode_module(self, module: nn.Module, budget: _Budget) -> dict:
        if list(module.buffers()) or list(module.children()):  # type: ignore[arg-type]  # mypy types `or` by its left
            raise CodecError(_REASONS["module"].format(type(module).__name__))
        budget.container()
        state, grads = {}, {}
        for name, param in module.named_parameters():
            state[name] = self._encode_tensor(param, budget)
            if param.grad is not None:  # accumulated by a backward(): part of what a call may change
                grads[name] = self._encode_tensor(param.grad, budget)
        return {
            _TAG: "module",
            "class": type(module).__name__,
            "init": _constructor_arguments(module),
            "state": state,
            "grads": grads,
            "training": bool(module.training),
        }

    # -- decoding -------------------------------------------------------------------------------
    def decode(self, tree: object) -> object:
        budget = _Budget(self.limits)
        return self._decode(tree, budget, 0)

    # Any: the tree is dispatched on its exact type (``kind``), which mypy cannot narrow it by.
    def _decode(self, tree: Any, budget: _Budget, depth: int) -> object:
        if depth > self.limits.max_depth:
            raise CodecError(_REASONS["depth"].format(self.limits.max_depth))
        kind = type(tree)
        if tree is None or kind in (bool, float):
            return tree
        if kind is int:
            _check_int(tree, self.limits)
            return tree
        if kind is str:
            budget.text(tree)
            return tree
        if kind is not dict or type(tree.get(_TAG)) is not str:
            raise CodecError(f"malformed encoded value of type {kind.__name__}")
        tag = tree[_TAG]
        if tag in ("list", "tuple", "dict", "size", "module"):
            budget.container()
        if tag in ("list", "tuple"):
            items = _field(tree, "v", list)
            budget.items(len(items))
            decoded = [self._decode(item, budget, depth + 1) for item in items]
            return decoded if tag == "list" else tuple(decoded)
        if tag == "dict":
            pairs = _field(tree, "v", list)
            budget.items(len(pairs))
            result = {}
            for pair in pairs:
                if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                    raise CodecError("malformed encoded dict")
                budget.text(pair[0])
                result[pair[0]] = self._decode(pair[1], budget, depth + 1)
            return result
        if tag == "size":
            dims = _field(tree, "v", list)
            if not all(type(n) is int and 0 <= n < 2**62 for n in dims):
                raise CodecError("malformed torch.Size")
            return torch.Size(dims)
        if tag == "tensor":
            return self._decode_tensor(tree, budget)
        if tag == "module":
            return self._decode_module(tree, budget)
        raise CodecError(f"unknown encoded kind {tag!r}")

    def _decode_tensor(self, tree: dict, budget: _Budget) -> torch.Tensor:
        dtype = DTYPES.get(_field(tree, "dtype", str))
        shape = _field(tree, "shape", list)
        data: Any = tree.get("data")  # its exact type is checked below
        budget.tensor()
        if type(data) not in (bytes, bytearray):
            raise CodecError("malformed encoded value: field 'data'")
        if dtype is None or not all(type(n) is int and n >= 0 for n in shape) or len(shape) > 64:
            raise CodecError("malformed encoded tensor")
        numel = math.prod(shape)
        element_size = torch.empty((), dtype=dtype).element_size()
        if len(data) != numel * element_size:
            raise CodecError("encoded tensor data does not match its shape")
        budget.bytes(len(data))
        if numel == 0:
            tensor = torch.empty(shape, dtype=dtype)
        else:
            if type(data) is bytearray:  # read from the wire into a buffer of its own: the tensor takes it
                tree["data"] = None  # (a second decode of this tree fails, instead of sharing its memory)
                buffer = data
            else:
                buffer = bytearray(data)
            tensor = torch.frombuffer(buffer, dtype=torch.uint8).view(dtype).reshape(shape)
        if _field(tree, "requires_grad", bool):
            if not (tensor.is_floating_point()):
                raise CodecError("only floating-point tensors can require grad")
            tensor.requires_grad_(True)
        return tensor

    def _decode_module(self, tree: dict, budget: _Budget) -> nn.Module:
        cls = MODULES.get(_field(tree, "class", str))
        init = _field(tree, "init", dict)
        state_tree = _field(tree, "state", dict)
        if cls is None:
            raise CodecError("unknown module class")
        if set(init) - _ALLOWED_INIT[cls.__name__] or not all(
            type(v) in (int, bool, float, str) for v in init.values()
        ):
            raise CodecError(f"malformed constructor arguments for {cls.__name__}")
        state = {name: self._decode_tensor(_as_tagged(t), budget) for name, t in state_tree.items()}
        try:
            dtypes = {t.dtype for t in state.values()}
            dtype = dtypes.pop() if len(dtypes) == 1 else torch.float32
            # Sized by formula before anything is built: a forged tree cannot make us allocate a
            # module larger than the state it carries. (The meta device would do the same, but its
            # first use costs half a second of lazy set-up inside torch.)
            claimed = _parameter_count(cls.__name__, init)
            if claimed != sum(t.numel() for t in state.values()):
                raise CodecError(f"state dict does not match {cls.__name__}({init})")
            # Its random initialisation is overwritten below; it must not move the global generator,
            # whose stream belongs to the student's code (and a moved generator is state a test would see).
            generator = torch.random.get_rng_state()
            try:
                module = cls(**init, dtype=dtype)
            finally:
                torch.random.set_rng_state(generator)
            expected = {name: tuple(p.shape) for name, p in module.named_parameters()}
            if expected != {name: tuple(t.shape) for name, t in state.items()}:
                raise CodecError(f"state dict does not match {cls.__name__}({init})")
            grads = {name: self._decode_tensor(_as_tagged(t), budget) for name, t in _grads_field(tree).items()}
            if any(name not in state or grads[name].shape != state[name].shape for name in grads):
                raise CodecError(f"gradients do not match {cls.__name__}({init})")
            with torch.no_grad():
                for name, param in module.named_parameters():
                    param.copy_(state[name])
                    param.requires_grad_(state[name].requires_grad)
                    param.grad = grads.get(name)
        except CodecError:
            raise
        except (KeyError, TypeError, ValueError, RuntimeError) as error:
            raise CodecError(f"cannot rebuild {cls.__name__}: {error}") from None
        module.train(_field(tree, "training", bool))
        return module


_NUMPY_SCALARS = {
    np.bool_,
    np.int8,
    np.int16,
    np.int32,
    np.int64,
    np.uint8,
    np.uint16,
    np.uint32,
    np.uint64,
    np.float16,
    np.float32,
    np.float64,
}

_RECURRENT_INIT = {"input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional"}
_ALLOWED_INIT = {
    "RNN": _RECURRENT_INIT | {"nonlinearity"},
    "GRU": _RECURRENT_INIT,
    "LSTM": _RECURRENT_INIT | {"proj_size"},
    "RNNCell": {"input_size", "hidden_size", "bias", "nonlinearity"},
    "GRUCell": {"input_size", "hidden_size", "bias"},
    "LSTMCell": {"input_size", "hidden_size", "bias"},
    "Linear": {"in_features", "out_features", "bias"},
}


_GATES = {"RNN": 1, "GRU": 3, "LSTM": 4, "RNNCell": 1, "GRUCell": 3, "LSTMCell": 4}


def _parameter_count(name: str, init: dict) -> int:
    """How many numbers the module's parameters hold, from its constructor arguments alone."""
    sizes = {k: v for k, v in init.items() if k in ("input_size", "hidden_size", "num_layers", "proj_size")}
    sizes.update({k: v for k, v in init.items() if k in ("in_features", "out_features")})
    if not all(type(v) is int and 0 <= v < 2**31 for v in sizes.values()):
        raise CodecError(f"malformed sizes for {name}")
    bias = init.get("bias", True)
    if type(bias) is not bool:
        raise CodecError(f"malformed bias for {name}")
    if name == "Linear":
        return init["out_features"] * (init["in_features"] + bias)
    gates, hidden, inputs = _GATES[name], init["hidden_size"], init["input_size"]
    if name in _CELLS:
        return gates * hidden * (inputs + hidden + 2 * bias)
    directions = 2 if init.get("bidirectional") else 1
    projected = init.get("proj_size", 0) or hidden
    total = 0
    for layer in range(init.get("num_layers", 1)):
        layer_input = inputs if layer == 0 else projected * directions
        per_direction = gates * hidden * (layer_input + projected + 2 * bias)
        if init.get("proj_size", 0):
            per_direction += init["proj_size"] * hidden
        total += directions * per_direction
    return total


def _constructor_arguments(module: nn.Module) -> dict:
    name = type(module).__name__
    init: dict[str, object]
    if name == "Linear":
        return {"in_features": module.in_features, "out_features": module.out_features, "bias": module.bias is not None}
    if name in _CELLS:
        init = {"input_size": module.input_size, "hidden_size": module.hidden_size, "bias": module.bias}
        if name == "RNNCell":
            init["nonlinearity"] = module.nonlinearity
        return init
    init = {
        "input_size": module.input_size,
        "hidden_size": module.hidden_size,
        "num_layers": module.num_layers,
        "bias": module.bias,
        "batch_first": module.batch_first,
        "dropout": float(module.dropout),  # type: ignore[arg-type]  # an RNN's: a float (nn.Module says Tensor | Module)
        "bidirectional": module.bidirectional,
    }
    if name == "RNN":
        init["nonlinearity"] = module.nonlinearity
    if name == "LSTM":
        init["proj_size"] = module.proj_size
    return init


class _Budget:
    """Counts what one value uses, against the codec's limits."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.n_bytes = 0
        self.n_items = 0
        self.n_tensors = 0
        self.n_containers = 0

    def bytes(self, n: int) -> None:
        self.n_bytes += n
        if self.n_bytes > self.limits.max_bytes:
            raise CodecError(_REASONS["bytes"].format(self.limits.max_bytes // 2**20))

    def items(self, n: int) -> None:
        self.n_items += n
        if self.n_items > self.limits.max_items:
            raise CodecError(_REASONS["items"].format(self.limits.max_items))

    def tensor(self) -> None:
        self.n_tensors += 1
        if self.n_tensors > self.limits.max_tensors:
            raise CodecError(_REASONS["tensors"].format(self.limits.max_tensors))

    def container(self) -> None:
        self.n_containers += 1
        if self.n_containers > self.limits.max_containers:
            raise CodecError(_REASONS["containers"].format(self.limits.max_containers))

    def text(self, text: str) -> None:
        if len(text) > self.limits.max_str:
            raise CodecError(_REASONS["str"].format(self.limits.max_str))
        self.bytes(len(text))


def _check_int(value: int, limits: Limits) -> None:
    # Below 2 ** (digits * log2(10)), so at most max_int_digits digits: str() (and JSON) can write it.
    if value.bit_length() > int(limits.max_int_digits * math.log2(10)):
        raise CodecError(_REASONS["digits"].format(limits.max_int_digits))


_T = TypeVar("_T")


def _field(tree: dict, key: str, kind: type[_T]) -> _T:
    value = tree.get(key)
    if type(value) is not kind:
        raise CodecError(f"malformed encoded value: field {key!r}")
    return value


def _grads_field(tree: dict) -> dict:
    grads = tree.get("grads", {})
    if type(grads) is not dict:
        raise CodecError("malformed module gradients")
    return grads


def _as_tagged(tree: object) -> dict:
    if type(tree) is not dict or tree.get(_TAG) != "tensor":
        raise CodecError("malformed module state")
    return tree


# Why a value was refused, as CodecError says it (English: the message is all that crosses from the
# worker); read_refusal reads a message back, for the student's own words.
_REASONS = {
    "type": "a value of type {} cannot be passed (only data: numbers, str, tensors, ...)",
    "key": "dict keys must be str, not {}",
    "dtype": "tensors of dtype {} are not accepted",
    "layout": "only dense CPU tensors are accepted, not {}",
    "module": "this {} carries extra state and cannot be passed",
    "bytes": "value larger than {} MiB",
    "items": "value with more than {} items",
    "tensors": "value with more than {} tensors",
    "containers": "value with more than {} lists, tuples or dicts",
    "depth": "value nested deeper than {} levels",
    "str": "string longer than {} characters",
    "digits": "integer with more than {} digits",
}
_READ_BACK = {
    kind: re.compile(re.escape(template).replace(re.escape("{}"), r"(?P<detail>\S(?:.{0,198}\S)?)") + "$")
    for kind, template in _REASONS.items()
}
# The plain types a refused type may derive from, named in its refusal ("collections.OrderedDict (a dict
# subclass)"): the student is told to use the plain type instead.
_PLAIN_BASES = (dict, list, tuple, str, bool, int, float, bytes, set, frozenset, torch.Tensor)
_SUBCLASS = re.compile(r"(?P<type>\S+) \(a (?P<base>\w+) subclass\)$")


@dataclass(frozen=True)
class Refusal:
    """A CodecError's message read back: its kind (a key of ``_REASONS``: ``"type"``, ``"tensors"``, ...; ``""``
    for a forged or malformed tree), the detail it names (a type, a bound) and, for a refused type, the
    plain type it derives from (``"dict"`` for an OrderedDict)."""

    kind: str = ""
    detail: str = ""
    base: str = ""


def read_refusal(reason: str) -> Refusal:
    for kind, pattern in _READ_BACK.items():
        match = pattern.match(reason[:400])
        if match:
            detail = match["detail"]
            subclass = _SUBCLASS.match(detail) if kind == "type" else None
            if subclass:
                return Refusal(kind, subclass["type"], subclass["base"])
            return Refusal(kind, detail)
    return Refusal()


def _refusal(kind: type) -> str:
    base = next((b for b in kind.__mro__[1:] if b in _PLAIN_BASES), None)
    subclass = f" (a {base.__name__} subclass)" if base is not None else ""
    return _REASONS["type"].format(f"{_type_name(kind)}{subclass}")


def _type_name(kind: type) -> str:
    module = getattr(kind, "__module__", "")
    qualname = getattr(kind, "__qualname__", kind.__name__)
    return qualname if module in ("builtins", "__main__", None, "") else f"{module}.{qualname}"
