"""Isolation between tests: the process-wide state a test could leave behind, summarised, and the
notebook's files, put back.

A call process (see :mod:`autograder.sandbox.worker`) serves test after test only while it can show that
the state it holds is still the one the notebook left. The namespace's own summary is
:func:`autograder.sandbox.fingerprint.state_fingerprint`; this module adds what lies outside the namespace and
a later test would still see:

- the environment (``os.environ``), the working folder, the signal handlers and the running threads;
- ``sys``: its attributes, its path lists and import hooks, its recursion and integer limits;
- every loaded module's globals (a rebound, added or deleted name in any of them), and the set of
  loaded modules itself;
- the warnings filters; Python's, NumPy's and torch's random generators;
- torch's global switches (grad and inference mode, anomaly detection, deterministic algorithms,
  default dtype and device, threads, matmul precision, oneDNN, autocast, function and dispatch
  modes, saved-tensor hooks) and its global module hooks (not its print options and warning modes,
  which change only what is printed);
- the files in the folders student code can write (:class:`ScratchFiles`): what the notebook left
  there is kept, and put back as it was after a test that changed it.

Reading all of it runs no student code: only built-in types' own methods and torch's getters.
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # signal's C module (no stub): see _signal_handlers
import contextlib
import ctypes
import itertools
import os
import signal
import stat
import sys
import threading
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

FILE_BUDGET = 64 * 2**20  # bytes of the notebook's files kept in memory, to put back after a test
MAX_ENTRIES = 5_000  # files and folders in the writable folders; more, and the state is not summarised


# -- modules ---------------------------------------------------------------------------------------------
def _dict_version_offset() -> int | None:
    """Where a dict keeps its version tag (PEP 509), which CPython 3.11 to 3.13 change on every
    insertion, update and deletion; None when this interpreter's dicts do not behave so."""
    if sys.implementation.name != "cpython" or not (3, 11) <= sys.version_info[:2] <= (3, 13):
        return None
    offset = object.__basicsize__ + ctypes.sizeof(ctypes.c_ssize_t)  # after the header and ma_used
    probe: dict = {}
    seen = [ctypes.c_uint64.from_address(id(probe) + offset).value]
    for change in (lambda: probe.update(a=1), lambda: probe.update(a=2), lambda: probe.pop("a")):
        change()
        seen.append(ctypes.c_uint64.from_address(id(probe) + offset).value)
    return offset if len(set(seen)) == len(seen) else None


_VERSION_OFFSET = _dict_version_offset()
VERSION_TAGS = _VERSION_OFFSET is not None


def dict_version(d: dict) -> int | None:
    """The version tag of ``d`` (None where tags cannot be read)."""
    if _VERSION_OFFSET is None:
        return None
    return ctypes.c_uint64.from_address(id(d) + _VERSION_OFFSET).value


class _ModuleGlobals:
    """Every loaded module's globals, summarised by the identities of their names and values.

    Hashing every identity (46,000 globals with torch loaded) costs milliseconds, so each dict's
    summary is kept with the version tag it was made at, and made again only when that tag moved:
    the tags are gathered in one NumPy read (a view of the address range that holds the modules'
    dicts, indexed at each tag), a few microseconds. A tag also moves when a global is set back to
    the very object it held (``warnings.catch_warnings``, a captured ``sys.stdout``), so the tags
    only say where to look and the identities decide. The summaries are first made in the zygote
    (:func:`prepare`), so a submission and its call processes redo only the modules they touch.
    The dicts read are kept alive here, so every address read is a live dict's.
    """

    def __init__(self) -> None:
        self._clear()

    def _clear(self) -> None:
        self._count = 0  # len(sys.modules) when the arrays below were last extended
        self._modules_tag: int | None = None
        self._dicts: list[dict] = []  # the modules' dicts (a module without one is skipped)
        self._addresses: np.ndarray | None = None  # where each dict's tag lies
        self._read_tags: Callable[[], np.ndarray | None] = lambda: None
        self._tags: np.ndarray | None = None  # the tags the summaries below were made at
        self._identities: np.ndarray | None = None  # each dict's summary (:func:`_identity`)

    def state(self) -> tuple:
        import numpy as np

        tag = dict_version(sys.modules)
        if tag is None or tag != self._modules_tag:  # a module imported, removed or replaced
            self._modules_tag = tag
            grown = len(sys.modules) - self._count
            if tag is not None and self._count and grown > 0:
                # Only the modules added, read from the end: iterating all of sys.modules in a fresh fork
                # writes every module's reference count (copy-on-write faults; docs/performance.md).
                self._add(list(itertools.islice(reversed(sys.modules.values()), grown))[::-1])
            else:
                self._clear()
                self._modules_tag = tag
                self._add(list(sys.modules.values()))
        if _VERSION_OFFSET is None:  # no version tags: every summary made again
            return (tag, hash(tuple(map(_identity, self._dicts))))
        tags = self._read_tags()
        identities = self._identities
        assert identities is not None  # made by _add: sys.modules always holds modules with a dict
        moved = np.flatnonzero(tags != self._tags)
        for index in moved.tolist():
            identities[index] = _identity(self._dicts[index])
        self._tags = tags
        # sys.modules's own tag is part of the state: a test that imports, removes or replaces a module
        # changes it, whatever the arrays follow.
        return (tag, hash(identities.tobytes()))

    def _add(self, modules: list) -> None:
        """The arrays extended with ``modules``' dicts (all of them, the first time)."""
        import numpy as np

        self._count += len(modules)
        dicts = [vars(m) for m in modules if type(getattr(m, "__dict__", None)) is dict]
        self._dicts += dicts
        if _VERSION_OFFSET is None or not dicts:
            return
        addresses = np.array([id(d) + _VERSION_OFFSET for d in dicts], dtype=np.uint64)
        identities = np.array([_identity(d) for d in dicts], dtype=np.int64)
        if self._addresses is not None and self._identities is not None:  # both made together
            addresses = np.concatenate([self._addresses, addresses])
            identities = np.concatenate([self._identities, identities])
        base = int(addresses.min())
        words = (int(addresses.max()) - base) // 8 + 1
        memory = (ctypes.c_char * (words * 8)).from_address(base)
        view = np.ndarray((words,), dtype=np.uint64, buffer=memory)  # type: ignore[arg-type]  # has the buffer protocol
        where = ((addresses - base) // 8).astype(np.intp)
        self._read_tags = lambda: view[where]
        tags = self._read_tags()
        if self._tags is not None:  # the known dicts keep the tags their summaries were made at
            tags[: len(self._tags)] = self._tags
        self._addresses, self._tags, self._identities = addresses, tags, identities


def _identity(d: dict) -> int:
    """A dict's names and values by identity (dict's own methods: no student code runs)."""
    return hash((tuple(map(id, dict.keys(d))), tuple(map(id, dict.values(d)))))


_module_globals = _ModuleGlobals()


def prepare() -> None:
    """Summarise the loaded modules now (the zygote, once its imports are done), for its forks to inherit."""
    _module_globals.state()


# -- the rest of the process -----------------------------------------------------------------------------
def process_state() -> tuple:
    """A summary of the process-wide state outside the notebook's namespace (see the module's doc)."""
    parts: list = [
        hash(tuple(os.environ._data.items())),  # type: ignore[attr-defined]  # the mapping it wraps: no student code runs
        _cwd(),
        sys.getrecursionlimit(),
        sys.get_int_max_str_digits(),
        sys.getswitchinterval(),
        id(sys.gettrace()),
        id(sys.getprofile()),
        hash(tuple(map(id, sys.path))),
        hash(tuple(map(id, sys.meta_path))),
        hash(tuple(map(id, sys.path_hooks))),
        len(sys.path_importer_cache),
        hash(tuple(map(id, warnings.filters))),
        hash(tuple(threading._active)),  # type: ignore[attr-defined]  # a thread a test started would run on (by ident: fork makes new objects)
        hash(_signal_handlers()),
        *_module_globals.state(),
        hash(_random_state()),
    ]
    parts += _torch_state()
    return tuple(parts)


def _cwd() -> str:
    try:
        return os.getcwd()
    except OSError:  # the folder was removed
        return ""


_SIGNALS = sorted(int(number) for number in signal.valid_signals() if number not in (signal.SIGKILL, signal.SIGSTOP))


def _signal_handlers() -> tuple:
    # The C getter (no enum made per signal); SIG_DFL and SIG_IGN by value, since a handler put back
    # through signal.signal() is then its enum, not the int it was.
    handlers = map(_signal.getsignal, _SIGNALS)
    return tuple(h if type(h) is int else int.__int__(h) if isinstance(h, int) else id(h) for h in handlers)


def _random_state() -> tuple:
    import random

    generator = random._inst
    if _RANDOM_OFFSET is not None and type(generator) is random.Random:  # its C state read in place
        gauss_next = generator.gauss_next  # type: ignore[attr-defined]  # the C object's own, no stub lists it
        state = [ctypes.string_at(id(generator) + _RANDOM_OFFSET, _MT19937_BYTES), gauss_next]
    else:
        state = [random.getstate()]
    numpy_random = sys.modules.get("numpy.random")
    if numpy_random is not None:
        with contextlib.suppress(Exception):  # NumPy's global generator: its C state read in place
            generator = numpy_random.mtrand._rand._bit_generator
            address = _numpy_state.get(id(generator))
            if address is None:
                address = _numpy_state[id(generator)] = (generator, generator.ctypes.state_address)
            state.append(ctypes.string_at(address[1], _MT19937_BYTES))
    return tuple(state)


_numpy_state: dict[int, tuple] = {}  # id of NumPy's global bit generator -> (it, the address of its state)
_MT19937_BYTES = 624 * 4 + 4  # the Mersenne Twister's key and position


def _random_offset() -> int | None:
    """Where a ``random.Random`` keeps its Mersenne Twister (CPython's RandomObject: after the object's
    header, its position then its key), checked against ``getstate()``; None if it is not there."""
    import random
    import struct

    if sys.implementation.name != "cpython":
        return None
    probe = random.Random(12345)
    probe.random()
    _, words, _ = probe.getstate()
    expected = struct.pack("<i624I", words[-1], *words[:-1])
    offset = object.__basicsize__
    try:
        found = ctypes.string_at(id(probe) + offset, _MT19937_BYTES)
    except (OSError, ValueError):
        return None
    return offset if found == expected else None


_RANDOM_OFFSET = _random_offset()


def _torch_state() -> list:
    torch = sys.modules.get("torch")
    if torch is None:
        return []
    from torch.nn.modules import module

    # The switches that change what a later call computes or raises. Grad mode, default dtype and threads
    # are put back after every call (transport.torch_globals_restored); print options and warning modes
    # change only what is printed.
    state = [
        torch.is_inference_mode_enabled(),
        torch.is_anomaly_enabled(),
        torch.is_anomaly_check_nan_enabled(),
        torch.are_deterministic_algorithms_enabled(),
        torch.get_float32_matmul_precision(),
        torch._C._get_mkldnn_enabled(),
        torch._C._is_fwd_grad_enabled(),
        torch._C._is_multithreading_enabled(),
        torch._C._is_view_replay_enabled(),
        torch._C._is_torch_function_mode_enabled(),  # set_default_device() is one of these modes
        torch._C._len_torch_function_stack(),
        torch._C._len_torch_dispatch_stack(),
        id(torch._C._autograd._top_saved_tensors_default_hooks(False)),
        hash(torch.random.get_rng_state().numpy().tobytes()),
    ]
    with contextlib.suppress(Exception):  # an older or newer torch without the getter
        state.append(torch._C._is_any_autocast_enabled())
    for name in _MODULE_HOOKS:  # register_module_forward_hook() and the like, process-wide
        value = vars(module).get(name)
        if isinstance(value, dict):
            state.append(hash(tuple(map(id, dict.values(value)))))  # dict's own method: no student code runs
    return state


_MODULE_HOOKS = (
    "_global_buffer_registration_hooks",
    "_global_module_registration_hooks",
    "_global_parameter_registration_hooks",
    "_global_backward_pre_hooks",
    "_global_backward_hooks",
    "_global_forward_pre_hooks",
    "_global_forward_hooks",
    "_global_forward_hooks_always_called",
    "_global_forward_hooks_with_kwargs",
)


# -- files -----------------------------------------------------------------------------------------------
class ScratchFiles:
    """The entries of the folders student code can write, as the notebook left them, and a way back.

    Each entry is read without following links, on the folder's own file system only (a folder
    bound there read-only, such as a venv under ``/tmp``, is not walked). The content of the
    notebook's regular files is kept up to ``budget`` bytes; :meth:`restore` removes what a test
    added, and rewrites what it changed or removed. A file over the budget that a test changed or
    removed cannot be put back: it is removed.
    """

    def __init__(self, roots: list[str], budget: int = FILE_BUDGET, max_entries: int = MAX_ENTRIES) -> None:
        self.roots = [root for root in roots if os.path.isdir(root)]
        self.max_entries = max_entries
        self._watched_for: dict | None = None
        self._watched_paths: list[str] = []
        self.entries = self.scan()
        self.contents: dict[str, bytes] = {}
        left = budget
        for path, entry in sorted((self.entries or {}).items()):
            if entry[0] == "f" and entry[2] <= left:
                data = _read_regular(path, entry[2])
                if data is not None:
                    self.contents[path] = data
                    left -= len(data)

    def scan(self, unlimited: bool = False) -> dict[str, tuple] | None:
        """Every entry under the roots: path -> (kind, mode, size, mtime, ctime); None if there are too many."""
        found: dict[str, tuple] = {}
        limit = sys.maxsize if unlimited else self.max_entries
        for root in self.roots:
            try:
                device = os.lstat(root).st_dev
            except OSError:
                continue
            stack = [root]
            while stack:
                folder = stack.pop()
                try:
                    with os.scandir(folder) as listing:
                        items = list(listing)
                except OSError:
                    continue
                for item in items:
                    if len(found) >= limit:
                        return None
                    try:
                        info = item.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    if info.st_dev != device:
                        continue  # another file system bound here (read-only): not the student's to write
                    found[item.path] = _entry(item.path, info)
                    if stat.S_ISDIR(info.st_mode):
                        stack.append(item.path)
        return found

    def state(self) -> int | None:
        """A summary of the folders, one ``lstat`` for each root and each entry the notebook left (a few
        microseconds): an entry added, removed or renamed moves its folder's change time, a write its file's."""
        if self.entries is None:
            return None
        parts: list[tuple[int, int, int, int] | None] = []
        for path in self._watched:
            try:
                info = os.lstat(path)
            except OSError:
                parts.append(None)
                continue
            parts.append((info.st_mode, info.st_size, info.st_mtime_ns, info.st_ctime_ns))
        return hash(tuple(parts))

    @property
    def _watched(self) -> list[str]:
        if self._watched_for is not self.entries:
            self._watched_paths = [*self.roots, *sorted(self.entries or ())]
            self._watched_for = self.entries
        return self._watched_paths

    def restore(self) -> bool:
        """Put the notebook's files back; True when anything had changed."""
        if self.entries is None:  # the notebook left too many entries to keep track of: left as they are
            return False
        now = self.scan()
        if now == self.entries:
            return False
        before = self.entries
        now = now if now is not None else self.scan(unlimited=True)
        assert now is not None  # an unlimited scan always lists its entries
        for path in sorted(now, reverse=True):  # the deepest first
            if path not in before or now[path][0] != before[path][0]:
                _remove(path)
        for path, entry in sorted(before.items()):
            current = _lstat_entry(path)
            if current == entry:
                continue
            if entry[0] == "d":
                with contextlib.suppress(OSError):
                    os.makedirs(path, exist_ok=True)
                    os.chmod(path, stat.S_IMODE(entry[1]))
            elif entry[0] == "f" and path in self.contents:
                _rewrite(path, self.contents[path], entry)
            elif entry[0] == "l":
                _remove(path)
                with contextlib.suppress(OSError):
                    os.symlink(entry[2], path)
            else:
                _remove(path)  # over the budget, or a FIFO or socket: cannot be made again as it was
        self.entries = self.scan()  # the restored files have new change times
        return True


def _entry(path: str, info: os.stat_result) -> tuple:
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        return ("d", mode)
    if stat.S_ISREG(mode):
        return ("f", mode, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    if stat.S_ISLNK(mode):
        try:
            return ("l", mode, os.readlink(path))
        except OSError:
            return ("l", mode, "")
    return ("o", mode, info.st_ino, info.st_ctime_ns)


def _lstat_entry(path: str) -> tuple | None:
    try:
        return _entry(path, os.lstat(path))
    except OSError:
        return None


def _read_regular(path: str, size: int) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        chunks, left = [], size
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def _rewrite(path: str, data: bytes, entry: tuple) -> None:
    _remove_if_not_file(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError:
        return
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fchmod(fd, stat.S_IMODE(entry[1]))
        os.utime(fd, ns=(entry[3], entry[3]))
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_if_not_file(path: str) -> None:
    with contextlib.suppress(OSError):
        if not stat.S_ISREG(os.lstat(path).st_mode):
            _remove(path)


def _remove(path: str) -> None:
    import shutil

    with contextlib.suppress(OSError):
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)
