"""Grade: one submission from bytes to a :class:`StudentResult`, and a batch of them.

``grade_submission`` is the unit of work (what a lane or a cluster task runs): load the
notebook, run its cells, run the hidden suites against the resulting names, score. A fault
in one submission, the grader's own included, becomes that student's status, never the batch's.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from autograder.discover import Submission
from autograder.execute import new_namespace, run_cells
from autograder.language import Text
from autograder.load import MAX_NOTEBOOK_BYTES, LoadedNotebook, NotebookLoadError, load_notebook
from autograder.results import CellRun, Status, StudentResult
from autograder.scoring import not_graded, score_student
from autograder.suites import Assignment, AssignmentError, run_suite
from autograder.transport import InProcessTransport, Student


def grade_submission(submission: Submission, assignment: Assignment) -> StudentResult:
    """Grade one discovered submission; never raises for anything the submission does."""
    started = time.perf_counter()
    source = str(submission.path) if submission.path else ""
    if submission.problem is not None:
        return not_graded(submission.student, assignment, submission.problem, submission.message, source)
    try:
        if submission.path.stat().st_size > MAX_NOTEBOOK_BYTES:  # not even read into memory
            raise NotebookLoadError(Status.TOO_LARGE, f"file larger than {MAX_NOTEBOOK_BYTES // 2**20} MB")
        notebook = load_notebook(submission.path.read_bytes())
    except NotebookLoadError as error:
        return not_graded(submission.student, assignment, error.status, str(error), source)
    except OSError as error:
        return not_graded(submission.student, assignment, Status.UNREADABLE, f"cannot read: {error.strerror}", source)
    try:
        return grade_notebook(submission.student, notebook, assignment, source, started)
    except AssignmentError:
        raise  # the hidden suite itself is broken: the instructor must hear it once, not per student
    except Exception as error:  # a bug of ours: this student gets a status, the batch goes on
        message = f"internal grader error: {type(error).__name__}: {error}"
        return not_graded(submission.student, assignment, Status.GRADER_ERROR, message, source)


def grade_notebook(
    student: str, notebook: LoadedNotebook, assignment: Assignment, source: str = "", started: float | None = None
) -> StudentResult:
    started = time.perf_counter() if started is None else started
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
) -> list[StudentResult]:
    results = []
    for submission in submissions:
        result = grade_submission(submission, assignment)
        if on_result is not None:
            on_result(result)
        results.append(result)
    return results


def missing_explainer(notebook: LoadedNotebook, cells: Sequence[CellRun]) -> Callable[[str], str]:
    """A French sentence for a name the hidden tests need and the notebook did not define."""
    runs = {run.cell: run for run in cells}

    def explain(name: str) -> str:
        defines = re.compile(rf"^(?:def\s+{re.escape(name)}\s*\(|{re.escape(name)}\s*(?::[^=]*)?=[^=])", re.M)
        for cell in notebook.cells:
            if defines.search(cell.source):
                run = runs.get(cell.cell)
                if run is not None and run.error is not None:
                    return Text(
                        f"`{name}` n'est pas défini : la cellule {cell.cell}, qui le définit, "
                        f"a échoué ({run.error.summary()}).",
                        f"`{name}` is not defined: cell {cell.cell}, which defines it, failed ({run.error.summary()}).",
                    )
        return Text(
            f"`{name}` n'est défini dans aucune cellule de votre notebook (nom modifié, ou cellule supprimée ?).",
            f"`{name}` is not defined in any cell of your notebook (a renamed function, or a deleted cell?).",
        )

    return explain


def read_notebook_file(path: Path) -> LoadedNotebook:
    """For tests and tools: load a notebook file the way the grader does."""
    return load_notebook(path.read_bytes())
