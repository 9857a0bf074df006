"""Messages: what the trusted grader and the untrusted worker say to each other, as typed records.

Every message's name (:class:`Op`, the ``"op"`` field on the wire) and every timeout either side
computes from a limit are defined here once; each message that crosses between the grader
(:mod:`autograder.grading.lane`, :mod:`autograder.grading.notebook`, :mod:`autograder.grading.zygote`)
and the worker (:mod:`autograder.sandbox.worker`) is a frozen record with ``to_wire()`` (the plain tree
:mod:`autograder.protocol.wire` frames) and ``from_wire()`` (the tree read back, each field checked: a
malformed one is a :class:`~autograder.protocol.wire.WireError`). :class:`Reply` is what a transport
answers to one call; :class:`Transport` is the interface both transports keep (the sandboxed lane's and
the in-process one); :class:`Policy` is what a lane asks the worker's walls to allow and :class:`Report`
what the walls report back. Records and arithmetic only: this module imports the rest of the protocol
and the shared modules at the package's top (``results``, ``output``), never either side.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Protocol

from autograder.output import MAX_CALL_OUTPUT
from autograder.protocol import wire
from autograder.results import CellRun, ErrorInfo

# -- names and timeouts ------------------------------------------------------------------------------


class Op(StrEnum):
    """A message's name, its ``"op"`` field on the wire (a str: compared and framed as the text itself)."""

    # the grader's orders on a control socket (zygote or lane's worker)
    LANE = "lane"  # to the zygote: fork a lane's keeper; from the keeper: the lane's worker's pid
    RUN = "run"  # start a submission process under this policy
    KILL = "kill"  # kill the running submission process
    QUIT = "quit"
    # the worker's answers on a control socket
    HELLO = "hello"  # warm and ready (the zygote, then each lane's worker)
    FATAL = "fatal"  # could not start: a traceback
    FORKED = "forked"  # the zygote forked a lane's keeper
    STARTED = "started"  # a submission process, its channel sent alongside
    EXITED = "exited"  # the submission process ended
    # on a submission's channel, from the submission process
    SANDBOX = "sandbox"  # the walls that are up
    CELL = "cell"  # one cell's record
    READY = "ready"  # the cells are done: the kinds of the notebook's names
    LOST = "lost"  # the call process died or overran a request: the answer will not come
    # on a submission's channel, from the grader
    CELLS = "cells"  # the notebook to run
    KIND = "kind"
    FETCH = "fetch"
    CALL = "call"
    END_TEST = "end_test"  # a test is over: keep the call process only if the state is unchanged


# The grader's clock decides; the worker's own timers go first, so that the student reads their traceback.
GRADER_GRACE_SECONDS = 2.0  # the grader's wait beyond a limit before it kills instead of waiting for the worker
WORKER_GRACE_SECONDS = 1.0  # a submission process's wait beyond a call's limit before it kills the call process
LOOKUP_SECONDS = 5.0  # a request that runs no student code (kind, fetch), and the state check after a test
START_SECONDS = 120  # a worker's start imports torch; a loaded machine may take long
ORDER_SECONDS = 30  # a lane's worker's answer to an order (run -> started, kill -> exited, lane -> forked)
SANDBOX_SECONDS = 10 + GRADER_GRACE_SECONDS  # a new submission process, up to its "sandbox" report
READY_SECONDS = LOOKUP_SECONDS + GRADER_GRACE_SECONDS  # from the last cell's record to "ready"


def cell_wait(cell_seconds: float) -> float:
    """How long the grader waits for a cell's record (the cell's own timer is in the submission process)."""
    return cell_seconds + GRADER_GRACE_SECONDS


def request_wait(limit: float) -> float:
    """How long the grader waits for the answer to a request the call process times at ``limit``: then the
    submission process's kill (``WORKER_GRACE_SECONDS``) and its "lost", with room to spare."""
    return limit + 2 * GRADER_GRACE_SECONDS


def request_deadline(limit: float) -> float:
    """Seconds after which a submission process kills a call process still busy with a request timed at
    ``limit``."""
    return limit + WORKER_GRACE_SECONDS


@dataclass(frozen=True)
class Reply:
    """What a transport answers to one call, still encoded."""

    result: object = None
    error: ErrorInfo | None = None
    unusable: str = ""  # why the result could not be encoded, if it could not
    arguments: object = None  # the encoded (args, kwargs) as they were after the call, when asked
    output: str = ""

    def to_wire(self) -> dict:
        """A call's answer as the call process sends it."""
        return {
            "result": self.result,
            "error": None if self.error is None else wire.error_to_wire(self.error),
            "unusable": self.unusable,
            "arguments": self.arguments,
            "output": self.output,
        }

    @classmethod
    def from_wire(cls, tree: dict) -> Reply:
        """A call's answer as the grader reads it (untrusted: texts capped, the error checked field by field;
        the result and the arguments are left to the codec). A WireError for a malformed field."""
        error = tree.get("error")
        info = None if error is None else wire.error_from_wire(error)
        output = wire.capped_text(tree.get("output"), MAX_CALL_OUTPUT)
        unusable = wire.capped_text(tree.get("unusable"), 2000)
        return cls(
            result=tree.get("result"), error=info, unusable=unusable, arguments=tree.get("arguments"), output=output
        )


class Transport(Protocol):
    """The student's side of the boundary, seen from the trusted runner."""

    limit_struck: str  # the limit that stopped the student's code in the current test ("" if none did)

    def reset(self) -> None:
        """A new test begins (one ``student`` fixture per test): it starts from the notebook's own state."""

    def kind(self, name: str) -> str:
        """``"missing"``, ``"callable"`` or ``"value"``."""

    def fetch(self, name: str) -> object:
        """The encoded value of a name that is not callable."""

    def call(self, name: str, arguments: object, keep_arguments: bool) -> Reply:
        """Call ``name`` with the encoded ``(args, kwargs)``."""


# -- the policy --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Policy:
    """What one submission's process may use; limits in bytes, seconds and counts."""

    uid: int = 60000
    memory_bytes: int = 2048 * 2**20  # beyond what the worker had mapped when it forked
    file_size_bytes: int = 16 * 2**20
    processes: int = 32
    cpu_seconds: int = 330
    hide: tuple[str, ...] = ()  # paths made empty (hidden suites, submissions, output, course)


@dataclass
class Report:
    """Which protections hold in this process, and why the others do not."""

    on: set[str] = field(default_factory=set)
    off: dict[str, str] = field(default_factory=dict)

    def step(self, name: str, action: Callable[[], object]) -> bool:
        try:
            action()
        except Exception as error:
            self.off.setdefault(name, str(error) or type(error).__name__)
            return False
        self.on.add(name)
        return True


# -- the control sockets: the grader's orders, the worker's answers ----------------------------------
def _op(tree: object, op: Op, what: str) -> dict:
    """``tree`` as the record of a message ``op``; a WireError saying ``what`` was expected otherwise."""
    if not isinstance(tree, dict) or tree.get("op") != op:
        raise wire.WireError(what)
    return tree


def _pid(tree: dict, what: str) -> int:
    pid = tree.get("pid")
    if type(pid) is not int or pid <= 1:
        raise wire.WireError(what)
    return pid


@dataclass(frozen=True)
class Order:
    """An order on a control socket with nothing but its name: ``kill``, ``quit``."""

    op: Op

    def to_wire(self) -> dict:
        return {"op": self.op.value}


@dataclass(frozen=True)
class LaneOrder:
    """The grader to the zygote: fork the keeper of lane ``lane`` (its socket follows)."""

    lane: int

    def to_wire(self) -> dict:
        return {"op": Op.LANE.value, "lane": self.lane}

    @classmethod
    def from_wire(cls, tree: object) -> LaneOrder:
        return cls(int(_op(tree, Op.LANE, "expected a lane order").get("lane", 0)))


@dataclass(frozen=True)
class Hello:
    """A worker is warm: the zygote (``lane`` None), or a lane's worker with the walls it could not raise."""

    pid: int
    lane: int | None = None
    off: dict[str, str] | None = None

    def to_wire(self) -> dict:
        if self.lane is None:
            return {"op": Op.HELLO.value, "pid": self.pid}
        return {"op": Op.HELLO.value, "pid": self.pid, "lane": self.lane, "off": self.off}

    @classmethod
    def from_wire(cls, tree: object) -> Hello:
        tree = _op(tree, Op.HELLO, "expected hello")
        pid, lane = tree.get("pid"), tree.get("lane")
        off = tree.get("off") or {}
        if type(pid) is not int or (lane is not None and type(lane) is not int) or not _text_map(off):
            raise wire.WireError("expected hello")
        return cls(pid, lane, dict(off))


def _text_map(value: object) -> bool:
    """A dict of strings to strings (the walls a worker could not raise, and why)."""
    return type(value) is dict and all(type(k) is str and type(v) is str for k, v in value.items())


@dataclass(frozen=True)
class Fatal:
    """A worker could not start: the end of its traceback."""

    error: str

    def to_wire(self) -> dict:
        return {"op": Op.FATAL.value, "error": self.error}


@dataclass(frozen=True)
class Spawned:
    """A process the worker made, by its pid: ``forked`` (a lane's keeper, from the zygote), ``lane`` (the
    lane's worker, from its keeper) or ``started`` (a submission process, from the lane's worker)."""

    op: Op
    pid: int

    def to_wire(self) -> dict:
        return {"op": self.op.value, "pid": self.pid}

    @classmethod
    def from_wire(cls, tree: object, op: Op) -> Spawned:
        what = f"expected {op.value}"
        return cls(op, _pid(_op(tree, op, what), what))


@dataclass(frozen=True)
class RunOrder:
    """The grader to a lane's worker: start a submission process behind walls set to ``policy``."""

    policy: Policy

    def to_wire(self) -> dict:
        return {"op": Op.RUN.value, "policy": asdict(self.policy)}

    @classmethod
    def from_wire(cls, tree: object) -> RunOrder:
        return cls(Policy(**_op(tree, Op.RUN, "expected a run order")["policy"]))


@dataclass(frozen=True)
class Exited:
    """The submission process ended: ``status`` is ``{"code": n}`` or ``{"signal": n}`` as the worker says
    (untrusted: the grader believes only small integers)."""

    pid: int
    status: dict

    def to_wire(self) -> dict:
        return {"op": Op.EXITED.value, "pid": self.pid, **self.status}

    @classmethod
    def from_wire(cls, tree: object) -> Exited:
        tree = _op(tree, Op.EXITED, "expected exited")
        pid = tree.get("pid")
        status = {k: v for k, v in tree.items() if k in ("code", "signal")}
        if type(pid) is not int or any(type(v) is not int for v in status.values()):
            raise wire.WireError("expected exited")
        return cls(pid, status)


# -- a submission's channel ----------------------------------------------------------------------------
# What the grader reads from a submission's process, by the message it expects (see wire.Caps).
SANDBOX_CAPS = wire.Caps(64 * 2**10)  # "sandbox": the walls that are up, and why the others are not
READY_CAPS = wire.Caps(2**20)  # "ready": the kinds of at most MAX_KINDS names of at most MAX_KIND_NAME characters
MAX_KINDS = 5000  # names whose kind is sent with "ready"; a notebook with more is asked name by name
MAX_KIND_NAME = 100


@dataclass(frozen=True)
class SandboxReport:
    """The submission process's walls: those up (``on``) and why the others are not (``off``)."""

    on: tuple[str, ...]
    off: dict[str, str]

    def to_wire(self) -> dict:
        return {"op": Op.SANDBOX.value, "on": sorted(self.on), "off": self.off}

    @classmethod
    def from_wire(cls, tree: object) -> SandboxReport:
        tree = _op(tree, Op.SANDBOX, "no sandbox report")
        on = tree.get("on")
        return cls(tuple(n for n in on if type(n) is str) if type(on) is list else (), dict(tree.get("off") or {}))


@dataclass(frozen=True)
class CellsOrder:
    """The grader to a submission process: the notebook's cells (``[number, source]``), those to skip
    (they hung or killed an earlier process), the time limits and the output kept of each cell."""

    cells: list
    skip: list[int]
    cell_seconds: float
    call_seconds: float
    output_cap: int

    def to_wire(self) -> dict:
        return {
            "op": Op.CELLS.value,
            "cells": self.cells,
            "skip": self.skip,
            "cell_seconds": self.cell_seconds,
            "call_seconds": self.call_seconds,
            "output_cap": self.output_cap,
        }

    @classmethod
    def from_wire(cls, tree: object) -> CellsOrder:
        if not isinstance(tree, dict):
            raise wire.WireError("expected the cells")
        return cls(
            tree["cells"],
            list(tree.get("skip", ())),
            float(tree.get("cell_seconds") or 0),
            float(tree.get("call_seconds") or 10),
            int(tree.get("output_cap", 64_000)),
        )


@dataclass(frozen=True)
class CellDone:
    """One cell's record, sent as soon as the cell has run."""

    run: CellRun

    def to_wire(self) -> dict:
        return {"op": Op.CELL.value, "run": wire.cell_to_wire(self.run)}

    @classmethod
    def from_wire(cls, tree: object, output_cap: int) -> CellDone:
        return cls(wire.cell_from_wire(_op(tree, Op.CELL, "expected a cell").get("run"), output_cap))


@dataclass(frozen=True)
class Ready:
    """The cells are done: each public name's kind (``"callable"`` or ``"value"``), and whether that is every
    public name the notebook left (then a name not among them is missing). The worker sends None for
    ``kinds`` when the names are too many; then each is asked for when a test needs it."""

    kinds: dict[str, str] | None
    complete: bool = True

    def to_wire(self) -> dict:
        return {"op": Op.READY.value, "kinds": self.kinds}

    @classmethod
    def from_wire(cls, tree: object) -> Ready:
        kinds = _op(tree, Op.READY, "expected ready").get("kinds")
        read = kinds_from_wire(kinds)
        return cls(read, kinds_complete(kinds, read))


def kinds_from_wire(kinds: object) -> dict[str, str]:
    """The names' kinds the worker sent with "ready" (untrusted): well-formed entries only; a name left out
    is asked for when a test needs it, as before."""
    if type(kinds) is not dict or len(kinds) > MAX_KINDS:
        return {}
    return {name: kind for name, kind in kinds.items() if type(name) is str and kind in ("callable", "value")}


def kinds_complete(kinds: object, read: dict[str, str]) -> bool:
    """Whether the worker sent every public name, each well formed: then a name not among them is missing."""
    return type(kinds) is dict and len(kinds) == len(read) <= MAX_KINDS


@dataclass(frozen=True)
class Request:
    """A hidden test's request to the call process: a name's kind, a value, a call (its encoded ``(args,
    kwargs)``, and whether to send them back as they are after the call), or the end of a test."""

    op: Op
    name: str = ""
    arguments: object = None
    keep: bool = False

    def to_wire(self) -> dict:
        if self.op == Op.CALL:
            return {"op": self.op.value, "name": self.name, "arguments": self.arguments, "keep": self.keep}
        if self.op == Op.END_TEST:
            return {"op": self.op.value}
        return {"op": self.op.value, "name": self.name}

    @classmethod
    def from_wire(cls, tree: object) -> Request | None:
        """The request, or None for a message that is not one (ignored)."""
        if not isinstance(tree, dict):
            return None
        op = tree.get("op")
        if op == Op.END_TEST:
            return cls(Op.END_TEST)
        if op not in (Op.KIND, Op.FETCH, Op.CALL):
            return None
        name = tree.get("name")
        if type(name) is not str:
            raise wire.WireError(f"expected a name in {op}")
        if op == Op.CALL:
            return cls(Op.CALL, name, tree["arguments"], bool(tree.get("keep")))
        return cls(Op(op), name)


@dataclass(frozen=True)
class KindReply:
    """A name's kind: ``"missing"``, ``"callable"`` or ``"value"`` (anything else, from a hostile worker,
    is None)."""

    kind: str | None

    def to_wire(self) -> dict:
        return {"kind": self.kind}

    @classmethod
    def from_wire(cls, tree: dict) -> KindReply:
        kind = tree.get("kind")
        return cls(kind if kind in ("missing", "callable", "value") else None)


@dataclass(frozen=True)
class FetchReply:
    """A value, encoded; or why it could not be (``unusable`` not None)."""

    value: object = None
    unusable: str | None = None

    def to_wire(self) -> dict:
        return {"value": self.value} if self.unusable is None else {"unusable": self.unusable}

    @classmethod
    def from_wire(cls, tree: dict) -> FetchReply:
        if "value" in tree:
            return cls(tree["value"])
        return cls(unusable=str(tree.get("unusable") or "no value"))


def too_large_to_wire(why: str, reply: dict) -> dict:
    """In place of an answer whose frame the grader would refuse (``why``: wire.over_caps), what the student
    hears instead, with the call's output if it had one."""
    return {"unusable": f"value too large to send: {why}", "output": reply.get("output")}


@dataclass(frozen=True)
class Lost:
    """The call process died during a request, or overran it (``why``: ``"exit"`` or ``"timeout"``), and the
    submission process answers in its place; ``status`` as in :class:`Exited`."""

    why: str
    status: dict

    def to_wire(self) -> dict:
        return {"op": Op.LOST.value, "why": self.why, **self.status}

    @classmethod
    def from_wire(cls, tree: dict) -> Lost | None:
        """The message as a Lost, or None when it is an answer; a WireError when its ``why`` is no text."""
        if "why" not in tree or tree.get("op") != Op.LOST:
            return None
        why = tree["why"]
        if type(why) is not str:
            raise wire.WireError("expected why the call process was lost")
        return cls(why, {k: tree.get(k) for k in ("code", "signal") if k in tree})
