"""nbgrader bridge, sandboxed: a preprocessor that takes the place of nbgrader's ``Execute`` in
``nbgrader autograde``.

The student's code cells run in the kit's sandbox (one lane for the whole ``nbgrader autograde``
run, started at the first notebook and closed when the process ends), never in a kernel the grader
shares; each graded check cell is then graded by its question's hidden suite in this, the trusted,
process, exactly as ``autograder grade`` does. What nbgrader reads back is written into the notebook:

- each code cell the student wrote gets its output (stdout), and its error with the traceback
  trimmed to their cells, or the limit that stopped it;
- each graded check cell gets the summary of its hidden tests on stdout and its points as the cell's
  result (``execute_result``), which nbgrader takes as partial credit; nothing on stderr.

nbgrader's other steps (``SaveAutoGrades``, late penalties, the gradebook, feedback, export) are
nbgrader's own. Selected by ``autograder nbgrader init`` through ``c.Autograde.autograde_preprocessors``.
"""

from __future__ import annotations

import atexit
import dataclasses
import os
import signal
from pathlib import Path
from types import FrameType

import nbformat
from nbconvert.preprocessors import Preprocessor
from nbformat.notebooknode import NotebookNode
from traitlets import Bool, Enum, Float, Integer

from autograder.assignment import Assignment, load_assignment, with_limits
from autograder.grading.lane import Lane
from autograder.grading.load import NotebookLoadError, load_notebook
from autograder.language import Text, in_language, output_in_language
from autograder.nbgrader.cell import summary
from autograder.results import CellRun, StudentResult

# nbgrader's autograde steps with this module's executor in the place of its Execute (the list that
# `autograder nbgrader init` writes into the course's nbgrader_config.py).
AUTOGRADE_PREPROCESSORS = [
    "autograder.nbgrader.executor.SandboxedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]

_NO_HIDDEN_TEST = Text("Aucun test caché pour cette cellule.", "No hidden test for this cell.")
_lane: Lane | None = None
_assignment: Assignment | None = None
_interrupted = False  # Ctrl-C came: the run stops at the latest when the next notebook starts


def _on_interrupt(signum: int, frame: object) -> None:
    """Ctrl-C: KeyboardInterrupt, as Python's own handler raises it, and a flag that outlives it.

    Python drops an exception raised while a weakref callback or a ``__del__`` runs ("Exception
    ignored in ..."); with the hidden suites' garbage in nbgrader's process a Ctrl-C often lands there,
    and the run went on to the end. The flag makes the next notebook raise it again."""
    global _interrupted
    _interrupted = True
    raise KeyboardInterrupt


def _stop_if_interrupted() -> None:
    if _interrupted:
        raise KeyboardInterrupt


def _shared_lane(hide: tuple[str, ...], overrides: dict) -> tuple[Lane, Assignment]:
    """The run's one lane (its zygote started once, its workers closed when the process ends)."""
    global _lane, _assignment
    if _lane is None:
        from autograder.grading.grade import suite_session  # the suites' pytest session, collected once for the run

        _assignment = load_assignment()
        _assignment = with_limits(_assignment, overrides)  # the course's config, as `grade --cell-seconds` would
        suite_session(_assignment)
        _lane = Lane(0, _assignment.limits, (*hide, str(_assignment.folder)))
        atexit.register(_close)
        previous = signal.getsignal(signal.SIGTERM)

        def stop(signum: int, frame: FrameType | None) -> None:  # killed: the lane's workers first
            _close()
            if callable(previous):
                previous(signum, frame)
            else:
                os._exit(128 + signum)

        signal.signal(signal.SIGTERM, stop)
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not if ignored (a background job)
            signal.signal(signal.SIGINT, _on_interrupt)
    assert _assignment is not None  # set with the lane
    return _lane, _assignment


def _close() -> None:
    global _lane
    if _lane is not None:
        lane, _lane = _lane, None
        lane.close()


class SandboxedExecute(Preprocessor):
    """nbgrader's ``Execute``, through the kit's sandbox: see the module's documentation."""

    enabled = Bool(True).tag(config=True)  # nbconvert's preprocessors are off unless enabled
    # The assignment's limits, overridden for the course (c.SandboxedExecute.cell_seconds = 60): None keeps
    # assignment.yaml's.
    cell_seconds = Float(None, allow_none=True, help="time limit per cell (s)").tag(config=True)
    call_seconds = Float(None, allow_none=True, help="time limit per call of a student's function (s)").tag(config=True)
    submission_seconds = Float(None, allow_none=True, help="time limit per notebook (s)").tag(config=True)
    memory_mb = Integer(None, allow_none=True, help="memory per notebook (MB)").tag(config=True)
    lang = Enum(["fr", "en"], "fr", help="language of what the cells show students: fr or en").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        from autograder.grading.grade import grade_notebook

        student = str((resources.get("nbgrader") or {}).get("student") or "student")
        course = _course_root(self)
        names = ("cell_seconds", "call_seconds", "submission_seconds", "memory_mb")
        overrides = {name: getattr(self, name) for name in names if getattr(self, name) is not None}
        lane, assignment = _shared_lane((course,) if course else (), overrides)
        _stop_if_interrupted()
        try:
            notebook = load_notebook(nbformat.writes(nb).encode())
        except NotebookLoadError as error:  # nbgrader read it, so this is rare: every check cell scores 0
            self.log.warning("autograder: %s: %s", student, error)
            write_outputs(nb, None, {}, str(error), self.lang)
            return nb, resources
        result = grade_notebook(student, notebook, assignment, lane=lane)
        _stop_if_interrupted()
        write_outputs(nb, result, {q.question: q for q in result.questions}, "", self.lang)
        return nb, resources


def _course_root(preprocessor: Preprocessor) -> str:
    """The course folder (solutions, gradebook, every student's work): out of the student code's sight."""
    try:
        from nbgrader.coursedir import CourseDirectory

        root = CourseDirectory(parent=preprocessor.parent, config=preprocessor.config).root
    except Exception:  # not run by nbgrader (a test of this preprocessor alone): the working folder
        root = os.getcwd()
    return str(Path(root).resolve())


def write_outputs(
    nb: NotebookNode, result: StudentResult | None, questions: dict, problem: str, lang: str = "fr"
) -> None:
    """Write the grading into ``nb`` as nbgrader reads it: each check cell gets its question's summary and
    score (``problem``, or a missing-suite note, when ``questions`` has none for it); each student cell its
    output and error, in ``lang``."""
    runs: dict[int, CellRun] = {run.cell: run for run in (result.cells if result else ())}
    count = 0
    for position, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code":
            continue
        count += 1
        meta = cell.metadata.get("nbgrader", {})
        cell.outputs = []
        cell.execution_count = count
        if meta.get("grade") and not meta.get("solution"):  # a check cell: the hidden suite's verdict
            question = questions.get(meta.get("grade_id"))
            if question is None:
                text = problem or in_language(_NO_HIDDEN_TEST, lang)
                score = 0.0
            else:
                text = summary(question, lang)
                score = question.score
            cell.outputs.append(nbformat.v4.new_output("stream", name="stdout", text=text + "\n"))
            cell.outputs.append(
                nbformat.v4.new_output("execute_result", data={"text/plain": f"{score:g}"}, execution_count=count)
            )
            continue
        run = runs.get(position)
        if run is None:
            continue
        if run.output:
            output = output_in_language(run.output, lang)
            cell.outputs.append(nbformat.v4.new_output("stream", name="stdout", text=output))
        if run.error is not None:
            where = "Cell {}, line {}, in {}: {}" if lang == "en" else "Cellule {}, ligne {}, dans {} : {}"
            lines = [where.format(f.cell, f.line, f.function, f.text) for f in run.error.frames]
            error = dataclasses.replace(run.error, message=in_language(run.error.message, lang))
            cell.outputs.append(
                nbformat.v4.new_output(
                    "error", ename=error.type_name, evalue=error.message, traceback=[*lines, error.summary()]
                )
            )
