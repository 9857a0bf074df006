"""Release: make the student notebook from the solution notebook with nbgrader's own preprocessors."""

from __future__ import annotations

import copy
import logging
import shlex
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbgrader.converters import GenerateAssignment
from nbgrader.nbgraderformat import ValidationError
from nbgrader.preprocessors import SaveCells
from traitlets.config import Config

from autograder.errors import ReleaseError, one_line
from autograder.nbgrader.layout import CourseLayout

# What replaces each `### BEGIN SOLUTION` ... `### END SOLUTION` region. Students read it, so it is
# French. An nbgrader course must set the same value (ClearSolutions.code_stub) so that
# `nbgrader generate_assignment` and `autograder release` agree.
CODE_STUB = "# VOTRE CODE ICI\nraise NotImplementedError()"

# nbgrader's own list, in its own order, so its marker rules, hidden-test removal, output clearing,
# cell locking and checksums apply exactly as `nbgrader generate_assignment` applies them. SaveCells
# is left out: it records the cells in a course gradebook, which a release without a course lacks,
# and it changes nothing in the notebook.
RELEASE_PREPROCESSORS = tuple(
    cls for cls in GenerateAssignment.class_traits()["preprocessors"].default() if cls is not SaveCells
)

_quiet = logging.getLogger("autograder.nbgrader.release.nbgrader")
_quiet.addHandler(logging.NullHandler())
_quiet.propagate = False


@dataclass(frozen=True)
class ReleaseCheck:
    """Whether the student notebook on disk is exactly what the solution releases to."""

    up_to_date: bool
    reason: str


def nbgrader_config() -> Config:
    """The nbgrader settings a release depends on; an nbgrader course must use the same."""
    config = Config()
    config.ClearSolutions.code_stub = {"python": CODE_STUB}
    return config


def release_notebook(solution: NotebookNode) -> NotebookNode:
    """The student notebook for a solution notebook (pure: the argument is left as it was)."""
    config = nbgrader_config()
    notebook = copy.deepcopy(solution)
    resources: dict = {}
    try:
        for preprocessor in RELEASE_PREPROCESSORS:
            notebook, resources = preprocessor(config=config, log=_quiet).preprocess(notebook, resources)
    except (ValidationError, RuntimeError, ValueError) as error:  # what nbgrader raises for a bad source
        raise ReleaseError(f"nbgrader rejects the solution notebook: {one_line(error)}") from None
    return notebook


def render_notebook(notebook: NotebookNode) -> str:
    """The notebook as it is written to disk; the same notebook always gives the same text."""
    return nbformat.writes(notebook) + "\n"


def read_solution(layout: CourseLayout) -> NotebookNode:
    path = layout.solution_notebook
    try:
        return nbformat.read(path, as_version=nbformat.NO_CONVERT)
    except OSError as error:
        raise ReleaseError(f"cannot read {layout.relative(path)}: {error.strerror}") from None
    except Exception as error:  # nbformat raises several unrelated types for a bad file
        raise ReleaseError(f"{layout.relative(path)} is not a valid notebook: {one_line(error)}") from None


def expected_release(layout: CourseLayout) -> str:
    return render_notebook(release_notebook(read_solution(layout)))


def write_release(layout: CourseLayout) -> Path:
    """Regenerate the student notebook on disk; return its path."""
    text = expected_release(layout)
    target = layout.exercise_notebook
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


def check_release(layout: CourseLayout) -> ReleaseCheck:
    """Compare the student notebook on disk with a fresh release, without writing anything."""
    expected = expected_release(layout)
    target = layout.exercise_notebook
    shown = f"{layout.relative(target)} in {layout.root}"  # the course folder used, wherever it was named
    # The command that mends it, run from where this one was.
    here = _same_folder(layout.root, Path.cwd())
    mend = "autograder release" + ("" if here else f" --course-dir {shlex.quote(str(layout.root))}")
    try:
        actual = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ReleaseCheck(False, f"{shown} is missing: run `{mend}`")
    if actual != expected:
        solution = layout.relative(layout.solution_notebook)
        return ReleaseCheck(False, f"{shown} is stale (it does not match {solution}): run `{mend}`")
    return ReleaseCheck(True, f"{shown} is up to date")


def _same_folder(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False
