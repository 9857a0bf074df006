"""nbgrader's own `generate_assignment` accepts the solution notebook and agrees with `autograder release`."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
from conftest import CONTRACT, LAYOUT, run_tool

from autograder.nbgrader.layout import ASSIGNMENT_ID
from autograder.nbgrader.release import CODE_STUB


def make_nbgrader_course(root: Path) -> None:
    source = root / "source" / ASSIGNMENT_ID / f"{ASSIGNMENT_ID}.ipynb"
    source.parent.mkdir(parents=True)
    shutil.copy(LAYOUT.solution_notebook, source)
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        'c.CourseDirectory.course_id = "rnn-test-course"\n'
        f"c.CourseDirectory.root = {str(root)!r}\n"
        f'c.CourseDirectory.db_url = "sqlite:///{root / "gradebook.db"}"\n'
        f'c.ClearSolutions.code_stub = {{"python": {CODE_STUB!r}}}\n',
        encoding="utf-8",
    )


def test_nbgrader_generate_assignment_gives_the_same_student_notebook(tmp_path, exercise_nb):
    course = tmp_path / "course"
    make_nbgrader_course(course)

    result = run_tool("nbgrader", "generate_assignment", ASSIGNMENT_ID, cwd=course)
    assert result.returncode == 0, result.stdout + result.stderr

    released = nbformat.read(course / "release" / ASSIGNMENT_ID / f"{ASSIGNMENT_ID}.ipynb", as_version=4)
    assert [(c.cell_type, c.source) for c in released.cells] == [(c.cell_type, c.source) for c in exercise_nb.cells]
    # Beyond the sources: the same locks and checksums, so nbgrader can grade our release too.
    assert released == exercise_nb


def test_nbgrader_validate_passes_the_solution_and_flags_every_stub(tmp_path):
    """What a student's Validate button runs: success on the solution, all 11 questions flagged on the stubs."""

    def validate(notebook: Path) -> str:
        return run_tool("nbgrader", "validate", str(notebook), cwd=tmp_path).stdout

    with ThreadPoolExecutor(2) as pool:  # two notebooks, two kernels: at once
        solution, exercise = pool.map(validate, (LAYOUT.solution_notebook, LAYOUT.exercise_notebook))
    assert "Success! Your notebook passes all the tests." in solution
    assert f"VALIDATION FAILED ON {len(CONTRACT)} CELL(S)!" in exercise
