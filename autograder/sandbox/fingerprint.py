"""Fingerprint: a summary of the state a student's call could change, to tell a test that left it alone.

A call process (:mod:`autograder.sandbox.worker`) serves test after test only while it can show that
the notebook's state is still the one the first test saw: :func:`state_fingerprint` summarises what is
reachable from the notebook's names (containers, tensors, functions, objects and classes), the modules
they reach and the process-wide state (:mod:`autograder.sandbox.isolation`) into one hash, reading
objects by their base types only so that no student code runs while it does. Untrusted side, like
the worker that calls it: it imports the sandbox's ``isolation`` and the standard library (torch once
called), never the protocol's other side nor anything of :mod:`autograder.grading`.
"""

from __future__ import annotations

import contextlib
import gc
from types import ModuleType

from autograder.sandbox.isolation import VERSION_TAGS, ScratchFiles, dict_version, process_state

_ATOMS = (type(None), bool, int, float, complex, str, bytes)
_ATOM_TYPES = frozenset(_ATOMS)
# How state_fingerprint reads an object, by its type (see _action).
_ATOM, _DICT, _TENSOR, _SKIP, _SEQUENCE, _FUNCTION, _OBJECT, _MODULE, _CLASS, _BYTEARRAY, _UNREADABLE = range(11)
_SEQUENCES = (list, tuple, set, frozenset)


def _action(kind: type, torch: ModuleType) -> int:
    """How :func:`state_fingerprint` reads the objects of type ``kind``."""
    import types

    if issubclass(kind, dict):
        return _DICT
    if issubclass(kind, _SEQUENCES):
        return _SEQUENCE
    if kind is torch.Tensor or kind is torch.nn.Parameter:
        return _TENSOR
    if kind is types.FunctionType:
        return _FUNCTION
    if kind is types.ModuleType:
        return _MODULE
    if issubclass(kind, type):
        return _CLASS
    if kind is bytearray:
        return _BYTEARRAY
    if issubclass(kind, torch.Tensor) or not hasattr(kind, "__dict__") or kind.__module__ == "numpy":
        return _UNREADABLE
    if kind.__module__ in ("builtins", "torch", "torch._C") or kind.__name__.endswith("Type"):
        return _SKIP
    return _OBJECT


_MAX_OBJECTS = 20_000  # a state larger than this is not summarised: every test gets a fresh process


def state_fingerprint(namespace: dict, files: ScratchFiles | None = None) -> int | None:
    """A summary of the state a student's call could change and a later test would see, or None when
    it cannot be summarised (then every test gets a fresh process).

    It covers everything reachable from the notebook's names (containers, tensors by version and
    storage, functions with their defaults and closures, objects and classes by their attributes),
    the attributes of the modules it reaches, of ``builtins`` and of torch's modules and classes
    (see :func:`_namespace_version`), the process-wide state outside the namespace
    (:func:`autograder.sandbox.isolation.process_state`: the environment, ``sys``, every module's globals,
    random generators, torch's switches...) and the entries of the writable folders (``files``). A
    call that rebinds a global, appends to a list, changes a tensor in place, monkeypatches torch,
    sets an environment variable, turns on anomaly detection, draws random numbers or writes a
    file changes it.
    """
    import builtins

    import torch

    parts: list = []
    seen: set[int] = set()
    stack: list = [namespace]
    modules = [builtins, torch, torch.nn, torch.nn.functional, torch.Tensor, torch.nn.Module]
    # How each type's objects are read, decided once per type per fingerprint (about 20 types, 400 objects):
    # from the type alone, by issubclass, so that no object's own __class__ is ever asked.
    actions: dict[type, int] = dict.fromkeys(_ATOMS, _ATOM)
    # a list, tuple or set type -> the base whose iterator reads it
    bases: dict[type, type[list] | type[tuple] | type[set] | type[frozenset]] = {}
    append, extend, pop, push, pushes, add = parts.append, parts.extend, stack.pop, stack.append, stack.extend, seen.add
    while stack:
        obj = pop()
        kind = type(obj)
        action = actions.get(kind)
        if action is None:
            action = actions[kind] = _action(kind, torch)
            if action == _SEQUENCE:  # read by its base type's own iterator
                bases[kind] = next(base for base in _SEQUENCES if issubclass(kind, base))
        if action == _ATOM:
            append(obj)
            continue
        key = id(obj)
        if key in seen:
            append(key)
            continue
        add(key)
        append(key)
        if len(seen) > _MAX_OBJECTS:
            return None
        # The base types' own methods: a subclass's __len__ or items() (student code) never runs here.
        if action == _DICT:
            keys = list(dict.keys(obj))
            append(len(keys))
            if keys:
                if set(map(type, keys)) <= _ATOM_TYPES:  # names: hashed as they are, by str's own hash
                    extend(keys)
                else:  # other keys by identity: their own __hash__ could be student code
                    extend([k if type(k) in _ATOM_TYPES else id(k) for k in keys])
                pushes(list(dict.values(obj)))
        elif action == _TENSOR:
            extend((obj._version, obj.data_ptr(), obj.shape, obj.dtype, obj.requires_grad))
            push(obj.grad if obj.is_leaf else None)
        elif action == _SKIP:
            continue  # dtypes, devices, builtin functions and methods: immutable, their identity is enough
        elif action == _SEQUENCE:
            items = list(bases[kind].__iter__(obj))
            append(len(items))
            pushes(items)
        elif action == _FUNCTION:
            append(id(obj.__code__))
            pushes((obj.__defaults__, obj.__kwdefaults__, obj.__dict__))
            for cell in obj.__closure__ or ():
                with contextlib.suppress(ValueError):  # an empty cell
                    push(cell.cell_contents)
        elif action == _OBJECT:
            try:
                push(object.__getattribute__(obj, "__dict__"))
            except AttributeError:
                return None
        elif action == _MODULE:
            modules.append(obj)
        elif action == _CLASS:
            if type.__getattribute__(obj, "__module__") == "__main__":  # the student's own classes: their attributes
                push(dict(type.__getattribute__(obj, "__dict__")))
        elif action == _BYTEARRAY:
            append(bytes(obj))
        else:
            return None  # a tensor subclass, or state this summary cannot read (numpy arrays...): always fresh
    for module in {id(module): module for module in modules}.values():  # the namespace's torch is torch
        parts.append(_namespace_version(module))
    parts += process_state()
    if files is not None:
        files_state = files.state()
        if files_state is None:  # too many files to keep track of
            return None
        parts.append(files_state)
    return hash(tuple(parts))


# A dict's version tag (PEP 509), read in place of hashing the identities of every value (torch's
# namespace has 1,500); None where this interpreter's dicts have no such tags (the identities are hashed).
read_dict_version = dict_version if VERSION_TAGS else None


def _namespace_version(namespace: object) -> int:
    """A module's or a class's attributes, summarised: changed if any was set, replaced or deleted."""
    attributes: dict[str, object] | None = vars(namespace)
    if type(attributes) is not dict:  # a class's: its mappingproxy holds the dict itself
        attributes = next((d for d in gc.get_referents(attributes) if type(d) is dict), None)
        if attributes is None:
            return hash(tuple(map(id, vars(namespace).values())))
    if read_dict_version is None:
        return hash(tuple(map(id, attributes.values())))
    version = read_dict_version(attributes)
    assert version is not None  # set only with VERSION_TAGS: the tag's offset is known
    return version
