"""Runtime: running student code in this process, as the sandboxed worker does.

:class:`InProcessTransport` answers a hidden test's calls (:class:`~autograder.protocol.messages.Transport`)
against a namespace held in this process, through the codec all the same: the worker's call
process uses it behind its walls, and the in-kernel nbgrader bridge and the tests use it directly.
Also here: the timer that stops a runaway Python loop (:func:`time_limit`), an exception as data
with its traceback trimmed to the student's cells (:func:`error_info`), and torch's process-wide
switches put back after each call.

Untrusted side: imports the protocol and the shared records only.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import traceback
from collections.abc import Iterator
from typing import Any, cast

import torch

from autograder.language import time_limit_exceeded
from autograder.output import MAX_CALL_OUTPUT, CappedText, captured_output
from autograder.protocol.codec import Codec, CodecError
from autograder.protocol.messages import Reply
from autograder.results import ErrorInfo, Frame

CELL_FILENAME = "<cell {}>"  # how a notebook cell's code is named in tracebacks


MAX_FRAMES = 8  # a student's traceback keeps its last frames in their own cells


class TimeLimitExceeded(BaseException):
    """Raised inside student code when its time is up. A BaseException, so that the student's own
    ``except Exception`` does not swallow it."""


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Interrupt the Python code in the block after ``seconds`` of wall time (best effort).

    A timer signal raises :class:`TimeLimitExceeded` at the next Python instruction: it stops
    loops written in Python (the usual runaway student loop), not a long call inside torch's C++
    code, and a determined student can disarm it; the sandboxed worker is what enforces limits
    against hostile code. No limit off the main thread, where signals cannot be handled.
    """
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return
    message = str(time_limit_exceeded(seconds))  # French: the worker's word, which the grader replaces
    expired = False

    def _expire(signum: int, frame: object) -> None:
        nonlocal expired
        expired = True
        raise TimeLimitExceeded(message)

    previous = signal.signal(signal.SIGALRM, _expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except TimeLimitExceeded:
        raise
    except BaseException as error:
        # The alarm's exception can be lost on its way: Python drops one raised while a weakref callback
        # or a __del__ runs, and C code it interrupts may turn it into a SystemError. The time was up.
        if expired:
            raise TimeLimitExceeded(message).with_traceback(error.__traceback__) from None
        raise
    else:
        if expired:  # dropped, and the code went on to its end: still over its time
            raise TimeLimitExceeded(message)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class InProcessTransport:
    """Calls into a namespace held in this process, through the codec all the same."""

    def __init__(self, namespace: dict, codec: Codec | None = None, call_seconds: float | None = None) -> None:
        self._namespace = namespace
        self._codec = codec or Codec()
        self._call_seconds = call_seconds

    limit_struck = ""  # this transport's only limit is the call timer, reported as the student's error

    def reset(self) -> None:
        """A new test begins: nothing to do (the namespace is shared by the tests, as in a kernel)."""

    def kind(self, name: str) -> str:
        if name not in self._namespace:
            return "missing"
        return "callable" if callable(self._namespace[name]) else "value"

    def fetch(self, name: str) -> object:
        return self._codec.encode(self._namespace[name])

    def call(self, name: str, arguments: object, keep_arguments: bool) -> Reply:
        args, kwargs = cast("list[Any]", self._codec.decode(arguments))  # [args, kwargs], from the grader
        function = self._namespace[name]
        output = CappedText(MAX_CALL_OUTPUT)
        with torch_globals_restored(), captured_output(output):
            try:
                with time_limit(self._call_seconds):
                    value = function(*args, **kwargs)
            # KeyboardInterrupt is the instructor's Ctrl-C: it stops the grader.
            except (Exception, SystemExit, TimeLimitExceeded) as error:
                return Reply(error=error_info(error), output=output.text())
        encoded_arguments = None
        try:
            if keep_arguments:
                encoded_arguments = self._codec.encode([args, kwargs])
        except (CodecError, RecursionError) as error:  # the student put a value of their own in an argument
            return Reply(unusable=str(error), output=output.text())
        try:
            result = self._codec.encode(value)
        except (CodecError, RecursionError) as error:
            return Reply(unusable=str(error), arguments=encoded_arguments, output=output.text())
        return Reply(result=result, arguments=encoded_arguments, output=output.text())


def error_info(error: BaseException) -> ErrorInfo:
    """An exception as data, its traceback trimmed to the frames in the student's cells."""
    frames = []
    for summary in traceback.extract_tb(error.__traceback__):
        cell = cell_number(summary.filename)
        if cell is not None:
            frames.append(Frame(cell, summary.lineno or 0, summary.name[:200], (summary.line or "").strip()[:500]))
    if isinstance(error, SyntaxError):
        cell = cell_number(error.filename or "")
        if cell is not None:
            text = (error.text or "").strip()[:500]
            frames.append(Frame(cell, error.lineno or 0, "<module>", text))
    message = str(error) if not isinstance(error, SyntaxError) else (error.msg or "")
    type_names = tuple(cls.__name__ for cls in type(error).__mro__ if cls.__module__ == "builtins")[:16]
    # The sizes the grader keeps (autograder.protocol.wire.error_from_wire): an honest record always fits its cap.
    return ErrorInfo(type(error).__name__[:200], message[:2000], tuple(frames[-MAX_FRAMES:]), type_names)


def cell_number(filename: str) -> int | None:
    prefix, suffix = CELL_FILENAME.split("{}")
    if filename.startswith(prefix) and filename.endswith(suffix):
        number = filename[len(prefix) : len(filename) - len(suffix)]
        if number.isdigit():
            return int(number)
    return None


@contextlib.contextmanager
def torch_globals_restored() -> Iterator[None]:
    """Torch's process-wide switches, put back as they were: a student's ``set_grad_enabled(False)``
    or ``set_default_dtype`` must not change how the next call, or the next student, is checked."""
    grad = torch.is_grad_enabled()
    dtype = torch.get_default_dtype()
    threads = torch.get_num_threads()
    try:
        yield
    finally:
        torch.set_grad_enabled(grad)
        torch.set_default_dtype(dtype)
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
