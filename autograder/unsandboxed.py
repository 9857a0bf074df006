"""Unsandboxed: grading in this process, with no sandbox, for the benchmark's floor and tests.

The same steps as :func:`autograder.grading.grade.grade_submission`, but the student's cells run in
this interpreter (:func:`autograder.sandbox.execute.run_cells`) and the hidden tests call into their
namespace directly (:class:`autograder.sandbox.runtime.InProcessTransport`): nothing stands between
the student's code and the grader. Never used by ``autograder grade``, whose lanes run student code
in the sandboxed worker. It imports both the trusted side and the sandbox, which is why it lies
outside both; nothing in the package imports it.
"""

from __future__ import annotations

import contextlib
import tempfile

from autograder.assignment import Assignment, SubmissionLimits
from autograder.grading import grade
from autograder.grading.discover import Submission
from autograder.grading.load import LoadedNotebook
from autograder.results import CellRun, CodeCell, StudentResult
from autograder.sandbox.execute import new_namespace, run_cells
from autograder.sandbox.runtime import InProcessTransport


class InProcessNotebook(InProcessTransport):
    """A notebook run in this process (a :class:`~autograder.grading.grade.NotebookRun`): its cells in a
    fresh namespace, within the cell and call timers only. The student's relative paths (a saved model,
    a data file) land in a scratch folder that :meth:`close` deletes, not in the instructor's folder."""

    def __init__(self, cells: tuple[CodeCell, ...], limits: SubmissionLimits) -> None:
        super().__init__(new_namespace(), call_seconds=limits.call_seconds)
        self.submission_limit = ""  # no timer for the notebook as a whole here
        self.off: dict[str, str] = {}  # no protection is reported off: none is on
        self._cells = cells
        self._limits = limits
        self._scratch = contextlib.ExitStack()
        folder = self._scratch.enter_context(tempfile.TemporaryDirectory(prefix="autograder-scratch-"))
        self._scratch.enter_context(contextlib.chdir(folder))

    def run(self) -> tuple[CellRun, ...]:
        limits = self._limits
        return run_cells(
            self._cells, self._namespace, output_cap=limits.output_kb * 1000, cell_seconds=limits.cell_seconds
        )

    def close(self) -> None:
        self._scratch.close()


def grade_submission(submission: Submission, assignment: Assignment) -> StudentResult:
    """:func:`autograder.grading.grade.grade_submission`, the student's code run in this process."""
    return grade.grade_submission(submission, assignment, runner=InProcessNotebook)


def grade_notebook(
    student: str, notebook: LoadedNotebook, assignment: Assignment, source: str = "", started: float | None = None
) -> StudentResult:
    """:func:`autograder.grading.grade.grade_notebook`, the student's code run in this process."""
    return grade.grade_notebook(student, notebook, assignment, source, started, runner=InProcessNotebook)
