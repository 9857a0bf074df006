"""The bundled example submissions stay in step with the student notebook they were made from."""

from __future__ import annotations

import nbformat
import pytest
from conftest import EXAMPLE_NOTEBOOKS, LAYOUT

NOTEBOOKS = EXAMPLE_NOTEBOOKS


@pytest.mark.parametrize("student", NOTEBOOKS)
def test_each_example_is_the_current_student_notebook_with_answers_filled_in(student, exercise_nb):
    example = nbformat.read(NOTEBOOKS[student], as_version=4)
    assert [c.get("id") for c in example.cells] == [c.get("id") for c in exercise_nb.cells], (
        "examples are stale: run scripts/make_examples.py"
    )
    for mine, given in zip(example.cells, exercise_nb.cells, strict=True):
        if not mine.id.endswith("_solution") and mine.id != "imports":
            assert mine.source == given.source, f"{student}: cell {mine.id} differs; run scripts/make_examples.py"


def test_examples_were_run_as_a_student_runs_them():
    alice = nbformat.read(NOTEBOOKS["alice_martin"], as_version=4)
    code = [c for c in alice.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code)
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    david = nbformat.read(NOTEBOOKS["david_petit"], as_version=4)
    errors = [o.ename for c in david.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert "SyntaxError" in errors


def test_the_exercise_notebook_the_examples_come_from_is_the_released_one():
    assert LAYOUT.exercise_notebook.is_file()
