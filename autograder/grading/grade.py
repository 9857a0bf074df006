"""Grade: one submission from bytes to a :class:`StudentResult`, and a batch of them.

``grade_submission`` is the unit of work (what a lane or a cluster task runs): load the
notebook, run its cells in the lane's sandboxed worker, run the hidden suites against the
resulting names, score. A fault in one submission, the grader's own included, becomes that
student's status, never the batch's.

Trusted side: it starts student code by name only, through a :class:`~autograder.grading.lane.Lane`,
and never imports the sandbox (:mod:`autograder.unsandboxed` runs the same steps in this process).
"""

from __future__ import annotations

import dataclasses
import os
import re
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from autograder.assignment import Assignment, AssignmentError, SubmissionLimits
from autograder.grading.discover import Submission, read_submission
from autograder.grading.lane import Lane, LaneError, remove_cgroups
from autograder.grading.load import LoadedNotebook, NotebookLoadError, load_notebook
from autograder.grading.notebook import SandboxedNotebook
from autograder.grading.scoring import not_graded, score_student
from autograder.grading.student import Student
from autograder.grading.suites import run_suite, suite_session
from autograder.grading.zygote import Zygote, ZygoteError
from autograder.language import Text
from autograder.protocol.messages import Transport
from autograder.results import CellRun, CodeCell, ErrorInfo, Status, StudentResult

if TYPE_CHECKING:
    from multiprocessing.sharedctypes import Synchronized


class NotebookRun(Transport, Protocol):
    """A notebook being run: :meth:`run` its cells, then the hidden tests' calls (the ``Transport``), then
    :meth:`close`. :class:`~autograder.grading.lane.SandboxedNotebook` is the one ``autograder grade`` uses."""

    submission_limit: str  # the limit that struck the notebook as a whole, if one did

    @property
    def off(self) -> Mapping[str, str]:
        """The sandbox protections that were off, and why (read only: a run's own dict attribute fits it)."""

    def run(self) -> Sequence[CellRun]: ...

    def close(self) -> None: ...


Runner = Callable[[tuple[CodeCell, ...], SubmissionLimits], NotebookRun]  # a notebook's cells -> their run


def submission_bytes(submission: Submission, assignment: Assignment) -> bytes | StudentResult:
    """The notebook's bytes, or its row when it cannot be graded: refused at discovery, or unreadable.
    Read as a regular file, never more than the cap."""
    source = submission.source
    if submission.problem is not None:
        return not_graded(submission.student, assignment, submission.problem, submission.message, source)
    assert submission.path is not None  # discover leaves a path out only with a problem
    try:
        return read_submission(submission.path)
    except NotebookLoadError as error:
        return not_graded(submission.student, assignment, error.status, str(error), source)
    except OSError as error:
        return not_graded(submission.student, assignment, Status.UNREADABLE, f"cannot read: {error.strerror}", source)


def grade_submission(
    submission: Submission, assignment: Assignment, lane: Lane | None = None, *, runner: Runner | None = None
) -> StudentResult:
    """Grade one discovered submission; never raises for anything the submission does.

    The student's code runs in ``lane``'s sandboxed worker. A submission that cannot be graded
    (refused at discovery, unreadable) needs no lane; ``runner`` replaces the lane for
    :mod:`autograder.unsandboxed`.
    """
    started = time.perf_counter()
    source = submission.source
    data = submission_bytes(submission, assignment)
    if isinstance(data, StudentResult):
        return data
    try:
        notebook = load_notebook(data)
    except NotebookLoadError as error:
        return not_graded(submission.student, assignment, error.status, str(error), source)
    if lane is None and runner is None:
        raise TypeError("a gradable submission is graded in a lane (autograder.unsandboxed grades in this process)")
    try:
        return grade_notebook(submission.student, notebook, assignment, source, started, lane, runner=runner)
    except AssignmentError:
        raise  # the hidden suite is broken: the instructor must hear it once, not per student
    except LaneError as error:
        # The worker itself failed (not the student's code, which cannot reach it): a fresh one
        # for the rest of the batch, and this student a status. If no worker starts at all, the
        # machine is broken and restart() raises, which stops the run with one line.
        if lane is not None:
            lane.restart()
        return not_graded(submission.student, assignment, Status.GRADER_ERROR, f"grading worker: {error}", source)
    except Exception as error:  # a bug of ours: this student gets a status, the batch goes on
        message = f"internal grader error: {type(error).__name__}: {error}"
        return not_graded(submission.student, assignment, Status.GRADER_ERROR, message, source)


def grade_notebook(
    student: str,
    notebook: LoadedNotebook,
    assignment: Assignment,
    source: str = "",
    started: float | None = None,
    lane: Lane | None = None,
    *,
    runner: Runner | None = None,
) -> StudentResult:
    """Run ``notebook`` in ``lane`` (or with ``runner``), its hidden tests against it, and score it."""
    started = time.perf_counter() if started is None else started
    if runner is not None:
        run: NotebookRun = runner(notebook.cells, assignment.limits)
    elif lane is not None:
        run = SandboxedNotebook(lane, notebook.cells, time.monotonic() + assignment.limits.submission_seconds)
    else:
        raise TypeError("a notebook is graded in a lane (autograder.unsandboxed grades in this process)")
    try:
        cells = run.run()
        explain = missing_explainer(notebook, cells)
        outcomes = run_suite(assignment, lambda: Student(run, explain_missing=explain))
    finally:
        run.close()
    result = score_student(student, assignment, outcomes, cells, source, time.perf_counter() - started)
    unprotected = tuple(sorted({*(lane.off if lane is not None else ()), *run.off}))
    return dataclasses.replace(result, limit=run.submission_limit, unprotected=unprotected)


def gather_results(
    submissions: Sequence[Submission],
    assignment: Assignment,
    grade_gradable: Callable[[list[int]], Iterable[tuple[int, StudentResult]]],
    on_result: Callable[[StudentResult], None] | None = None,
) -> list[StudentResult]:
    """Every submission's row, in the submissions' order, ``on_result`` as each one finishes: the rows of
    those that cannot be graded at once (no lane needed), then what ``grade_gradable`` yields for the
    indices of the others. One row per submission, whatever ``grade_gradable`` yields twice."""
    results: list[StudentResult | None] = [None] * len(submissions)

    def finished(index: int, result: StudentResult) -> None:
        if results[index] is not None:
            return
        results[index] = result
        if on_result is not None:
            on_result(result)

    gradable = []
    for index, submission in enumerate(submissions):
        if submission.problem is not None:
            finished(index, grade_submission(submission, assignment))
        else:
            gradable.append(index)
    for index, result in grade_gradable(gradable):
        finished(index, result)
    return [result for result in results if result is not None]


def grade_batch(
    submissions: Iterable[Submission],
    assignment: Assignment,
    on_result: Callable[[StudentResult], None] | None = None,
    jobs: int = 1,
    hide: Sequence[Path] = (),
    zygote: Zygote | None = None,
) -> list[StudentResult]:
    """Grade every submission; results in the submissions' order, ``on_result`` as each one finishes.

    The student code runs in ``jobs`` lanes, each a pre-warmed worker grading one submission at a
    time; ``hide`` names folders the student code must not see beyond what the sandbox already
    withholds (the submissions, the output, the suites). The lanes' workers are forked from
    ``zygote`` (started by the caller as early as it can, so it warms up while the caller imports),
    or from one started here; it is closed here either way.
    """
    submissions = list(submissions)
    lanes: Generator[tuple[int, StudentResult], None, None] | None = None

    def in_lanes(gradable: list[int]) -> Iterator[tuple[int, StudentResult]]:
        nonlocal lanes, zygote
        if not gradable:
            return iter(())
        suite_session(assignment)  # configured and collected once, here, for every lane forked below
        hidden = tuple(str(path) for path in (*hide, assignment.folder))
        count = max(1, min(jobs, len(gradable)))
        zygote = zygote or Zygote()
        try:
            workers = [zygote.fork_worker(lane) for lane in range(count)]
        except ZygoteError as error:
            raise LaneError(str(error)) from None
        if count == 1:
            lanes = _one_lane(submissions, gradable, assignment, hidden, workers[0])
        else:
            lanes = _many_lanes(submissions, gradable, assignment, hidden, workers, zygote)
        return lanes

    try:
        return gather_results(submissions, assignment, in_lanes, on_result)
    finally:
        if lanes is not None:
            lanes.close()  # the lanes first (a generator stopped half-way closes them now)
        if zygote is not None:
            zygote.close()  # the workers it forked die with it


def _one_lane(submissions, indices, assignment, hide, worker):
    with Lane(0, assignment.limits, hide, worker=worker) as lane:
        for index in indices:
            yield index, grade_submission(submissions[index], assignment, lane)


# -- parallel lanes: each one a trusted process forked from this one (the suites and pytest already
# imported, the suites' pytest session collected), owning one worker. Results come back pickled
# between trusted processes only.
_pool_lane: list[Lane] = []
_pool_state: dict = {}


def _many_lanes(submissions, indices, assignment, hide, workers, zygote):
    import multiprocessing

    context = multiprocessing.get_context("fork")
    counter = context.Value("i", 0)
    _pool_state.update(submissions=submissions, assignment=assignment, workers=workers, zygote=zygote)
    owner = os.getpid()
    try:
        pool = context.Pool(len(workers), initializer=_start_pool_lane, initargs=(counter, assignment, hide, owner))
    finally:
        for _pid, control in workers:  # each lane process holds its own worker's socket now
            control.close()
    try:
        yield from pool.imap_unordered(_grade_in_pool_lane, indices)
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()
        _pool_state.clear()
        remove_cgroups(owner)  # what a lane killed mid-way could not remove itself


def _start_pool_lane(counter: Synchronized[int], assignment: Assignment, hide: tuple[str, ...], owner: int) -> None:
    import multiprocessing.util
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    with counter.get_lock():
        index = counter.value
        counter.value += 1
    workers = _pool_state.get("workers") or []
    for position, (_pid, control) in enumerate(workers):  # only this lane's worker socket stays open here
        if position != index:
            control.close()
    _pool_state["zygote"].forget()  # only the main process talks to the zygote
    # A lane process the pool starts again later (one died) starts a worker of its own.
    worker = workers[index] if index < len(workers) else None
    lane = Lane(index, assignment.limits, hide, owner=owner, worker=worker)
    _pool_lane.append(lane)
    multiprocessing.util.Finalize(lane, lane.close, exitpriority=10)

    def stop(signum: int, frame: object) -> None:  # the pool is terminated (Ctrl-C, an error): worker first
        lane.close()
        os._exit(1)

    signal.signal(signal.SIGTERM, stop)


def _grade_in_pool_lane(index: int) -> tuple[int, StudentResult]:
    submission = _pool_state["submissions"][index]
    return index, grade_submission(submission, _pool_state["assignment"], _pool_lane[0])


def missing_explainer(notebook: LoadedNotebook, cells: Sequence[CellRun]) -> Callable[[str], str]:
    """A French sentence for a name the hidden tests need and the notebook did not define.

    The first failed cell that defines the name (a top-level ``def name(`` or ``name = ...``) is
    named. What the failed cells define is read once per notebook, on the first missing name: one
    pass over each failed cell with a pattern that never looks past the end of a line, so its time
    grows with the cells' length only; every later name is a lookup.
    """
    failed = {run.cell: run.error for run in cells if run.error is not None}
    found: _Definitions | None = None

    def explain(name: str) -> str:
        nonlocal found
        if found is None:
            found = _defined_in_failed_cells(notebook, failed)
        if name in found:
            cell, error = found[name]
            return Text(
                f"`{name}` n'est pas défini : la cellule {cell}, qui le définit, a échoué ({error.summary()}).",
                f"`{name}` is not defined: cell {cell}, which defines it, failed ({error.summary()}).",
            )
        return Text(
            f"`{name}` n'est défini dans aucune cellule de votre notebook (nom modifié, ou cellule supprimée ?).",
            f"`{name}` is not defined in any cell of your notebook (a renamed function, or a deleted cell?).",
        )

    return explain


# A top-level definition, one line at most: `def name(` or `name = ...` / `name: type = ...` (not `==`).
# Possessive (`*+`, `++`): what a part matched is never given back, so each line is read about once.
_DEFINES = re.compile(r"^(?:def[ \t]++(\w++)[ \t]*+\(|(\w++)[ \t]*+(?::[^=\n]*+)?=(?!=))", re.M)
_Definitions = dict[str, tuple[int, ErrorInfo]]  # name -> the first failed cell defining it, and its error
_MAX_DEFINED = 100_000  # names remembered per notebook; a notebook with more gets the general sentence for the rest


def _defined_in_failed_cells(notebook: LoadedNotebook, failed: dict[int, ErrorInfo]) -> _Definitions:
    """Each name a failed cell defines -> the first such cell and its error."""
    found: _Definitions = {}
    for cell in notebook.cells:
        error = failed.get(cell.cell)
        if error is None:
            continue
        for match in _DEFINES.finditer(cell.source):
            name = match.group(1) or match.group(2)
            if name not in found and len(found) < _MAX_DEFINED:
                found[name] = (cell.cell, error)
    return found
