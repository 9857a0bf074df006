"""The hidden suites: every test passes on the solution, fails on the stubs, and a typical wrong
answer to one question costs points on that question only, with a hint that names the mistake."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from conftest import CONTRACT, LAYOUT, TOTAL_POINTS, run_tool

from autograder.assignment import load_assignment
from autograder.grading.load import CodeCell, load_notebook
from autograder.grading.scoring import score_student
from autograder.grading.student import Student
from autograder.grading.suites import run_suite
from autograder.reports.feedback import student_feedback
from autograder.results import Outcome
from autograder.sandbox.execute import new_namespace, run_cells
from autograder.sandbox.runtime import InProcessTransport

ASSIGNMENT = load_assignment()
WRONG_ANSWERS_DIR = Path(__file__).parent / "wrong_answers"


def _wrong_answers() -> list:
    cases = []
    for path in sorted(WRONG_ANSWERS_DIR.glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"wrong_answers_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        cases += [
            pytest.param(path.stem, hint, code, id=f"{path.stem}-{hint}") for hint, code in module.WRONG_ANSWERS.items()
        ]
    return cases


def _namespace_of(notebook_path: Path) -> dict:
    namespace = new_namespace()
    run_cells(load_notebook(notebook_path.read_bytes()).cells, namespace)
    return namespace


def _outcomes(namespace: dict) -> list:
    transport = InProcessTransport(namespace)
    return run_suite(ASSIGNMENT, lambda: Student(transport))


@pytest.fixture(scope="module")
def solution_namespace() -> dict:
    return _namespace_of(LAYOUT.solution_notebook)


@pytest.fixture(scope="module")
def solution_outcomes(solution_namespace) -> list:
    return _outcomes(solution_namespace)


@pytest.fixture(scope="module")
def stub_outcomes() -> list:
    return _outcomes(_namespace_of(LAYOUT.exercise_notebook))


def test_assignment_yaml_follows_the_contract():
    assert [(q.id, q.points) for q in ASSIGNMENT.questions] == [(qid, pts) for qid, (_, pts) in CONTRACT.items()]
    assert ASSIGNMENT.max_score == TOTAL_POINTS


def test_every_question_has_several_tests(solution_outcomes):
    for question in ASSIGNMENT.questions:
        assert len([o for o in solution_outcomes if o.question == question.id]) >= 4, question.id


def test_every_hidden_test_passes_on_the_solution(solution_outcomes):
    failed = [(o.name, o.message) for o in solution_outcomes if o.outcome is not Outcome.PASSED]
    assert not failed


def test_every_hidden_test_fails_on_the_stubs(stub_outcomes):
    passed = [f"{o.question}::{o.name}" for o in stub_outcomes if o.outcome is Outcome.PASSED]
    assert not passed


def test_every_test_describes_itself_in_french(solution_outcomes):
    for outcome in solution_outcomes:
        assert outcome.description != outcome.name, f"{outcome.question}::{outcome.name} has no docstring"


@pytest.mark.parametrize(("question", "hint", "code"), _wrong_answers())
def test_wrong_answer_costs_its_question_only_and_names_the_mistake(solution_namespace, question, hint, code):
    namespace = dict(solution_namespace)
    exec(compile(code, f"<wrong answer to {question}>", "exec"), namespace)
    outcomes = _outcomes(namespace)
    result = score_student("wrong", ASSIGNMENT, outcomes)
    lost = {q.question: q.max_score - q.score for q in result.questions if q.score < q.max_score}
    assert set(lost) == {question}, lost
    hints = {o.hint for o in outcomes if o.question == question and o.outcome is not Outcome.PASSED}
    assert hint in hints, hints


def test_the_student_release_holds_nothing_of_the_hidden_suites(exercise_nb):
    released = "\n".join(cell.source for cell in exercise_nb.cells)
    names = {o.name.split("[")[0] for o in _outcomes(new_namespace())}
    assert len(names) > 30
    leaked = [name for name in names if name in released]
    assert not leaked
    assert "autograder" not in released


def test_the_projects_own_test_run_never_collects_the_hidden_suites():
    # The project's run as configured, less the test modules but this one and a few (importing all of them
    # took 10 s): a hidden suite would be collected by this run as by the whole one.
    result = run_tool(
        "python", "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly", "--ignore-glob=tests/test_[a-gi-z]*.py"
    )
    assert result.returncode == 0, result.stdout[-2000:]
    assert "tests/test_hidden_suites.py" in result.stdout
    assert "assignments" not in result.stdout


@pytest.mark.parametrize(
    "body",
    ["return None", "return args[0]", "raise ValueError('non')", "return torch.zeros(1)", "return 0"],
    ids=["none", "first-argument", "always-value-error", "zeros", "zero"],
)
def test_a_function_that_does_nothing_useful_earns_nothing(body):
    functions = [q.id for q in ASSIGNMENT.questions if q.id != "TASK_TYPES"]
    source = "import torch\n" + "".join(f"def {name}(*args, **kwargs):\n    {body}\n" for name in functions)
    namespace = new_namespace()
    run_cells([CodeCell(1, source + "TASK_TYPES = {}\n")], namespace)
    passed = [f"{o.question}::{o.name}" for o in _outcomes(namespace) if o.outcome is Outcome.PASSED]
    assert not passed


# -- what a student reads for mistakes the generic checks used to miss (issue 20) ----------------------------

MISTAKES = {
    # A NumPy array where a tensor of shape (T,) is wanted.
    "numpy": (
        "hidden_gradient_norms",
        "_right = hidden_gradient_norms\ndef hidden_gradient_norms(rnn_cell, x_in):\n"
        "    return _right(rnn_cell, x_in).numpy()\n",
        "unusable_result",
        ("un tableau NumPy (numpy.ndarray)\xa0: renvoyez un tenseur PyTorch de forme (T,)", "torch.as_tensor"),
        ("a NumPy array (numpy.ndarray): return a PyTorch tensor of shape (T,)", "torch.as_tensor"),
    ),
    "generator": (
        "rnn_cell_forward",
        "def rnn_cell_forward(x_t, h_prev, W_xh, W_hh, b_h):\n    yield torch.tanh(x_t @ W_xh + h_prev @ W_hh + b_h)\n",
        "unusable_result",
        ("votre fonction contient yield", "Remplacez yield par return et renvoyez un tenseur PyTorch h_t de forme"),
        ("your function contains yield", "Replace yield with return and return a PyTorch tensor h_t of shape"),
    ),
    "lstm_tuple": (
        "packed_last_hidden",
        "from torch.nn.utils.rnn import pack_padded_sequence\n"
        "def packed_last_hidden(rnn, x_in, x_lengths):\n"
        "    packed = pack_padded_sequence(x_in, torch.as_tensor(x_lengths), batch_first=True, enforce_sorted=False)\n"
        "    _, h_n = rnn(packed)\n"
        "    return h_n if isinstance(h_n, tuple) else h_n[-1]\n",
        "returned_lstm_state_tuple",
        ("Vous renvoyez le tuple (h_n, c_n) qu'un nn.LSTM", "return h_n[-1]"),
        ("You return the tuple (h_n, c_n) that an nn.LSTM", "return h_n[-1]"),
    ),
    # The lab's own cell on an h_n of shape (1, N, H): the softmax over dim=1 of (1, N, C) is over the batch.
    "softmax_wrong_axis": (
        "classify_hidden",
        "def classify_hidden(z, fc):\n    return torch.softmax(fc(z), dim=1)\n",
        "kept_layer_axis_softmax_over_batch",
        ("forme (1, N, C), et le softmax porte sur l'axe du batch", "squeeze(0)"),
        ("shape (1, N, C), and the softmax runs over the batch axis", "squeeze(0)"),
    ),
    "off_by_one": (
        "gather_last_relevant_hidden",
        "def gather_last_relevant_hidden(hiddens, x_lengths):\n"
        "    lengths = torch.as_tensor(x_lengths).long()\n"
        "    if lengths.numel() != hiddens.shape[0] or lengths.min() < 1 or lengths.max() > hiddens.shape[1]:\n"
        "        raise ValueError('longueurs invalides')\n"
        "    return torch.stack([hiddens[b, int(lengths[b])] for b in range(hiddens.shape[0])])\n",
        "gather_off_by_one",
        ("Décalage d'indice", "pas hiddens[b, L]"),
        ("Off by one", "not hiddens[b, L]"),
    ),
    # A slip on a valid kind is the counting tests' to show, not a refusal of the kind.
    "count_slip": (
        "count_recurrent_parameters",
        "def count_recurrent_parameters(kind, input_size, hidden_size, num_layers=1, bidirectional=False):\n"
        "    if kind not in ('rnn', 'gru', 'lstm'):\n"
        "        raise ValueError(kind)\n"
        "    return hidden_size * (input_size + hiden_size)\n",
        "raised",
        ("a levé une erreur", "NameError"),
        ("raised an error", "NameError"),
    ),
}


@pytest.mark.parametrize("case", list(MISTAKES))
def test_a_mistake_the_generic_checks_missed_gets_its_own_hint_in_both_languages(solution_namespace, case):
    question, code, hint, french, english = MISTAKES[case]
    namespace = dict(solution_namespace)
    exec(compile(code, f"<{case}>", "exec"), namespace)
    outcomes = run_suite(ASSIGNMENT, lambda: Student(InProcessTransport(namespace)), questions=(question,))
    failed = [o for o in outcomes if o.outcome is not Outcome.PASSED]
    assert failed
    mine = [o for o in failed if o.hint == hint]
    assert mine, [(o.name, o.hint, o.message) for o in failed]
    for outcome in mine:
        assert all(words in outcome.message for words in french), outcome.message
        assert all(words in outcome.message_en for words in english), outcome.message_en
    # Never blamed for what they did not do: no "only invalid lengths (kinds) raise a ValueError", no "must be a
    # tensor" for a tuple, no "not the expected shape" alone.
    assert not {"valid_lengths_refused", "valid_kind_refused", "not_a_tensor", "wrong_shape"} & {o.hint for o in failed}


# Right types and shapes, wrong values, the arguments left alone: every property of the call holds.
WRONG_VALUES_ARGUMENTS_ALONE = {
    "rnn_cell_forward": "def rnn_cell_forward(x_t, h_prev, W_xh, W_hh, b_h):\n"
    "    return x_t @ W_xh + h_prev @ W_hh + b_h\n",
    "rnn_cell_loop": "_right_loop = rnn_cell_loop\ndef rnn_cell_loop(rnn_cell, x_in, hidden=None):\n"
    "    return _right_loop(rnn_cell, x_in, hidden) * 2\n",
    "hidden_gradient_norms": "_right = hidden_gradient_norms\ndef hidden_gradient_norms(rnn_cell, x_in):\n"
    "    return _right(rnn_cell, x_in).flip(0)\n",
}
PROPERTY_TESTS = {
    "rnn_cell_forward": {"test_inputs_unchanged"},
    "rnn_cell_loop": {"test_arguments_unchanged"},
    "hidden_gradient_norms": {"test_input_left_unchanged", "test_cell_gradients_left_empty"},
}


def test_property_tests_pass_for_wrong_values_that_leave_the_arguments_alone(solution_namespace):
    namespace = dict(solution_namespace)
    for code in WRONG_VALUES_ARGUMENTS_ALONE.values():
        exec(compile(code, "<wrong values>", "exec"), namespace)
    questions = tuple(WRONG_VALUES_ARGUMENTS_ALONE)
    outcomes = run_suite(ASSIGNMENT, lambda: Student(InProcessTransport(namespace)), questions=questions)
    for question in questions:
        mine = {o.name: o for o in outcomes if o.question == question}
        assert PROPERTY_TESTS[question] <= set(mine)
        assert all(mine[name].outcome is Outcome.PASSED for name in PROPERTY_TESTS[question]), question
        assert any(o.outcome is not Outcome.PASSED for o in mine.values()), question  # the values are still wrong


CONSTANTS_OF_THE_RIGHT_SHAPE = {
    "rnn_cell_forward": "import torch\ndef rnn_cell_forward(x_t, h_prev, W_xh, W_hh, b_h):\n"
    "    return torch.zeros(x_t.shape[0], W_hh.shape[0])\n",
    "hidden_gradient_norms": "import torch\n_right = hidden_gradient_norms\n"
    "def hidden_gradient_norms(rnn_cell, x_in):\n"
    "    return torch.zeros_like(_right(rnn_cell, x_in))\n",
}


def test_a_constant_of_the_right_shape_earns_nothing_though_it_leaves_the_arguments_alone(solution_namespace):
    """Its property tests pass (the property holds) but, with no value right, they are worth nothing; beside a
    right value, they count."""
    namespace = dict(solution_namespace)
    for code in CONSTANTS_OF_THE_RIGHT_SHAPE.values():
        exec(compile(code, "<constants>", "exec"), namespace)
    questions = tuple(CONSTANTS_OF_THE_RIGHT_SHAPE)
    outcomes = run_suite(ASSIGNMENT, lambda: Student(InProcessTransport(namespace)), questions=questions)
    result = score_student("constant", ASSIGNMENT, outcomes)
    for question in result.questions:
        if question.question in questions:
            passed = {t.name for t in question.tests if t.outcome is Outcome.PASSED}
            assert passed == PROPERTY_TESTS[question.question], question.question
            assert {t.name for t in question.tests if t.property_only} == PROPERTY_TESTS[question.question]
            assert question.score == 0, question.question
    right = score_student(
        "solution",
        ASSIGNMENT,
        run_suite(ASSIGNMENT, lambda: Student(InProcessTransport(dict(solution_namespace))), questions=questions),
    )
    assert sum(q.score for q in right.questions) == sum(a.points for a in ASSIGNMENT.questions if a.id in questions)


def test_every_test_title_is_a_sentence_in_french_and_in_english(solution_outcomes):
    for question in ASSIGNMENT.questions:
        mine = [o for o in solution_outcomes if o.question == question.id]
        for titles in ([o.description for o in mine], [o.description_en for o in mine]):
            assert len(set(titles)) == len(titles), titles  # each case of a parametrized test reads as its own
            for title in titles:
                assert title[0].isupper() or title.startswith(("nn.", "x_in ", "kind ")), title
                assert title.endswith("."), title
                assert "test_" not in title, title
        for outcome in mine:
            case = outcome.name[outcome.name.find("[") :] if outcome.name.endswith("]") else "no pytest id"
            assert case not in outcome.description, outcome.name
            assert case not in outcome.description_en, outcome.name
            assert outcome.description_en != outcome.description, outcome.description
            # French typography: a non-breaking space before « : ; ? ! », and none of them in the English.
            assert not re.search(r" [:;?!](\s|$)", outcome.description), outcome.description
            assert "\u00a0" not in outcome.description_en, outcome.description_en
    result = score_student("solution", ASSIGNMENT, solution_outcomes)
    for lang, field in (("fr", "description"), ("en", "description_en")):
        page = student_feedback(result, ASSIGNMENT, lang)
        shown = [test.description for question in page.questions for test in question.tests]
        assert shown == [getattr(o, field) for o in solution_outcomes]
