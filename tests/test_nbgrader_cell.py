"""What a hidden test cell runs in nbgrader's kernel: the question's suite, its points, silence on stderr."""

from __future__ import annotations

from autograder.execute import new_namespace
from autograder.nbgrader_cell import hidden_tests

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
    assert out.startswith("Tests cachés de `gru_output_shapes` :")
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
