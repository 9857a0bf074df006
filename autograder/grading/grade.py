"""Grade: one submission from bytes to a :class:`StudentResult`, and a batch of them.

``grade_submission`` is the unit of work (what a lane or a cluster task runs): load the
notebook, run its cells, run the hidden suites against the resulting names, score. A fault
in one submission, the grader's own included, becomes that student's status, never the batch's.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from autograder.assignment import Assignment, AssignmentError
from autograder.grading.discover import Submission, read_submission
from autograder.grading.lane import Lane, LaneError, remove_cgroups
from autograder.grading.load import LoadedNotebook, NotebookLoadError, load_notebook
from autograder.grading.notebook import SandboxedNotebook
from autograder.grading.scoring import not_graded, score_student
from autograder.grading.student import Student
from autograder.grading.suites import run_suite, suite_session
from autograder.grading.zygote import Zygote, ZygoteError
from autograder.language import Text
from autograder.results import CellRun, ErrorInfo, Status, StudentResult
from autograder.sandbox.execute import new_namespace, run_cells
from autograder.sandbox.runtime import InProcessTransport


def grade_submission(submission: Submission, assignment: Assignment, lane: Lane | None = None) -> StudentResult:
    """Grade one discovered submission; never raises for anything the submission does.

    With a ``lane``, the student's code runs in that lane's sandboxed worker; without one, in
    this process (the nbgrader bridge and the grader's own tests of the suites).
    """
    started = time.perf_counter()
    source = str(submission.path) if submission.path else ""
    if submission.problem is not None:
        return not_graded(submission.student, assignment, submission.problem, submission.message, source)
    try:
        notebook = load_notebook(read_submission(submission.path))  # a regular file, never more than the cap
    except NotebookLoadError as error:
        return not_graded(submission.student, assignment, error.status, str(error), source)
    except OSError as error:
        return not_graded(submission.student, assignment, Status.UNREADABLE, f"cannot read: {error.strerror}", source)
    try:
        return grade_notebook(submission.student, notebook, assignment, source, started, lane)
    except AssignmentError:
        raise  # the hidden suite is broken: the instructor must hear it once, not per student
    except LaneError as error:
        # The worker itself failed (not the student's code, which cannot reach it): a fresh one
        # for the rest of the batch, and this student a status. If no worker starts at all, the
        # machine is broken and restart() raises, which stops the run with one line.
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
) -> StudentResult:
    started = time.perf_counter() if started is None else started
    if lane is not None:
        return _grade_in_lane(student, notebook, assignment, source, started, lane)
    namespace = new_namespace()
    limits = assignment.limits
    # The student's relative paths (a saved model, a data file) land in a scratch folder that is
    # deleted afterwards, not in the instructor's working folder.
    with tempfile.TemporaryDirectory(prefix="autograder-scratch-") as scratch, _working_folder(Path(scratch)):
        cells = run_cells(
            notebook.cells, namespace, output_cap=limits.output_kb * 1000, cell_seconds=limits.cell_seconds
        )
        explain = missing_explainer(notebook, cells)
        transport = InProcessTransport(namespace, call_seconds=limits.call_seconds)
        outcomes = run_suite(assignment, lambda: Student(transport, explain_missing=explain))
    return score_student(student, assignment, outcomes, cells, source, time.perf_counter() - started)


def _grade_in_lane(
    student: str, notebook: LoadedNotebook, assignment: Assignment, source: str, started: float, lane: Lane
) -> StudentResult:
    deadline = time.monotonic() + assignment.limits.submission_seconds
    sandboxed = SandboxedNotebook(lane, notebook.cells, deadline)
    try:
        cells = sandboxed.run()
        explain = missing_explainer(notebook, cells)
        outcomes = run_suite(assignment, lambda: Student(sandboxed, explain_missing=explain))
    finally:
        sandboxed.close()
    result = score_student(student, assignment, outcomes, cells, source, time.perf_counter() - started)
    unprotected = tuple(sorted({*lane.off, *sandboxed.off}))
    return dataclasses.replace(result, limit=sandboxed.submission_limit, unprotected=unprotected)


@contextlib.contextmanager
def _working_folder(folder: Path) -> Iterator[None]:
    previous = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous)


def grade_batch(
    submissions: Iterable[Submission],
    assignment: Assignment,
    on_result: Callable[[StudentResult], None] | None = None,
    jobs: int = 1,
    hide: Sequence[Path] = (),
    sandboxed: bool = True,
    zygote: Zygote | None = None,
) -> list[StudentResult]:
    """Grade every submission; results in the submissions' order, ``on_result`` as each one finishes.

    Sandboxed (the default), the student code runs in ``jobs`` lanes, each a pre-warmed worker
    grading one submission at a time; ``hide`` names folders the student code must not see
    beyond what the sandbox already withholds (the submissions, the output, the suites). The
    lanes' workers are forked from ``zygote`` (started by the caller as early as it can, so it
    warms up while the caller imports), or from one started here; it is closed here either way.
    """
    submissions = list(submissions)
    results: list[StudentResult | None] = [None] * len(submissions)
    gradable = [i for i, s in enumerate(submissions) if s.problem is None]
    finished: Iterator[tuple[int, StudentResult]] | None = None
    try:
        for index, submission in enumerate(submissions):  # not graded: known at once, no lane needed
            if submission.problem is not None:
                results[index] = grade_submission(submission, assignment)
                if on_result is not None:
                    on_result(results[index])
        if gradable:
            suite_session(assignment)  # configured and collected once, here, for every lane forked below
        hidden = tuple(str(path) for path in (*hide, assignment.folder))
        jobs = max(1, min(jobs, len(gradable)))
        if not sandboxed or not gradable:
            finished = _no_lane(submissions, gradable, assignment)
        else:
            zygote = zygote or Zygote()
            try:
                workers = [zygote.fork_worker(lane) for lane in range(jobs)]
            except ZygoteError as error:
                raise LaneError(str(error)) from None
            if jobs == 1:
                finished = _one_lane(submissions, gradable, assignment, hidden, workers[0])
            else:
                finished = _many_lanes(submissions, gradable, assignment, hidden, workers, zygote)
        for index, result in finished:
            results[index] = result
            if on_result is not None:
                on_result(result)
    finally:
        if finished is not None:
            finished.close()  # the lanes first (a generator stopped half-way closes them now)
        if zygote is not None:
            zygote.close()  # the workers it forked die with it
    return [result for result in results if result is not None]


def _no_lane(submissions, indices, assignment):
    for index in indices:
        yield index, grade_submission(submissions[index], assignment)


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


def _start_pool_lane(counter, assignment: Assignment, hide: tuple[str, ...], owner: int) -> None:
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


def read_notebook_file(path: Path) -> LoadedNotebook:
    """For tests and tools: load a notebook file the way the grader does."""
    return load_notebook(read_submission(path))
