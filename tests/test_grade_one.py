"""Grading one submission in process: scores, reasons, and what a submission may not leave behind."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from conftest import LAYOUT, TOTAL_POINTS

from autograder.assignment import load_assignment
from autograder.grading.discover import Submission
from autograder.results import Status
from autograder.unsandboxed import grade_submission

ASSIGNMENT = load_assignment()


def _solution_with(tmp_path: Path, *extra_cells: str) -> Path:
    notebook = nbformat.read(LAYOUT.solution_notebook, as_version=4)
    notebook.cells += [nbformat.v4.new_code_cell(source) for source in extra_cells]
    path = tmp_path / "submission.ipynb"
    nbformat.write(notebook, path)
    return path


def test_relative_files_a_student_writes_land_in_a_scratch_folder(tmp_path, monkeypatch):
    workdir = tmp_path / "instructor"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    path = _solution_with(tmp_path, "open('model.pt', 'w').write('weights')\nimport os\nHERE = os.getcwd()")
    result = grade_submission(Submission("alice", path), ASSIGNMENT)
    assert (result.status, result.score) == (Status.GRADED, TOTAL_POINTS)
    assert list(workdir.iterdir()) == []
    assert Path.cwd() == workdir


def test_a_grader_bug_is_one_students_status_not_the_batchs(tmp_path, monkeypatch):
    path = _solution_with(tmp_path)

    def broken(*args, **kwargs):
        raise RuntimeError("a bug of ours")

    monkeypatch.setattr("autograder.grading.grade.run_suite", broken)
    result = grade_submission(Submission("alice", path), ASSIGNMENT)
    assert result.status is Status.GRADER_ERROR
    assert "a bug of ours" in result.message
    assert result.score == 0


def test_a_function_lost_in_a_failing_cell_costs_its_question_with_the_reason(tmp_path):
    notebook = json.loads(LAYOUT.solution_notebook.read_text())
    cell = next(c for c in notebook["cells"] if c.get("id") == "classify_hidden_solution")
    cell["source"] = "def classify_hidden(z, fc)\n    return z\n"
    path = tmp_path / "broken_cell.ipynb"
    path.write_text(json.dumps(notebook))
    result = grade_submission(Submission("bob", path), ASSIGNMENT)
    scores = {q.question: q for q in result.questions}
    assert scores["classify_hidden"].score == 0
    assert "a échoué (SyntaxError" in scores["classify_hidden"].reason
    assert result.score == TOTAL_POINTS - 2
