"""`nbgrader autograde` through the kit's sandbox (issue 19): the real nbgrader CLI on a course made by
`autograder nbgrader init`, whose config selects the kit's executor by default.

Three students: one right everywhere, one who submits the stubs, and one who adds to the released
notebook the cell that made the in-kernel bridge give 26/26 (it replaces `nbgrader_cell.hidden_tests`
in the kernel where the hidden tests used to run). With the sandboxed executor the hidden tests run in
nbgrader's own process, against the notebook run in the sandbox: the attack scores 0, as the stub does.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from conftest import REPO, TOTAL_POINTS, run_cli
from test_nbgrader_workflow import ASSIGNMENT, COURSE_ID, NOTEBOOK, Workflow, nbgrader

from autograder.nbgrader_course import gradebook, read_settings

HONEST = REPO / "examples" / "submissions" / "alice_martin.ipynb"
ATTACK = """
import autograder.nbgrader_cell as _c, autograder.suites as _s
_pts = {q.id: q.points for q in _s.load_assignment().questions}
_c.hidden_tests = lambda q, g: (print('ok'), _pts[q])[1]
"""
STUDENTS = ("alice_martin", "sam_stub", "mallory")


@pytest.fixture(scope="module")
def course(tmp_path_factory, isolated_jupyter) -> Workflow:
    flow = Workflow(tmp_path_factory.mktemp("nbgrader-sandboxed"))
    init = run_cli("nbgrader", "init", str(flow.course), "--exchange", str(flow.exchange), "--course-id", COURSE_ID)
    assert init.returncode == 0, init.stderr
    assert "grades through the kit's sandbox" in init.stdout  # the default
    nbgrader("generate_assignment", ASSIGNMENT.id, cwd=flow.course)
    nbgrader("release_assignment", ASSIGNMENT.id, cwd=flow.course)
    for student in STUDENTS:
        home = flow.root / "students" / student
        home.mkdir(parents=True)
        nbgrader(*flow.as_student("fetch_assignment", ASSIGNMENT.id, student=student), cwd=home)
        if student == "alice_martin":
            shutil.copy(HONEST, home / NOTEBOOK)
        elif student == "mallory":
            notebook = nbformat.read(home / NOTEBOOK, as_version=4)
            notebook.cells.insert(1, nbformat.v4.new_code_cell(ATTACK))
            nbformat.write(notebook, home / NOTEBOOK)
        nbgrader(*flow.as_student("submit", ASSIGNMENT.id, f"--student={student}", student=student), cwd=home)
    nbgrader("collect", ASSIGNMENT.id, cwd=flow.course)
    nbgrader("autograde", ASSIGNMENT.id, cwd=flow.course)
    return flow


def _scores(course: Path) -> dict[str, dict[str, float | None]]:
    with gradebook(read_settings(course)) as book:
        return {
            student: {
                q.id: book.find_grade(q.id, NOTEBOOK.stem, ASSIGNMENT.id, student).score for q in ASSIGNMENT.questions
            }
            for student in STUDENTS
        }


def test_the_attack_that_fooled_the_in_kernel_bridge_scores_nothing(course):
    scores = _scores(course.course)
    assert sum(scores["alice_martin"].values()) == TOTAL_POINTS
    assert sum(scores["sam_stub"].values()) == 0
    assert sum(scores["mallory"].values()) == 0


def test_the_autograded_notebook_shows_the_hints_and_never_stderr(course):
    autograded = course.course / "autograded" / "sam_stub" / NOTEBOOK
    notebook = nbformat.read(autograded, as_version=4)
    checks = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]
    assert checks
    for cell in checks:
        assert not any(o.output_type == "stream" and o.name == "stderr" for o in cell.outputs)
        assert any(o.output_type == "execute_result" for o in cell.outputs)
        assert "Tests cachés" in "".join(o.get("text", "") for o in cell.outputs)
