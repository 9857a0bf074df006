"""Lane: the trusted side of one worker process (``autograder.sandbox.worker``).

A :class:`Lane` starts the worker once (forked from the zygote, :mod:`autograder.grading.zygote`; in
its own cgroups when the machine has them, which cap the lane's memory and processes and count its
OOM kills), restarts it when it stops answering, asks it for one sandboxed submission process at a
time (:class:`SubmissionProcess`, its channel passed as a file descriptor), kills that process, and
stops the worker when closed. What is said on a submission's channel is the protocol client's job
(:mod:`autograder.grading.notebook`); the messages and their timeouts are
:mod:`autograder.protocol.messages`. Also here, for now: the errors a student reads when a limit
stopped their code. Trusted side: it imports the protocol, the zygote, the guard and the shared
modules, never the sandbox nor the notebook client.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from autograder.assignment import SubmissionLimits
from autograder.errors import AutograderError
from autograder.grading.guard import verify_trusted_files
from autograder.grading.zygote import Zygote, ZygoteError
from autograder.processes import pidfd_or_none
from autograder.protocol import wire
from autograder.protocol.messages import (
    ORDER_SECONDS,
    START_SECONDS,
    Exited,
    Hello,
    Op,
    Order,
    Policy,
    RunOrder,
    Spawned,
)

CGROUP_PREFIX = "autograder-"
UID_BASE = 61000  # lane i runs student code as uid/gid UID_BASE + i


class LaneError(AutograderError):
    """The worker could not start or stopped answering: a fault of the machine, not of a student."""


class _Cgroups:
    """cgroup v1 memory and pids caps for one lane (a fork bomb or a memory hog hits the lane's ceiling,
    even as root); absent when the machine has no writable cgroup v1 hierarchy."""

    def __init__(self, name: str) -> None:
        self.folders: dict[str, Path] = {}
        for controller, own in _own_cgroups().items():
            folder = own / name
            folder.mkdir()
            self.folders[controller] = folder
        if set(self.folders) != {"memory", "pids"}:
            self.remove()
            raise OSError("no cgroup v1 memory and pids hierarchies")
        # Kept open: the counter is read before every request, and a pread costs a fraction of opening and
        # reading the file each time (docs/performance.md).
        try:
            control = os.open(self.folders["memory"] / "memory.oom_control", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            self.remove()
            raise
        self._oom_control: int | None = control

    def limit(self, memory_bytes: int, tasks: int) -> None:
        (self.folders["memory"] / "memory.limit_in_bytes").write_text(str(memory_bytes))
        (self.folders["pids"] / "pids.max").write_text(str(tasks))

    def add(self, pid: int) -> None:
        for folder in self.folders.values():
            (folder / "cgroup.procs").write_text(str(pid))

    def oom_kills(self) -> int:
        if self._oom_control is None:  # removed
            return 0
        try:
            for line in os.pread(self._oom_control, 4096, 0).decode().splitlines():
                if line.startswith("oom_kill "):
                    return int(line.split()[1])
        except (OSError, ValueError):
            pass
        return 0

    def remove(self) -> None:
        control, self._oom_control = getattr(self, "_oom_control", None), None
        if control is not None:
            os.close(control)
        for folder in self.folders.values():
            self.remove_folder(folder)

    @staticmethod
    def remove_folder(folder: Path) -> None:
        for _ in range(100):  # the lane's processes may still be exiting
            try:
                folder.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.02)


def _own_cgroups() -> dict[str, Path]:
    """This process's cgroup v1 folders for the memory and pids controllers, where they exist."""
    folders: dict[str, Path] = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in ("memory", "pids"):
            if controller in controllers.split(","):
                folders[controller] = Path("/sys/fs/cgroup", controller, path.lstrip("/"))
    return folders


def _cgroup_problem(error: OSError) -> str:
    if isinstance(error, PermissionError):
        return "the cgroup v1 memory and pids hierarchies are not writable by this user (none delegated)"
    return str(error)


def remove_cgroups(owner: int | None) -> None:
    """Remove the cgroups a grading run's lanes left behind (a lane killed before it could); with
    ``owner`` None, those of every run whose main process is gone (a run killed with SIGKILL)."""
    try:
        folders = _own_cgroups().values()
    except OSError:
        return
    for own in folders:
        # "<owner>-*": a run's own, not those of another process whose id starts with the same digits
        for folder in own.glob(f"{CGROUP_PREFIX}{f'{owner}-' if owner is not None else ''}*"):
            run = folder.name[len(CGROUP_PREFIX) :].split("-")[0]
            if owner is not None or (run.isdigit() and not Path("/proc", run).exists()):
                _Cgroups.remove_folder(folder)


class Lane:
    """One pre-warmed worker; grades one submission at a time."""

    def __init__(
        self,
        index: int = 0,
        limits: SubmissionLimits | None = None,
        hide: tuple[str, ...] = (),
        owner: int | None = None,  # the grading run's main process, which names (and sweeps) the cgroups
        worker: tuple[int, socket.socket] | None = None,  # a worker already forked for this lane (a zygote's)
    ) -> None:
        self.index = index
        self.limits = limits or SubmissionLimits()
        self.hide = tuple(str(Path(p).resolve()) for p in hide)
        self._owner = owner or os.getpid()
        self._start(worker)

    def _start(self, worker: tuple[int, socket.socket] | None = None) -> None:
        self._closed = False
        self.off: dict[str, str] = {}
        self._cgroups: _Cgroups | None = None
        self._pidfd = None
        self._zygote: Zygote | None = None
        if worker is None:  # a zygote of its own (a restart, a Dask worker's lane, a lane made alone)
            verify_trusted_files()  # a fresh interpreter reads the kit's code from disk: it must be as it was
            self._zygote = Zygote()
            try:
                worker = self._zygote.fork_worker(self.index)
            except ZygoteError as error:
                self._zygote.close()
                raise LaneError(str(error)) from None
        # The zygote forked the lane's keeper; the keeper names the lane's worker, which it forked into the
        # lane's namespaces: the process watched, killed and put in the cgroups.
        self.pid, self._control = worker
        announced = self._receive(START_SECONDS)
        try:
            self.pid = Spawned.from_wire(announced, Op.LANE).pid
        except wire.WireError:
            self.close()
            raise LaneError(
                f"the grading worker did not start: {str(announced.get('error', announced))[-500:]}"
            ) from None
        self._pidfd = pidfd_or_none(self.pid)
        try:
            remove_cgroups(None)  # what runs killed outright left behind
            self._cgroups = _Cgroups(f"{CGROUP_PREFIX}{self._owner}-{self.index}-{self.pid}")
            baseline = 1024 * 2**20  # the worker's interpreter and torch, and the copies forks make
            self._cgroups.limit(baseline + self.limits.memory_mb * 2**20, self.limits.processes + 16)
            self._cgroups.add(self.pid)
        except OSError as error:
            self._cgroups = None
            self.off["cgroup"] = _cgroup_problem(error)
        message = self._receive(START_SECONDS)
        try:
            hello = Hello.from_wire(message)
        except wire.WireError:
            self.close()
            raise LaneError(f"the grading worker did not start: {str(message.get('error', message))[-500:]}") from None
        self.off.update(hello.off or {})

    def restart(self) -> None:
        """A fresh worker in place of one that stopped answering."""
        self.close()
        self._start()

    def _receive(self, timeout: float) -> dict:
        try:
            message = wire.receive(self._control.fileno(), timeout=timeout, caps=wire.CONTROL)
        except wire.WireError as error:
            self.close()
            raise LaneError(f"the grading worker stopped answering ({error})") from None
        return message if isinstance(message, dict) else {}

    def policy(self) -> Policy:
        limits = self.limits
        return Policy(
            uid=UID_BASE + self.index,
            memory_bytes=limits.memory_mb * 2**20,
            file_size_bytes=limits.file_size_mb * 2**20,
            processes=limits.processes,
            cpu_seconds=int(limits.submission_seconds) + 30,
            hide=self.hide,
        )

    def start(self) -> SubmissionProcess:
        try:
            wire.send(self._control.fileno(), RunOrder(self.policy()).to_wire())
            if not select.select([self._control], [], [], ORDER_SECONDS)[0]:
                raise OSError(f"no answer in {ORDER_SECONDS} s")
            _, fds, _, _ = socket.recv_fds(self._control, 1, 1)
        except OSError as error:
            raise LaneError(f"the grading worker did not start a submission ({error})") from None
        try:
            started = Spawned.from_wire(self._receive(ORDER_SECONDS), Op.STARTED)
        except wire.WireError:
            started = None
        if not fds or started is None:
            raise LaneError("the grading worker did not start a submission")
        return SubmissionProcess(self, fds[0], started.pid)

    def kill(self, submission: SubmissionProcess) -> dict:
        """Kill a submission's process (and with it its whole PID namespace); how it ended."""
        if submission.status is None:
            try:
                wire.send(self._control.fileno(), Order(Op.KILL).to_wire())
            except OSError as error:
                raise LaneError(f"the grading worker is gone ({error})") from None
            while True:
                message = self._receive(ORDER_SECONDS)
                if message.get("op") == Op.EXITED:
                    try:
                        submission.status = Exited.from_wire(message).status
                    except wire.WireError as error:
                        self.close()
                        raise LaneError(f"the grading worker stopped answering ({error})") from None
                    break
            os.close(submission.fd)
        return submission.status

    def oom_kills(self) -> int:
        return self._cgroups.oom_kills() if self._cgroups else 0

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._running():
            with contextlib.suppress(OSError):
                wire.send(self._control.fileno(), Order(Op.QUIT).to_wire())
            if not self._ended_within(10):
                self._kill_worker()
                self._ended_within(10)
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None
        self._control.close()
        if self._cgroups is not None:
            self._cgroups.remove()
        if self._zygote is not None:
            self._zygote.close()
            self._zygote = None

    def kill_worker(self) -> None:
        """Kill the worker outright (the tests' way of making a worker die between submissions)."""
        self._kill_worker()
        self._ended_within(10)

    def _running(self) -> bool:
        return not self._ended_within(0)

    def _ended_within(self, seconds: float) -> bool:
        if self._pidfd is not None:  # readable once the process has ended
            return bool(select.select([self._pidfd], [], [], seconds)[0])
        deadline = time.monotonic() + seconds
        while True:  # no pidfds (not Linux): the pid, polled
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return True
            except PermissionError:
                pass
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    def _kill_worker(self) -> None:
        with contextlib.suppress(OSError):
            if self._pidfd is not None:
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
            else:
                os.kill(self.pid, signal.SIGKILL)

    def __enter__(self) -> Lane:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class SubmissionProcess:
    """One sandboxed submission process, as the lane started it."""

    lane: Lane
    fd: int
    pid: int
    status: dict | None = None  # how it ended, once it has
