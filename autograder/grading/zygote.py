"""Zygote: one warm worker interpreter that forks every lane's worker.

A grading run starts it first thing, before its own imports: the zygote (``python -I -m
autograder.sandbox.worker --zygote``, a fresh interpreter with a minimal environment, like any worker)
imports torch and warms it up on one core while the grader imports torch, pytest and the suites
on the other, and each lane's worker is then a fork of it, ready in milliseconds, instead of an
interpreter of its own importing torch again (what that saves: docs/performance.md).

This module is the trusted side, and imports nothing heavy (the CLI imports it before torch). The
zygote runs no student code and holds nothing of the grader's; each forked worker closes the
zygote's socket before anything else and is given its lane's socket only.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys

from autograder.errors import AutograderError
from autograder.protocol import wire
from autograder.protocol.messages import ORDER_SECONDS, START_SECONDS, Hello, LaneOrder, Op, Order, Spawned


class ZygoteError(AutograderError):
    """The zygote did not start or stopped answering."""


def worker_environment() -> dict[str, str]:
    """Nothing of the instructor's environment (tokens, paths) reaches student code."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def start_worker(*arguments: str) -> tuple[subprocess.Popen, socket.socket]:
    """``python -I -m autograder.sandbox.worker [arguments] FD``: the process, and our end of its socket."""
    ours, theirs = socket.socketpair()
    try:
        process = subprocess.Popen(
            [sys.executable, "-I", "-m", "autograder.sandbox.worker", *arguments, str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=worker_environment(),
            start_new_session=True,
        )
    except BaseException:
        ours.close()
        raise
    finally:
        theirs.close()
    return process, ours


class Zygote:
    """The zygote process; :meth:`fork_worker` gives a lane its worker: ``(pid, socket)``."""

    _control: socket.socket | None  # None once closed or forgotten

    def __init__(self) -> None:
        self._process, self._control = start_worker("--zygote")
        self._ready = False

    def fork_worker(self, lane: int) -> tuple[int, socket.socket]:
        """A new worker for lane ``lane``, forked from the warm zygote (which this waits for)."""
        if self._control is None:
            raise ZygoteError("the zygote is closed")
        try:
            if not self._ready:
                hello = wire.receive(self._control.fileno(), timeout=START_SECONDS, caps=wire.CONTROL)
                try:
                    Hello.from_wire(hello)
                except wire.WireError:
                    detail = hello.get("error", hello) if isinstance(hello, dict) else hello
                    raise ZygoteError(f"the grading worker did not start: {str(detail)[-500:]}") from None
                self._ready = True
            ours, theirs = socket.socketpair()
            try:
                wire.send(self._control.fileno(), LaneOrder(lane).to_wire())
                socket.send_fds(self._control, [b"F"], [theirs.fileno()])
            finally:
                theirs.close()
            forked = wire.receive(self._control.fileno(), timeout=ORDER_SECONDS, caps=wire.CONTROL)
        except (wire.WireError, OSError) as error:
            self.close()
            raise ZygoteError(f"the grading worker did not start ({error})") from None
        try:
            return Spawned.from_wire(forked, Op.FORKED).pid, ours
        except wire.WireError:
            ours.close()
            raise ZygoteError("the grading worker did not start") from None

    def close(self) -> None:
        """Stop the zygote (the workers it forked die with it: close the lanes first)."""
        control, self._control = self._control, None
        if control is None:
            return
        with contextlib.suppress(OSError):
            wire.send(control.fileno(), Order(Op.QUIT).to_wire())
        control.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def forget(self) -> None:
        """In a forked process: drop this copy of the socket without stopping the zygote."""
        if self._control is not None:
            self._control.close()
            self._control = None

    def __enter__(self) -> Zygote:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
