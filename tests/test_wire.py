"""The wire between the grader and the worker: frames of data, read with caps and deadlines."""

from __future__ import annotations

import contextlib
import json
import os
import struct
import time

import pytest

from autograder.protocol import wire
from autograder.results import CellRun, ErrorInfo, Frame


@pytest.fixture
def pipe():
    read, write = os.pipe()
    yield read, write
    for fd in (read, write):
        with contextlib.suppress(OSError):
            os.close(fd)


def test_a_message_crosses_with_its_bytes_raw(pipe):
    read, write = pipe
    message = {"op": "call", "data": [b"\x00\xff" * 1000, {"nested": b"abc"}], "text": "é ✓", "n": 2**62}
    wire.send(write, message)
    assert wire.receive(read, timeout=1) == message
    assert len(wire.pack(message)) < 2200  # 2003 bytes of blobs: not base64'd (that would be 2672)


def test_a_tensor_of_megabytes_crosses_whole_and_becomes_a_tensor_without_a_copy():
    import socket
    import threading

    import torch

    from autograder.protocol.codec import Codec

    codec = Codec()
    sent = torch.arange(1_500_000, dtype=torch.float32).reshape(500_000, 3)  # 6 MB: many partial writes
    ours, theirs = socket.socketpair()
    with ours, theirs:
        writer = threading.Thread(target=wire.send, args=(ours.fileno(), {"value": codec.encode(sent)}))
        writer.start()
        tree = wire.receive(theirs.fileno(), timeout=10)["value"]
        writer.join()
    buffer = tree["data"]
    assert type(buffer) is bytearray  # read straight into a buffer of its own
    got = codec.decode(tree)
    assert torch.equal(got, sent)
    got[0, 0] = -1.0  # the tensor is a view of that buffer: nothing was copied after the read
    assert buffer[:4] == struct.pack("<f", -1.0)
    with pytest.raises(ValueError, match="data"):  # the buffer is the tensor's now: no second tensor shares it
        codec.decode(tree)


def test_a_frame_over_the_cap_is_refused_before_it_is_read(pipe):
    read, write = pipe
    os.write(write, struct.pack("<QI", 10**12, 0))
    with pytest.raises(wire.WireError, match="too large"):
        wire.receive(read, timeout=1, caps=wire.Caps(1 << 20, 10, 1 << 20))


def test_blobs_over_the_cap_are_refused(pipe):
    read, write = pipe
    wire.send(write, {"a": b"x" * 5000, "b": b"y" * 5000})
    with pytest.raises(wire.WireError, match="larger than"):
        wire.receive(read, timeout=1, caps=wire.Caps(1 << 20, 10, 8000))


def test_half_a_frame_times_out_instead_of_blocking(pipe):
    read, write = pipe
    frame = wire.pack({"op": "cell", "output": "x" * 100})
    os.write(write, frame[:20])
    started = time.monotonic()
    with pytest.raises(wire.WireTimeout):
        wire.receive(read, timeout=0.3)
    assert time.monotonic() - started < 2


def test_a_closed_channel_is_reported(pipe):
    read, write = pipe
    os.close(write)
    with pytest.raises(wire.WireClosed):
        wire.receive(read, timeout=1)


@pytest.mark.parametrize(
    "text",
    [
        b'{"$blob": 3}',  # a blob that is not there
        b'{"$blob": "0"}',
        b"[" * 30_000 + b"]" * 30_000,  # deeper than the JSON reader goes
        b"not json",
        b"1" * 5000,  # an integer longer than Python converts
    ],
)
def test_forged_frames_are_refused(pipe, text):
    read, write = pipe
    os.write(write, struct.pack("<QI", len(text), 0) + text)
    with pytest.raises(wire.WireError):
        wire.receive(read, timeout=1)


def test_records_from_the_worker_are_checked_and_capped():
    run = CellRun(3, False, ErrorInfo("ValueError", "non", (Frame(3, 2, "f", "raise"),), ("ValueError",)), "sortie")
    assert wire.cell_from_wire(json.loads(json.dumps(wire.cell_to_wire(run))), 100) == run
    long = wire.cell_to_wire(CellRun(1, True, output="x" * 1000))
    assert len(wire.cell_from_wire(long, 100).output) == 101
    with pytest.raises(wire.WireError):
        wire.cell_from_wire({"cell": "1", "ok": True}, 100)
    with pytest.raises(wire.WireError):
        wire.error_from_wire({"type": ["ValueError"], "message": "x"})
    # The worker may name only the output limit; the grader decides the others itself.
    assert wire.cell_from_wire({"cell": 1, "ok": True, "limit": "memory_mb"}, 100).limit == ""
    assert wire.cell_from_wire({"cell": 1, "ok": True, "limit": "output_kb"}, 100).limit == "output_kb"


def test_control_messages_and_requests_are_refused_when_a_field_has_the_wrong_type():
    from autograder.protocol.messages import CellsOrder, Exited, Hello, Lost, Op, Request

    assert Hello.from_wire({"op": "hello", "pid": 1, "lane": 0, "off": {}}) == Hello(1, 0, {})
    assert Exited.from_wire({"op": "exited", "pid": 7, "code": 0}) == Exited(7, {"code": 0})
    assert Lost.from_wire({"op": "lost", "why": "exit", "signal": 9}) == Lost("exit", {"signal": 9})
    assert Request.from_wire({"op": "kind", "name": "f"}) == Request(Op.KIND, "f")
    assert Hello.from_wire({"op": "hello", "pid": 1, "lane": 0, "off": {"ipc": "no"}}).off == {"ipc": "no"}
    for forged in (
        {"op": "hello"},
        {"op": "hello", "pid": "1"},
        {"op": "hello", "pid": 1, "lane": "0"},
        {"op": "hello", "pid": 1, "lane": 0, "off": 5},
        {"op": "hello", "pid": 1, "lane": 0, "off": [["ipc", "no"]]},
        {"op": "hello", "pid": 1, "lane": 0, "off": {"ipc": 1}},
    ):
        with pytest.raises(wire.WireError):
            Hello.from_wire(forged)
    for forged in ({"op": "exited", "pid": None, "code": 0}, {"op": "exited", "pid": 7, "signal": "9"}):
        with pytest.raises(wire.WireError):
            Exited.from_wire(forged)
    with pytest.raises(wire.WireError):
        Lost.from_wire({"op": "lost", "why": ["exit"]})
    with pytest.raises(wire.WireError):
        Request.from_wire({"op": "call", "name": 3, "arguments": [[], {}]})
    with pytest.raises(wire.WireError):
        CellsOrder.from_wire([])


def test_a_lost_message_with_a_malformed_why_is_an_unusable_reply():
    from types import SimpleNamespace

    from autograder.assignment import SubmissionLimits
    from autograder.grading.notebook import SandboxedNotebook

    lane = SimpleNamespace(limits=SubmissionLimits(), oom_kills=lambda: 0)
    notebook = SandboxedNotebook(lane, (), time.monotonic() + 60)
    notebook.ask = lambda request, timeout: {"op": "lost", "why": 5}
    reply = notebook.call("f", [[], {}], False)
    assert reply.error is None
    assert "why" in reply.unusable


def _writer(write: int, data: bytes):
    """Write ``data`` from a thread (a pipe holds 64 KiB), ignoring a reader that stopped reading. The
    caller joins it after closing the read end (the write then fails at once): a writer left running
    would write into whatever pipe reuses its descriptor's number next."""
    import threading

    def run() -> None:
        with contextlib.suppress(OSError):
            view = memoryview(data)
            while view:
                view = view[os.write(write, view) :]

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _stop(writer, read: int) -> None:
    with contextlib.suppress(OSError):
        os.close(read)
    writer.join(10)
    assert not writer.is_alive()


def test_a_forged_frame_costs_the_reader_nothing_beyond_its_caps(pipe):
    """A header announcing 45 MB of JSON is refused before any of it is allocated or read."""
    import tracemalloc

    read, write = pipe
    junk = b"[" + b"[]," * (15 * 2**20)
    frame = struct.pack("<QI", len(junk), 0) + junk
    tracemalloc.start()
    writer = _writer(write, frame)
    try:
        with pytest.raises(wire.WireError, match="too large"):
            wire.receive(read, timeout=5, caps=wire.REPLY)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        _stop(writer, read)
    assert peak < 2**20


def test_the_worst_json_a_reply_may_carry_costs_a_bounded_memory(pipe):
    """The costliest JSON per byte (empty lists, each a Python object) at the reply's cap: the grader's
    memory for one frame stays under 100 MiB (its blobs cost their own size, at most 64 MiB)."""
    import tracemalloc

    read, write = pipe
    body = b"[" + b"[]," * ((wire.REPLY.json_bytes - 2) // 3)
    body = body[:-1] + b"]"
    assert len(body) <= wire.REPLY.json_bytes
    frame = struct.pack("<QI", len(body), 0) + body
    tracemalloc.start()
    writer = _writer(write, frame)
    try:
        message = wire.receive(read, timeout=10, caps=wire.REPLY)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        _stop(writer, read)
    assert len(message) == (wire.REPLY.json_bytes - 2) // 3
    assert peak < 100 * 2**20


def test_too_many_blobs_are_refused_from_the_header(pipe):
    read, write = pipe
    os.write(write, struct.pack("<QI", 2, wire.REPLY.blobs + 1) + b"{}")
    with pytest.raises(wire.WireError, match="too large"):
        wire.receive(read, timeout=1, caps=wire.REPLY)


def test_over_caps_names_what_is_too_large():
    assert wire.over_caps(wire.pack({"a": [1] * 10}), wire.REPLY) == ""
    assert "structure" in wire.over_caps(wire.pack(list(range(600_000))), wire.REPLY)
    assert "tensors" in wire.over_caps(wire.pack([b""] * (wire.REPLY.blobs + 1)), wire.REPLY)
    assert "tensor data" in wire.over_caps(wire.pack([b"x" * (wire.REPLY.blob_bytes + 1)]), wire.REPLY)
