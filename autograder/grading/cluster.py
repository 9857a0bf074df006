"""Cluster: a batch graded as tasks on a Dask distributed cluster, each Dask worker process grading with
its own pre-warmed lane, exactly as a local run's lane processes do.

Nothing is assumed shared between machines. The client (the machine that asked) ships the assignment
folder's files once per run inside a worker plugin, and each notebook's bytes inside its task; a task
returns the student's :class:`StudentResult` (pickled between trusted processes, as the local lane
processes return theirs). On each Dask worker the plugin writes the suite to a private folder, takes a
lane number no other lane on that machine holds (:mod:`autograder.grading.slots`), starts one :class:`Lane`
with that folder hidden from student code, and grades every task of the run through it, one at a
time, in one thread of its own (the lane's worker dies with the thread that started it, so it is
never a thread Dask may retire). Reports are written by the client, as for a local run.

Faults: a Dask worker that dies mid-task has the task run again elsewhere by the scheduler (a
task's result comes back once, keyed by its submission); one whose tasks killed
``distributed.scheduler.allowed-failures`` + 1 workers becomes that student's ``grader_error``. A
lane that cannot start, a broken suite or a scheduler out of reach stop the run with one line.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import dask
from distributed import CancelledError, Client, KilledWorker, LocalCluster, as_completed, get_worker
from distributed.diagnostics.plugin import WorkerPlugin

# Only light modules here: a Dask worker imports this one in its event loop when it unpickles the
# plugin or a task; torch, pytest and the suites are imported in the lane's own thread.
from autograder import __version__
from autograder.errors import AutograderError, one_line
from autograder.grading.discover import Submission
from autograder.results import Status, StudentResult

if TYPE_CHECKING:
    from dask.typing import Key
    from distributed import Future, Worker

    from autograder.assignment import Assignment
    from autograder.grading.lane import Lane
    from autograder.grading.slots import Slot

LOCAL = "local"  # `--scheduler local`: a LocalCluster on this machine
SUITE_BYTES = 32 * 2**20  # an assignment folder larger than this is not shipped to every worker
RUN_FOLDER_PREFIX = "autograder-dask-"  # + the Dask worker's pid: its suite copy and notebooks


class ClusterError(AutograderError):
    """The cluster cannot grade this run (scheduler out of reach, a worker that cannot run a lane)."""


class ClusterRun:
    """One run's hold on a Dask cluster: connected, with the run's lanes starting on every worker from
    :meth:`__enter__` on (so they warm up while this process loads the suites), gone at :meth:`__exit__`.

    ``scheduler`` is an address, or ``"local"`` for a LocalCluster of ``local_workers`` processes;
    ``suite`` the assignment folder the client grades with, and ``limits`` the command line's
    overrides of its limits; ``hide`` names folders the student code must not see, on the workers
    too (when they share this machine's paths).
    """

    def __init__(
        self,
        scheduler: str,
        suite: Path,
        limits: dict | None = None,
        hide: Sequence[Path] = (),
        local_workers: int = 1,
    ) -> None:
        self.scheduler = scheduler
        self.run = uuid.uuid4().hex[:12]
        self.plugin = f"autograder-lanes-{self.run}"
        self._lanes = LanePlugin(suite_files(suite), dict(limits or {}), tuple(str(p) for p in hide))
        self._local_workers = local_workers
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> ClusterRun:
        with self._stack as stack:
            self.client = stack.enter_context(_client(self.scheduler, self._local_workers))
            self.client.register_plugin(self._lanes, name=self.plugin)
            stack.callback(self._unregister)
            self._stack = stack.pop_all()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _unregister(self) -> None:
        with contextlib.suppress(Exception):  # the scheduler may be gone; the run's own error says why
            self.client.unregister_worker_plugin(self.plugin)

    def grade(
        self,
        submissions: Sequence[Submission],
        assignment: Assignment,
        on_result: Callable[[StudentResult], None] | None = None,
    ) -> list[StudentResult]:
        """Grade every submission; results in the submissions' order, ``on_result`` as each one finishes.
        The not-gradable rows are made here at once, as ``grade_batch`` makes them."""
        from autograder.grading.grade import gather_results

        return gather_results(
            submissions, assignment, lambda gradable: self._tasks(submissions, gradable, assignment), on_result
        )

    def _tasks(
        self, submissions: Sequence[Submission], indices: list[int], assignment: Assignment
    ) -> Iterator[tuple[int, StudentResult]]:
        from autograder.grading.grade import submission_bytes

        client = self.client
        waiting = list(reversed(indices))
        in_flight: dict[Key, int] = {}  # task key -> submission index
        done = as_completed(loop=client.loop)
        while waiting or in_flight:
            # A few tasks per worker thread at a time: the notebooks' bytes wait in the scheduler's
            # memory only while their task waits, not the whole class at once.
            window = max(4, 2 * sum(client.nthreads().values()))
            while waiting and len(in_flight) < window:
                index = waiting.pop()
                submission = submissions[index]
                data = submission_bytes(submission, assignment)
                if isinstance(data, StudentResult):
                    yield index, data
                    continue
                key = f"grade-{self.run}-{index}"
                future = client.submit(
                    _grade_task, self.plugin, submission.student, str(submission.path), data, key=key
                )
                in_flight[future.key] = index
                done.add(future)
            if in_flight:
                future = next(done)
                index = in_flight.pop(future.key)
                yield index, result_of(future, submissions[index], assignment)
                future.release()


@contextlib.contextmanager
def _client(scheduler: str, local_workers: int) -> Iterator[Client]:
    if scheduler == LOCAL:
        # One thread per worker process: each process has one lane, which grades one submission at a time.
        cluster = LocalCluster(
            n_workers=local_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        with cluster, Client(cluster, set_as_default=False) as client:
            yield client
        return
    timeout = dask.config.get("distributed.comm.timeouts.connect")
    try:
        client = Client(scheduler, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as error:
        raise ClusterError(f"cannot reach the Dask scheduler at {scheduler}: {one_line(error)}") from None
    with client:
        yield client


def result_of(future: Future, submission: Submission, assignment: Assignment) -> StudentResult:
    """A finished task's result; the workers it killed make it this student's grader_error, not the batch's."""
    from autograder.grading.scoring import not_graded

    source = submission.source
    try:
        result = future.result()
    except KilledWorker as error:
        message = (
            f"grading worker: {error.allowed_failures + 1} Dask workers died while grading this submission "
            "(distributed.scheduler.allowed-failures); see the workers' logs"
        )
        return not_graded(submission.student, assignment, Status.GRADER_ERROR, message, source)
    except AutograderError:
        raise  # a lane that cannot start, a broken suite: the run stops with one line, as locally
    except CancelledError as error:
        raise ClusterError(f"the Dask scheduler dropped the grading tasks ({one_line(error)})") from None
    except Exception as error:  # a bug of ours on the worker: this student gets a status, the batch goes on
        message = f"internal grader error on a Dask worker: {type(error).__name__}: {one_line(error)}"
        return not_graded(submission.student, assignment, Status.GRADER_ERROR, message, source)
    if not isinstance(result, StudentResult) or result.student != submission.student:
        message = "internal grader error: a Dask worker returned something else than this student's result"
        return not_graded(submission.student, assignment, Status.GRADER_ERROR, message, source)
    return result


def suite_files(folder: Path) -> dict[str, bytes]:
    """The assignment folder's files (``assignment.yaml``, ``pytest.ini``, the hidden tests, their data) by
    relative path, to rebuild it on a machine that does not share this one's files."""
    files, total = {}, 0
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_dir() or "__pycache__" in relative.parts or path.suffix == ".pyc":
            continue
        files[relative.as_posix()] = content = path.read_bytes()
        total += len(content)
        if total > SUITE_BYTES:
            raise ClusterError(f"the assignment folder {folder} holds more than {SUITE_BYTES // 2**20} MB to ship")
    return files


def _grade_task(plugin: str, student: str, source: str, notebook: bytes) -> StudentResult:
    """What a task runs on a Dask worker: grade one notebook with the run's lane there."""
    worker = get_worker()
    lanes = worker.plugins.get(plugin)
    if not isinstance(lanes, LanePlugin):
        raise ClusterError(f"the Dask worker {worker.address} has no autograder lane for this run")
    return lanes.grade(student, source, notebook)


class LanePlugin(WorkerPlugin):
    """One lane per Dask worker process for one run: set up when the run registers it (or when a worker
    joins, or replaces a dead one), closed when the run unregisters it or the worker closes."""

    def __init__(self, suite: dict[str, bytes], limits: dict, hide: tuple[str, ...]) -> None:
        self.suite = suite
        self.limits = limits
        self.hide = hide
        self.version = __version__

    def setup(self, worker: Worker) -> None:
        self.address = worker.address
        # Set by _open, in the lane's thread; every task waits for it to have succeeded (_grade).
        self._lane: Lane | None = None
        self._slot: Slot | None = None
        self._folder: Path | None = None
        self._assignment: Assignment | None = None
        # Everything the lane does happens in this one thread: it starts the worker (whose parent-death
        # signal follows this thread), restarts it, grades, and closes it.
        self._thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="autograder-lane")
        self._opened = self._thread.submit(self._open)  # the event loop is not held while torch loads

    def grade(self, student: str, source: str, notebook: bytes) -> StudentResult:
        return self._thread.submit(self._grade, student, source, notebook).result()

    async def teardown(self, worker: Worker) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self._stop)

    def _open(self) -> None:
        import torch

        import autograder.grading.grade  # noqa: F401  (the grading path's imports, paid before the first task)
        from autograder.assignment import load_assignment, with_limits
        from autograder.grading.lane import Lane
        from autograder.grading.slots import Slot

        if self.version != __version__:
            raise ClusterError(f"autograder {__version__} on this worker, {self.version} on the client")
        torch.set_num_threads(1)  # as `autograder grade` does: the suites' tensors are tiny
        _sweep_run_folders()
        self._folder = Path(tempfile.mkdtemp(prefix=f"{RUN_FOLDER_PREFIX}{os.getpid()}-"))
        suite = self._folder / "suite"
        for relative, content in self.suite.items():
            parts = PurePosixPath(relative).parts
            if PurePosixPath(relative).is_absolute() or ".." in parts:
                raise ClusterError(f"refusing a suite file outside the suite folder: {relative}")
            path = suite.joinpath(*parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        (self._folder / "notebooks").mkdir()
        # The client's assignment.yaml, so its limits, and the command line's overrides of them.
        self._assignment = with_limits(load_assignment(folder=suite), self.limits)
        self._slot = Slot()
        hide = (str(self._folder), *self.hide)
        self._lane = Lane(self._slot.index, self._assignment.limits, hide, owner=os.getpid())

    def _grade(self, student: str, source: str, notebook: bytes) -> StudentResult:
        from autograder.grading.grade import grade_submission  # imported by _open already: no cost here

        try:
            self._opened.result()
        except Exception as error:  # raised by every task of this worker: the client stops at the first
            raise ClusterError(f"the Dask worker {self.address} cannot grade: {one_line(error)}") from None
        assert self._folder is not None  # _open succeeded: it set them all
        assert self._assignment is not None
        path = self._folder / "notebooks" / f"{uuid.uuid4().hex}.ipynb"
        path.write_bytes(notebook)
        try:
            # The same unit of work as a local lane's, on a private copy of the notebook.
            result = grade_submission(Submission(student, path), self._assignment, self._lane)
        finally:
            path.unlink()
        return dataclasses.replace(result, source=source)

    def _stop(self) -> None:
        self._thread.submit(self._close).result()  # after the grading under way, if any
        self._thread.shutdown()

    def _close(self) -> None:
        if self._lane is not None:
            self._lane.close()
        if self._slot is not None:
            self._slot.release()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)


def _sweep_run_folders() -> None:
    """Remove what Dask workers killed outright left behind (the suite copy, a notebook)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{RUN_FOLDER_PREFIX}*"):
        pid = folder.name[len(RUN_FOLDER_PREFIX) :].split("-")[0]
        try:
            ours = folder.lstat().st_uid == os.geteuid()
        except OSError:
            continue
        if ours and pid.isdigit() and not Path("/proc", pid).exists():
            shutil.rmtree(folder, ignore_errors=True)
