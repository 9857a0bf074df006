"""What a hidden test cell runs in nbgrader's kernel: the question's suite, its points, silence on stderr."""

from __future__ import annotations

import dataclasses

import nbformat
from synthetic import failed_with_hint

from autograder.assignment import load_assignment
from autograder.grading.scoring import score_question
from autograder.nbgrader.cell import hidden_tests, summary
from autograder.nbgrader.executor import write_outputs
from autograder.results import CellRun, ErrorInfo, Frame, Status, StudentResult
from autograder.sandbox.execute import new_namespace

RIGHT = """
def gru_output_shapes(batch_size, seq_size, input_size, hidden_size, num_layers=1, bidirectional=False):
    d = 2 if bidirectional else 1
    return (batch_size, seq_size, d * hidden_size), (d * num_layers, batch_size, hidden_size)
"""
# Forgets that h_n has one row per layer and direction: some hidden tests still pass.
WRONG = """
def gru_output_shapes(batch_size, seq_size, input_size, hidden_size, num_layers=1, bidirectional=False):
    d = 2 if bidirectional else 1
    return (batch_size, seq_size, d * hidden_size), (num_layers, batch_size, hidden_size)
"""


def _namespace(code: str) -> dict:
    namespace = new_namespace()
    exec(code, namespace)
    return namespace


def test_a_right_answer_earns_the_question_points_with_nothing_on_stderr(capsys):
    assert hidden_tests("gru_output_shapes", _namespace(RIGHT)) == 2
    out, err = capsys.readouterr()
    assert err == ""
    assert out.startswith("Tests cachés de `gru_output_shapes`\u00a0:")  # French typography: no break before ":"
    assert "2 / 2 point(s)" in out


def test_a_partly_wrong_answer_earns_part_and_says_what_failed_on_stdout(capsys):
    points = hidden_tests("gru_output_shapes", _namespace(WRONG))
    out, err = capsys.readouterr()
    assert 0 < points < 2
    assert err == ""
    assert f"{points:g} / 2 point(s)" in out
    assert "\n- " in out  # each failed test is listed with its hint


def test_a_missing_function_earns_nothing_and_is_named_once(capsys):
    assert hidden_tests("gru_output_shapes", new_namespace()) == 0
    out, _ = capsys.readouterr()
    assert out.count("gru_output_shapes` n'est pas défini") == 1


def test_a_course_in_english_reads_the_hidden_tests_and_the_errors_in_english():
    """`c.SandboxedExecute.lang = "en"`: what the check cells and the student's cells show, in English."""
    assignment = load_assignment()
    failed = dataclasses.replace(failed_with_hint("classify_hidden"), description_en="softmax(fc(z)) over the classes.")
    question = score_question(assignment.question("classify_hidden"), [failed])
    error = ErrorInfo("ValueError", "bad", (Frame(2, 3, "f", "raise ValueError('bad')"),))
    result = StudentResult("ana", Status.GRADED, 0, 26, (question,), (CellRun(2, False, error, output="hi\n"),))
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": {"grade": True, "grade_id": "classify_hidden"}}),
            nbformat.v4.new_code_cell("raise ValueError('bad')"),
        ]
    )
    write_outputs(notebook, result, {"classify_hidden": question}, "", "en")
    check, student = notebook.cells
    text = check.outputs[0]["text"]
    assert text.startswith("Hidden tests of `classify_hidden`: 0 passed of 1, 0 / 2 point(s).")
    assert "- softmax(fc(z)) over the classes." in text
    assert "You normalise over the batch axis (dim=0)." in text
    assert "Tests cachés" not in text
    assert student.outputs[-1]["traceback"] == ["Cell 2, line 3, in f: raise ValueError('bad')", "ValueError: bad"]
    french = summary(question)
    assert french.startswith("Tests cachés de `classify_hidden`\u00a0: 0 réussi(s) sur 1")
    assert "Vous normalisez sur l'axe du batch (dim=0)." in french
