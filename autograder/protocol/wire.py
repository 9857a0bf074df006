"""Wire: messages between the trusted grader and the untrusted worker, as data only.

A message is a plain tree (None, bool, int, float, str, bytes, lists, str-keyed dicts). On the
wire it is a frame: a fixed header (JSON length, blob count), the tree as JSON with every
``bytes`` replaced by ``{"$blob": i}``, then the blobs raw (tensor data is never base64'd).
No pickle, no object reconstruction: the receiver gets dicts and lists, and the codec and the
``*_from_wire`` readers below check every field. The reader is given the :class:`Caps` of the
message it expects (the JSON's bytes, the number of blobs, their bytes), checks each against the
frame's header and each blob's length before it allocates anything, and waits at most ``timeout``
seconds, so a hostile worker can neither flood nor stall the grader. The JSON cap is what bounds the
grader's memory: a frame's JSON becomes Python objects at up to 25 times its size (``[[],[],...]``),
while blobs cost their size.
"""

from __future__ import annotations

import json
import os
import select
import struct
import time
from dataclasses import dataclass

from autograder.results import CellRun, ErrorInfo, Frame

_HEADER = struct.Struct("<QI")  # JSON length, number of blobs
_BLOB = struct.Struct("<Q")
_BLOB_KEY = "$blob"
MAX_FRAME = 512 * 2**20


@dataclass(frozen=True)
class Caps:
    """What one frame may hold: bytes of JSON, number of blobs, bytes of blobs in all."""

    json_bytes: int
    blobs: int = 0
    blob_bytes: int = 0


TRUSTED = Caps(MAX_FRAME, 1_000_000, MAX_FRAME)  # the grader's orders, as the worker reads them
CONTROL = Caps(1 << 20)  # a worker's control messages (hello, lane, started, exited...)
# A call's answer: its value's structure as JSON (a list of 100 000 numbers is 1-2 MB), its tensors as
# blobs (the codec's limits are these: autograder.protocol.codec.Limits).
REPLY = Caps(json_bytes=2 * 2**20, blobs=10_000, blob_bytes=64 * 2**20)


class WireError(Exception):
    """The other side sent something that is not a frame, or too much of it."""


class WireTimeout(WireError):
    """Nothing (or not all of a frame) arrived in time."""


class WireClosed(WireError):
    """The other side is gone (end of file)."""


def pack(message: object) -> bytes:
    return b"".join(_parts(message))


def _parts(message: object) -> list[bytes]:
    """A frame in pieces: header, JSON, then each blob after its length (written as they are).

    The JSON encoder walks the tree itself (in C) and hands each ``bytes`` to ``default``, which
    numbers it: the same order as a walk of our own, without one more Python call per node."""
    blobs: list[bytes] = []

    def blob(value: object) -> dict:
        if isinstance(value, (bytes, bytearray, memoryview)):
            blobs.append(value if type(value) is bytes else bytes(value))
            return {_BLOB_KEY: len(blobs) - 1}
        raise TypeError(f"a {type(value).__name__} cannot go on the wire")

    text = json.dumps(message, separators=(",", ":"), ensure_ascii=False, default=blob).encode()
    parts = [_HEADER.pack(len(text), len(blobs)), text]
    for data in blobs:
        parts += [_BLOB.pack(len(data)), data]
    return parts


def send_frame(fd: int, frame: bytes) -> None:
    _write_all(fd, [frame])


def send(fd: int, message: object) -> None:
    _write_all(fd, _parts(message))


def _write_all(fd: int, parts: list[bytes]) -> None:
    """Every part, in order, without first joining them into one copy (a tensor's data is megabytes)."""
    views = [memoryview(part) for part in parts if part]
    while views:
        written = os.writev(fd, views[:512])
        while written:
            if written >= len(views[0]):
                written -= len(views.pop(0))
            else:
                views[0] = views[0][written:]
                written = 0


def receive(fd: int, timeout: float | None = None, caps: Caps = TRUSTED) -> object:
    """One message from ``fd``; :class:`WireTimeout` if it does not all arrive within ``timeout``,
    :class:`WireError` if its header or a blob's length goes past ``caps`` (checked before allocating).

    Its blobs are ``bytearray``s the data was read into directly (no copy of a frame joined in memory):
    the codec makes tensors over them without copying again."""
    deadline = None if timeout is None else time.monotonic() + timeout
    size, count = _HEADER.unpack(_read(fd, _HEADER.size, deadline))
    if size > caps.json_bytes or count > caps.blobs:
        raise WireError(f"frame too large ({size} bytes of JSON, {count} blobs)")
    text, total, blobs = _read(fd, size, deadline), 0, []
    for _ in range(count):
        (length,) = _BLOB.unpack(_read(fd, _BLOB.size, deadline))
        total += length
        if total > caps.blob_bytes:
            raise WireError(f"frame larger than {caps.blob_bytes} bytes of blobs")
        blobs.append(_read_into(fd, bytearray(length), deadline))
    return _parse(text, blobs)


def over_caps(frame: bytes, caps: Caps) -> str:
    """Why a packed frame would be refused by a reader with ``caps`` ("" when it would not)."""
    size, count = _HEADER.unpack_from(frame)
    blob_bytes = len(frame) - _HEADER.size - size - count * _BLOB.size
    if size > caps.json_bytes:
        return f"{size / 2**20:.1f} MiB of structure (at most {caps.json_bytes / 2**20:g} MiB: return a tensor)"
    if count > caps.blobs:
        return f"{count} tensors (at most {caps.blobs})"
    if blob_bytes > caps.blob_bytes:
        return f"{blob_bytes / 2**20:.0f} MiB of tensor data (at most {caps.blob_bytes / 2**20:g} MiB)"
    return ""


def _parse(text: bytes, blobs: list) -> object:
    def restore(value: dict) -> object:  # every JSON object, innermost first, as the decoder (in C) makes it
        if _BLOB_KEY in value and len(value) == 1:
            index = value[_BLOB_KEY]
            if type(index) is not int or not 0 <= index < len(blobs):
                raise WireError("bad blob reference")
            return blobs[index]
        return value

    try:
        return json.loads(text, object_hook=restore)
    except (ValueError, RecursionError) as error:  # a hostile worker's deep or malformed JSON
        raise WireError(f"not a message: {type(error).__name__}") from None


def _read(fd: int, size: int, deadline: float | None) -> bytes:
    return bytes(_read_into(fd, bytearray(size), deadline))


def _read_into(fd: int, buffer: bytearray, deadline: float | None) -> bytearray:
    view, filled = memoryview(buffer), 0
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    while filled < len(buffer):
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not poller.poll(left * 1000):
                raise WireTimeout("no answer in time")
        count = os.readv(fd, [view[filled:]])
        if not count:
            raise WireClosed("the other side closed the channel")
        filled += count
    return buffer


# -- records on the wire: written by the worker, read (and checked) by the grader -----------------------
def error_to_wire(info: ErrorInfo) -> dict:
    return {
        "type": info.type_name,
        "message": info.message,
        "frames": [[f.cell, f.line, f.function, f.text] for f in info.frames],
        "types": list(info.type_names),
    }


def error_from_wire(tree: object) -> ErrorInfo:
    tree = _dict(tree)
    frames = []
    for frame in _list(tree.get("frames"))[:16]:
        cell, line, function, text = _list(frame)
        frames.append(Frame(_int(cell), _int(line), capped_text(function, 200), capped_text(text, 500)))
    return ErrorInfo(
        capped_text(tree.get("type"), 200),
        capped_text(tree.get("message"), 2000),
        tuple(frames),
        tuple(capped_text(name, 200) for name in _list(tree.get("types"))[:16]),
    )


def cell_to_wire(run: CellRun) -> dict:
    return {
        "cell": run.cell,
        "ok": run.ok,
        "error": None if run.error is None else error_to_wire(run.error),
        "output": run.output,
        "limit": run.limit,
    }


def cell_from_wire(tree: object, output_cap: int) -> CellRun:
    tree = _dict(tree)
    error = tree.get("error")
    return CellRun(
        cell=_int(tree.get("cell")),
        ok=tree.get("ok") is True,
        error=None if error is None else error_from_wire(error),
        output=capped_text(tree.get("output"), output_cap),
        limit="output_kb" if tree.get("limit") == "output_kb" else "",  # the only limit the worker may name
    )


def _dict(value: object) -> dict:
    if not isinstance(value, dict):
        raise WireError(f"expected a record, got {type(value).__name__}")
    return value


def _list(value: object) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise WireError(f"expected a list, got {type(value).__name__}")
    return value


def _int(value: object) -> int:
    if type(value) is not int:
        raise WireError(f"expected an integer, got {type(value).__name__}")
    return value


def capped_text(value: object, cap: int) -> str:
    """A text field from the worker, cut at ``cap`` characters; anything else is a WireError."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise WireError(f"expected text, got {type(value).__name__}")
    return value if len(value) <= cap else value[:cap] + "…"
