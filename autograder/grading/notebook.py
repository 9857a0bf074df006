"""Notebook: the protocol client of one submission, and the ``Transport`` of the ``student`` fixture.

A :class:`SandboxedNotebook` asks its :class:`~autograder.grading.lane.Lane` for a submission process,
sends it the notebook's cells and reads back each cell's record, then answers the hidden tests'
requests (a name's kind, a value, a call) by asking that process. Every timer that decides anything
runs here (:mod:`autograder.protocol.messages` computes them): a cell or a call that does not answer in
time has its process killed, and the worker's answers are read as untrusted data (frame size caps,
every field checked, values decoded by the codec). A cell that hangs or kills its process is recorded
and skipped, and the cells before it are run again in a fresh process, so the functions they defined
are still graded. Trusted side: it imports the lane, the protocol and the shared modules, never the
sandbox (the worker is reached by messages only).
"""

from __future__ import annotations

import dataclasses
import signal
import time

from autograder.assignment import SubmissionLimits
from autograder.grading.lane import Lane, LaneError, SubmissionProcess
from autograder.protocol import wire
from autograder.protocol.messages import (
    LOOKUP_SECONDS,
    READY_CAPS,
    READY_SECONDS,
    SANDBOX_CAPS,
    SANDBOX_SECONDS,
    CellDone,
    CellsOrder,
    FetchReply,
    KindReply,
    Lost,
    Op,
    Ready,
    Reply,
    Request,
    SandboxReport,
    cell_wait,
    request_wait,
)
from autograder.reports.wording import limit_error, process_exited
from autograder.results import CellRun, CodeCell, ErrorInfo

RELAUNCHES = 8  # fresh submission processes one notebook may need after hangs and crashes
# The cells' output and error text kept from one submission, all cells together (what the reports then
# keep of it is smaller: scoring.REPORT_BUDGET_BYTES).
RECEIVED_CHARS = 2_000_000


class SandboxedNotebook:
    """A notebook run in a lane's sandbox; the ``Transport`` the hidden tests call through."""

    def __init__(self, lane: Lane, cells: tuple[CodeCell, ...], deadline: float) -> None:
        self.lane = lane
        self.limits = lane.limits
        self.cells = cells
        self.deadline = deadline
        self.runs: dict[int, CellRun] = {}
        self.off: dict[str, str] = {}
        self.limit_struck = ""  # the limit that stopped the student's code in the current test
        self.submission_limit = ""  # the limit that struck the notebook as a whole
        self._skip: set[int] = set()
        self._current: SubmissionProcess | None = None
        self._relaunches = 0
        self._oom_before = 0
        self._kinds: dict[str, str] = {}
        self._all_kinds = False  # True when the worker sent the kind of every public name with "ready"
        self._text_room = RECEIVED_CHARS  # characters of cell output and errors still kept for this submission

    # -- the cells ----------------------------------------------------------------------------------
    def run(self) -> tuple[CellRun, ...]:
        """Run every cell; a cell that hangs or kills the process is skipped in a fresh one."""
        while not self._launch():
            pass
        return tuple(self.runs[c.cell] for c in self.cells if c.cell in self.runs)

    def _launch(self) -> bool:
        """One submission process through all the cells not skipped; False when it must be relaunched."""
        submission = self._current = self.lane.start()
        self._kinds.clear()
        self._all_kinds = False
        try:
            self.off = SandboxReport.from_wire(self._receive(SANDBOX_SECONDS, SANDBOX_CAPS)).off
            order = CellsOrder(
                cells=[[c.cell, c.source] for c in self.cells],
                skip=sorted(self._skip),
                cell_seconds=self.limits.cell_seconds,
                call_seconds=self.limits.call_seconds,
                output_cap=self.limits.output_kb * 1000,
            )
            wire.send(submission.fd, order.to_wire())
        except (wire.WireError, OSError) as error:
            self.lane.kill(submission)
            raise LaneError(f"a sandboxed process did not start ({error})") from None
        for cell in self.cells:
            if cell.cell in self._skip:
                continue
            wait = min(cell_wait(self.limits.cell_seconds), self._left())
            self._oom_before = self.lane.oom_kills()
            try:
                message = self._receive(wait, cell_caps(self.limits.output_kb * 1000))
                run = CellDone.from_wire(message, self.limits.output_kb * 1000).run
                if run.cell != cell.cell:
                    raise wire.WireError("cells out of order")
            except (wire.WireError, OSError) as error:
                return self._cell_failed(cell, submission, error)
            if cell.cell not in self.runs:
                self.runs[cell.cell] = self._within_budget(_with_limit(run, self.limits))
        try:
            ready = Ready.from_wire(self._receive(min(READY_SECONDS, self._left()), READY_CAPS))
        except (wire.WireError, OSError) as error:
            return self._cell_failed(None, submission, error)
        self._kinds.update(ready.kinds or {})  # Ready.from_wire reads no kinds as {}
        self._all_kinds = ready.complete
        return True

    def _within_budget(self, run: CellRun) -> CellRun:
        """A cell's record cut to what is left of the submission's text budget (``RECEIVED_CHARS``): each
        record is capped, but a notebook has as many as it has cells. Past the budget a record keeps its
        error's type and the start of its message, so the feedback still says which cells failed."""
        error = run.error
        size = len(run.output) + (0 if error is None else _error_chars(error))
        if size <= self._text_room:
            self._text_room -= size
            return run
        output = run.output[: max(self._text_room, 0)]
        self._text_room -= len(output)
        if error is not None:
            message = error.message[: max(self._text_room, 100)]
            self._text_room -= len(message)
            error = dataclasses.replace(error, message=message, frames=(), type_names=error.type_names[:4])
        return dataclasses.replace(run, output=output, error=error)

    def _cell_failed(self, cell: CodeCell | None, submission: SubmissionProcess, error: Exception) -> bool:
        timed_out = isinstance(error, wire.WireTimeout)
        status = self.lane.kill(submission)
        out_of_time = self._left() <= 0
        if cell is None:  # between the last cell and "ready": nothing to skip, nothing to retry
            return True
        if out_of_time:
            limit = "submission_seconds"
        elif timed_out:
            limit = "cell_seconds"
        elif self.lane.oom_kills() > self._oom_before:  # the lane's cgroup killed it for memory
            limit = "memory_mb"
        else:
            limit = ""
        info = limit_error(limit, self.limits) if limit else process_exited(status)
        self.runs.setdefault(cell.cell, CellRun(cell.cell, ok=False, error=info, limit=limit))
        self._skip.add(cell.cell)
        if out_of_time:
            self.submission_limit = "submission_seconds"
            return True  # no time left to run the rest: the tests find their names missing
        self._relaunches += 1
        return self._relaunches > RELAUNCHES

    # -- the transport ------------------------------------------------------------------------------
    def reset(self) -> None:
        """A new test begins: the worker replaces the call process with a fresh copy of the notebook."""
        self.limit_struck = ""
        if self._current is not None and self._alive():
            try:
                wire.send(self._current.fd, Request(Op.END_TEST).to_wire())
            except OSError:
                self._mark_dead()

    def kind(self, name: str) -> str:
        # Every test starts from the notebook's state, so a name's kind is asked once per process (or sent
        # with "ready", all of them at once).
        if name not in self._kinds and self._all_kinds and not name.startswith("_"):
            return "missing"
        if name not in self._kinds:
            message = self.ask(Request(Op.KIND, name), request_wait(LOOKUP_SECONDS))
            kind = KindReply.from_wire(message).kind if message else None
            if kind is None:
                return "missing"
            self._kinds[name] = kind
        return self._kinds[name]

    def fetch(self, name: str) -> object:
        message = self.ask(Request(Op.FETCH, name), request_wait(LOOKUP_SECONDS))
        reply = FetchReply(unusable="no value") if message is None else FetchReply.from_wire(message)
        if reply.unusable is not None:
            from autograder.protocol.codec import CodecError

            raise CodecError(reply.unusable)
        return reply.value

    def call(self, name: str, arguments: object, keep_arguments: bool) -> Reply:
        request = Request(Op.CALL, name, arguments, keep_arguments)
        message = self.ask(request, request_wait(self.limits.call_seconds))
        if message is None:
            return Reply(error=limit_error(self.limit_struck, self.limits))
        try:
            lost = Lost.from_wire(message)
            if lost is not None:
                return Reply(error=self._lost(lost))
            reply = Reply.from_wire(message)
        except wire.WireError as error:
            return Reply(unusable=str(error))
        info = reply.error
        limit = limit_of(info, "call_seconds") if info is not None else ""
        if info is not None and limit:
            self.limit_struck = limit
            reply = dataclasses.replace(reply, error=_limited(info, limit, self.limits))
        return reply

    def _lost(self, lost: Lost) -> ErrorInfo:
        """The call process died or ran out of time (the worker killed it)."""
        if lost.why == "timeout":
            self.limit_struck = "call_seconds"
            return limit_error("call_seconds", self.limits)
        if lost.status.get("signal") == signal.SIGKILL and self.lane.oom_kills() > self._oom_before:
            self.limit_struck = "memory_mb"
            return limit_error("memory_mb", self.limits)
        return process_exited(lost.status)

    def ask(self, request: Request, timeout: float) -> dict | None:
        """Send one request to the submission process; None (with ``limit_struck``) if no answer came."""
        if self._left() <= 0:
            self.limit_struck = self.submission_limit = "submission_seconds"
            return None
        if not self._alive() and not self._relaunch():
            return None
        assert self._current is not None  # alive, or relaunched (_relaunch returns _alive())
        self._oom_before = self.lane.oom_kills()
        try:
            wire.send(self._current.fd, request.to_wire())
            message = self._receive(min(timeout, self._left()), wire.REPLY)
        except wire.WireTimeout:
            self.limit_struck = "submission_seconds" if self._left() <= 0 else "call_seconds"
            self._mark_dead()
            return None
        except (wire.WireError, OSError):
            self.limit_struck = ""
            self._mark_dead()
            return None
        return message

    def _relaunch(self) -> bool:
        """A fresh submission process after the last one died in a test (the cells run again)."""
        if self._relaunches >= RELAUNCHES:
            return False
        self._relaunches += 1
        while not self._launch():
            pass
        return self._alive()

    def _alive(self) -> bool:
        return self._current is not None and self._current.status is None

    def _mark_dead(self) -> None:
        if self._current is not None:
            self.lane.kill(self._current)

    def _receive(self, timeout: float, caps: wire.Caps) -> dict:
        assert self._current is not None  # set by _launch before anything is received
        message = wire.receive(self._current.fd, timeout=max(timeout, 0.001), caps=caps)
        if not isinstance(message, dict):
            raise wire.WireError("expected a record")
        return message

    def _left(self) -> float:
        return self.deadline - time.monotonic()

    def close(self) -> None:
        if self._current is not None:
            self.lane.kill(self._current)


def _error_chars(error: ErrorInfo) -> int:
    frames = sum(len(f.function) + len(f.text) for f in error.frames)
    return len(error.type_name) + len(error.message) + frames + sum(map(len, error.type_names))


_ERROR_CHARS = 20_000  # an error record's fields as wire.error_from_wire keeps them (message, frames, types)


def cell_caps(output_cap: int) -> wire.Caps:
    """A cell's record: its output and its error, each character at most 6 bytes of JSON (``\\u001f``)."""
    return wire.Caps(6 * (output_cap + _ERROR_CHARS) + 4096)


def _limited(info: ErrorInfo, limit: str, limits: SubmissionLimits) -> ErrorInfo:
    """``info`` marked with the limit behind it; a timer's own message replaced by the grader's, in both
    languages (the worker's is French only, and the worker's word is not needed for it)."""
    if info.type_name == "TimeLimitExceeded":
        return dataclasses.replace(info, message=limit_error(limit, limits).message, limit=limit)
    return dataclasses.replace(info, limit=limit)


def limit_of(info: ErrorInfo, timer: str) -> str:
    """Which limit an error from student code comes from, if any (read by the grader, not claimed by the
    worker); ``timer`` is the limit whose alarm raises TimeLimitExceeded where the code ran."""
    if info.type_name == "TimeLimitExceeded":
        return timer
    message = info.message.lower()
    if info.type_name == "MemoryError" or "can't allocate memory" in message or "cannot allocate memory" in message:
        return "memory_mb"
    if "file too large" in message:
        return "file_size_mb"
    if info.type_name == "BlockingIOError" and "resource temporarily unavailable" in message:
        return "processes"
    return ""


def _with_limit(run: CellRun, limits: SubmissionLimits) -> CellRun:
    """The limit behind a cell's error, as the grader reads it."""
    if run.error is None:
        return run
    limit = limit_of(run.error, "cell_seconds")
    return dataclasses.replace(run, error=_limited(run.error, limit, limits), limit=limit) if limit else run
