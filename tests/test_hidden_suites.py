"""The hidden suites: every test passes on the solution, fails on the stubs, and a typical wrong
answer to one question costs points on that question only, with a hint that names the mistake."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from conftest import CONTRACT, LAYOUT, TOTAL_POINTS, run_tool

from autograder.execute import new_namespace, run_cells
from autograder.grade import read_notebook_file
from autograder.load import CodeCell
from autograder.results import Outcome
from autograder.scoring import score_student
from autograder.suites import load_assignment, run_suite
from autograder.transport import InProcessTransport, Student

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
    run_cells(read_notebook_file(notebook_path).cells, namespace)
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
    result = run_tool("python", "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly")
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
