"""`autograder release`: the student notebook holds stubs, no solution, no hidden test, no output."""

from __future__ import annotations

import shutil

import nbformat
import pytest
from conftest import (
    CONTRACT,
    LAYOUT,
    SOLUTION_REGION,
    check_cells,
    defined_names,
    errors_of,
    run_cli,
    solution_cells,
)

from autograder.errors import ReleaseError
from autograder.nbgrader.layout import CourseLayout
from autograder.nbgrader.release import CODE_STUB, release_notebook, render_notebook


@pytest.fixture
def course_copy(tmp_path) -> CourseLayout:
    """A throwaway course folder holding copies of the repository's two notebooks."""
    layout = CourseLayout(tmp_path / "course")
    for source, target in [
        (LAYOUT.solution_notebook, layout.solution_notebook),
        (LAYOUT.exercise_notebook, layout.exercise_notebook),
    ]:
        target.parent.mkdir(parents=True)
        shutil.copy(source, target)
    return layout


def code_lines(nb) -> set[str]:
    return {line.strip() for c in nb.cells if c.cell_type == "code" for line in c.source.splitlines()}


def test_committed_student_notebook_is_up_to_date():
    result = run_cli("release", "--check")
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout


def test_check_fails_after_the_solution_changes_and_release_mends_it(course_copy):
    solution = nbformat.read(course_copy.solution_notebook, as_version=4)
    solution.cells[0].source += "\n\nUne phrase ajoutée par l'enseignant."
    nbformat.write(solution, course_copy.solution_notebook)
    before = course_copy.exercise_notebook.read_bytes()

    stale = run_cli("release", "--check", "--course-dir", str(course_copy.root))
    assert stale.returncode == 1
    assert stale.stderr.count("\n") == 1
    assert "stale" in stale.stderr
    # The folder used, and the command that mends it from where this one ran.
    assert f"exercises/rnn_intro/rnn_intro.ipynb in {course_copy.root} is stale" in stale.stderr
    assert stale.stderr.rstrip().endswith(f"run `autograder release --course-dir {course_copy.root}`")
    assert course_copy.exercise_notebook.read_bytes() == before, "--check must write nothing"

    assert run_cli("release", "--course-dir", str(course_copy.root)).returncode == 0
    assert "Une phrase ajoutée" in course_copy.exercise_notebook.read_text(encoding="utf-8")
    assert run_cli("release", "--check", "--course-dir", str(course_copy.root)).returncode == 0


def test_check_reports_a_missing_student_notebook(course_copy):
    course_copy.exercise_notebook.unlink()
    result = run_cli("release", "--check", "--course-dir", str(course_copy.root))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "missing" in result.stderr


def test_missing_solution_is_wrong_use(tmp_path):
    result = run_cli("release", "--course-dir", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr == (
        f"autograder: error: no solution notebook at solutions/rnn_intro/rnn_intro.ipynb in {tmp_path} "
        "(run it in the kit's folder, or name that folder with --course-dir DIR)\n"
    )


def test_a_solution_marker_outside_a_solution_cell_is_refused_in_one_line(course_copy):
    solution = nbformat.read(course_copy.solution_notebook, as_version=4)
    demo = next(c for c in solution.cells if c.id == "demo_rnncell")
    demo.source = "### BEGIN SOLUTION\nsecret = 42\n### END SOLUTION"
    nbformat.write(solution, course_copy.solution_notebook)

    result = run_cli("release", "--course-dir", str(course_copy.root))
    assert result.returncode == 1
    assert result.stderr.startswith("autograder: nbgrader rejects the solution notebook")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert "secret = 42" not in course_copy.exercise_notebook.read_text(encoding="utf-8")


def test_an_unreadable_solution_is_reported_in_one_line(course_copy):
    course_copy.solution_notebook.write_text('{"cells": [', encoding="utf-8")
    result = run_cli("release", "--check", "--course-dir", str(course_copy.root))
    assert result.returncode == 1
    assert result.stderr.startswith("autograder: solutions/rnn_intro/rnn_intro.ipynb is not a valid notebook")
    assert result.stderr.count("\n") == 1


def test_release_is_pure_and_gives_the_same_text_every_time(solution_nb):
    original = render_notebook(solution_nb)
    first = render_notebook(release_notebook(solution_nb))
    assert render_notebook(release_notebook(solution_nb)) == first
    assert render_notebook(solution_nb) == original, "release must not change its argument"


def test_release_refuses_metadata_nbgrader_refuses(solution_nb):
    broken = nbformat.from_dict(solution_nb)
    broken.cells[0].metadata.nbgrader["grade_id"] = broken.cells[1].metadata.nbgrader["grade_id"]
    with pytest.raises(ReleaseError, match="nbgrader"):
        release_notebook(broken)


def test_no_line_of_any_solution_body_reaches_the_student(solution_nb, exercise_nb):
    released = code_lines(exercise_nb)
    solution_lines = {
        line.strip()
        for cell in solution_cells(solution_nb)
        for region in SOLUTION_REGION.findall(cell.source)
        for line in region.splitlines()
        if any(ch.isalnum() for ch in line)
    }
    assert len(solution_lines) > 40
    assert solution_lines & released == set()


def test_student_notebook_has_stubs_and_no_output(exercise_nb):
    stub_lines = CODE_STUB.splitlines()
    for cell in solution_cells(exercise_nb):
        lines = [line.strip() for line in cell.source.splitlines()]
        assert lines[-len(stub_lines) :] == stub_lines, f"{cell.id} does not end with the stub"
        assert "BEGIN SOLUTION" not in cell.source
    for cell in exercise_nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], cell.id
            assert cell.execution_count is None, cell.id
    assert "HIDDEN TESTS" not in render_notebook(exercise_nb)


def test_student_notebook_keeps_every_question_name_and_check(solution_nb, exercise_nb):
    names = set().union(*(defined_names(c.source) for c in solution_cells(exercise_nb)))
    assert names >= set(CONTRACT)
    assert [c.source for c in check_cells(exercise_nb)] == [c.source for c in check_cells(solution_nb)]


def test_every_visible_check_fails_while_the_stubs_are_there(executed_exercise):
    checks = check_cells(executed_exercise)
    assert len(checks) == len(CONTRACT)
    for cell in checks:
        errors = errors_of(cell)
        assert errors, f"{cell.id} passes on the stubs"
        expected = "AssertionError" if cell.id.startswith("TASK_TYPES") else "NotImplementedError"
        assert errors[0].ename == expected, f"{cell.id}: {errors[0].ename}: {errors[0].evalue}"


def test_only_stubs_and_checks_fail_in_the_student_notebook(executed_exercise):
    allowed = {c.id for c in check_cells(executed_exercise)} | {c.id for c in solution_cells(executed_exercise)}
    failed = {c.id for c in executed_exercise.cells if errors_of(c)}
    assert failed <= allowed, f"cells a student cannot fix fail: {sorted(failed - allowed)}"
