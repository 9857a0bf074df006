"""Running the hidden suites: their own configuration only, and a broken suite said once, clearly."""

from __future__ import annotations

import shutil

import pytest
from conftest import LAYOUT, run_cli

from autograder.assignment import AssignmentError, Question, load_assignment
from autograder.grading.scoring import score_question
from autograder.grading.student import Student
from autograder.grading.suites import run_suite
from autograder.results import Outcome, TestOutcome
from autograder.sandbox.execute import new_namespace
from autograder.sandbox.runtime import InProcessTransport

ASSIGNMENT = load_assignment()


def _stub_outcomes():
    transport = InProcessTransport(new_namespace())
    return run_suite(ASSIGNMENT, lambda: Student(transport))


def test_the_instructors_pytest_settings_do_not_change_the_run(monkeypatch):
    expected = len(_stub_outcomes())
    monkeypatch.setenv("PYTEST_ADDOPTS", "-x --maxfail=1 -k nothing_matches")
    outcomes = _stub_outcomes()
    assert len(outcomes) == expected
    assert all(o.outcome is Outcome.FAILED and o.hint == "missing_definition" for o in outcomes)


@pytest.fixture
def suite_copy(tmp_path):
    folder = tmp_path / "rnn_intro"
    shutil.copytree(ASSIGNMENT.folder, folder)
    return folder


def test_a_suite_that_cannot_be_imported_is_reported_with_its_file(suite_copy):
    (suite_copy / "test_task_types.py").write_text("import module_that_does_not_exist\n")
    with pytest.raises(AssignmentError, match=r"test_task_types\.py.*module_that_does_not_exist"):
        run_suite(load_assignment(folder=suite_copy), lambda: None)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("questions: [", "cannot read"),
        ("assignment: x\nnotebook: x.ipynb\nquestions: [{id: q, points: 1, tests: test_nowhere.py}]", "do not exist"),
        ("assignment: x\nnotebook: x.ipynb\nquestions: [{id: q}]", "cannot read"),
    ],
)
def test_a_broken_assignment_yaml_is_one_clear_error(suite_copy, text, words):
    (suite_copy / "assignment.yaml").write_text(text)
    with pytest.raises(AssignmentError, match=words):
        load_assignment(folder=suite_copy)


def test_weights_share_a_questions_points_unequally():
    question = Question("q", 3.0, "test_q.py", {"test_big": 2.0})
    outcomes = [
        TestOutcome("q", "test_big", "", Outcome.PASSED, weight=2.0),
        TestOutcome("q", "test_small[1]", "", Outcome.FAILED),
        TestOutcome("q", "test_small[2]", "", Outcome.PASSED),
    ]
    result = score_question(question, outcomes)
    assert result.scores == (1.5, 0.0, 0.75)
    assert result.score == 2.25


def test_question_scores_are_rounded_and_the_total_is_their_sum():
    question = Question("q", 2.0, "test_q.py")
    outcomes = [TestOutcome("q", f"t{i}", "", Outcome.PASSED if i else Outcome.FAILED) for i in range(3)]
    assert score_question(question, outcomes).score == 1.33


def test_an_instructors_own_copy_of_the_suites_is_used(tmp_path, suite_copy):
    shutil.copy(LAYOUT.solution_notebook, tmp_path / "alice.ipynb")
    text = (
        (suite_copy / "assignment.yaml").read_text().replace("{id: TASK_TYPES, points: 2", "{id: TASK_TYPES, points: 4")
    )
    (suite_copy / "assignment.yaml").write_text(text)
    result = run_cli("grade", str(tmp_path / "alice.ipynb"), "--suite", str(suite_copy), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "alice,28,28,graded" in (tmp_path / "grading-output" / "grades.csv").read_text()


def test_grading_with_a_broken_suite_stops_with_one_line(tmp_path, suite_copy):
    shutil.copy(LAYOUT.solution_notebook, tmp_path / "alice.ipynb")
    (suite_copy / "test_task_types.py").write_text("def test_x(student:\n")
    result = run_cli("grade", str(tmp_path / "alice.ipynb"), "--suite", str(suite_copy), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].startswith("autograder: the hidden suite of rnn_intro did not run")
    assert not (tmp_path / "grading-output").exists()


def test_one_pytest_session_grades_student_after_student_as_fresh_runs_would():
    from autograder.grading.load import load_notebook
    from autograder.grading.suites import suite_session
    from autograder.sandbox.execute import run_cells

    solution = new_namespace()
    run_cells(load_notebook(LAYOUT.solution_notebook.read_bytes()).cells, solution)
    session = suite_session(ASSIGNMENT)
    first_stub = _stub_outcomes()
    right = run_suite(ASSIGNMENT, lambda: Student(InProcessTransport(solution)))
    second_stub = _stub_outcomes()
    assert suite_session(ASSIGNMENT) is session  # collected once, run three times
    assert len(right) == len(first_stub) > 80
    assert all(o.outcome is Outcome.PASSED for o in right)
    assert second_stub == first_stub  # nothing of the right student stayed behind
    one = run_suite(ASSIGNMENT, lambda: Student(InProcessTransport(solution)), questions=("classify_hidden",))
    assert {o.question for o in one} == {"classify_hidden"}
    assert one == [o for o in right if o.question == "classify_hidden"]


ADDED_TEST = '''

def test_added_later(student):
    """Ajouté après la première collecte."""
    assert student.TASK_TYPES
'''


def test_a_suite_edited_on_disk_is_collected_again(suite_copy):
    def stub():
        return Student(InProcessTransport(new_namespace()))

    before = run_suite(load_assignment(folder=suite_copy), stub)
    test_file = suite_copy / "test_task_types.py"
    test_file.write_text(test_file.read_text() + ADDED_TEST)
    after = run_suite(load_assignment(folder=suite_copy), stub)
    assert len(after) == len(before) + 1
    assert "test_added_later" in {o.name for o in after}


def test_a_remembered_reference_is_computed_once_per_value_and_each_caller_gets_a_copy():
    import torch

    from autograder.grading.suite_inputs import remembered

    calls = []

    @remembered
    def reference(module, x, scale, tag=None):
        calls.append(scale)
        return module(x).detach(), {"mistake": [x * scale, None]}

    module, x = torch.nn.Linear(3, 2), torch.randn(4, 3)
    first, again = reference(module, x, 2), reference(module, x.clone(), 2)  # equal values: remembered
    assert calls == [2]
    assert torch.equal(first[0], again[0])
    assert first[0] is not again[0]
    again[1]["mistake"][0].add_(100)  # a test that changes what it got...
    assert torch.equal(reference(module, x, 2)[1]["mistake"][0], first[1]["mistake"][0])  # ...changes nothing after
    with torch.no_grad():
        module.weight.add_(1)  # other weights, another value
    reference(module, x, 2)
    reference(module, x, 3)
    assert calls == [2, 2, 3]
    reference(module, x, 3, tag=object())  # an argument it cannot read by value: computed every time
    reference(module, x, 3, tag=object())
    assert calls == [2, 2, 3, 3, 3]


PARAMETRIZED_SUITE = """
import pytest

@pytest.fixture
def doubled(seed):
    return 2 * seed

@pytest.fixture
def boxed(request):
    return ["box", request.param]

@pytest.mark.parametrize(("seed", "lengths", "flag"), [(0, [3, 1], False), (1, [2], True)])
def test_plain(student, seed, lengths, flag, doubled, request):
    raise AssertionError(repr((student, seed, lengths, flag, doubled, request.getfixturevalue("seed"))))

@pytest.mark.parametrize("boxed", [5], indirect=True)
@pytest.mark.parametrize("wide", ["w"], scope="module")
def test_indirect_and_module_scoped(student, boxed, wide):
    raise AssertionError(repr((student, boxed, wide)))
"""


def test_parametrized_arguments_reach_each_test_as_pytest_gives_them_student_after_student(tmp_path, monkeypatch):
    from _pytest.python import DirectParamFixtureDef

    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_params.py").write_text(PARAMETRIZED_SUITE)
    (tmp_path / "assignment.yaml").write_text(
        "assignment: params\nnotebook: x.ipynb\nquestions:\n  - {id: q, points: 1, tests: test_params.py}\n"
    )
    assignment = load_assignment(folder=tmp_path)
    runs = [run_suite(assignment, lambda name=name: name) for name in ("alice", "bob")]
    executed = []
    original = DirectParamFixtureDef.execute
    monkeypatch.setattr(
        DirectParamFixtureDef, "execute", lambda self, request: executed.append(self.argname) or original(self, request)
    )
    runs.append(run_suite(assignment, lambda: "carol"))
    expected = {
        "test_plain[0-lengths0-False]": "({s!r}, 0, [3, 1], False, 0, 0)",
        "test_plain[1-lengths1-True]": "({s!r}, 1, [2], True, 2, 1)",
        "test_indirect_and_module_scoped[w-5]": "({s!r}, ['box', 5], 'w')",
    }
    for student, outcomes in zip(("alice", "bob", "carol"), runs, strict=True):
        assert {o.name: o.message for o in outcomes} == {k: v.format(s=student) for k, v in expected.items()}
    # pytest's own fixture for a parametrized argument is only made when something asks for it by name
    # (the `doubled` fixture, once per test) and for the module-scoped one.
    assert sorted(executed) == ["seed", "seed", "wide"]


REPORTED_SUITE = """
import pytest
from autograder.testing import Hint, Mistake

def test_passes(student):
    pass

def test_asserts(student):
    assert student == "nobody", "not the one"

def test_mistake(student):
    raise Mistake(Hint("wrong", "Faux."))

@pytest.mark.xfail(reason="known")
def test_expected_to_fail(student):
    raise AssertionError("as expected")

def test_skipped(student):
    pytest.skip("not today")
"""

REPORTS_CONFTEST = """
def pytest_runtest_logreport(report):
    with open({log!r}, "a") as log:
        first = str(report.longrepr).splitlines()[0] if report.longrepr else ""
        log.write(" | ".join([report.nodeid.split("::")[-1], report.when, report.outcome,
                              str(getattr(report, "wasxfail", "")), first]) + "\\n")
"""


def test_reports_say_what_pytest_says_without_formatting_tracebacks(tmp_path, monkeypatch):
    """The reports are made without pytest's traceback formatting, and say what pytest's would."""
    log = tmp_path / "reports.log"
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_reported.py").write_text(REPORTED_SUITE)
    (tmp_path / "conftest.py").write_text(REPORTS_CONFTEST.format(log=str(log)))
    (tmp_path / "assignment.yaml").write_text(
        "assignment: reported\nnotebook: x.ipynb\nquestions:\n  - {id: q, points: 1, tests: test_reported.py}\n"
    )
    formatted = []
    original = pytest.Function.repr_failure
    monkeypatch.setattr(
        pytest.Function, "repr_failure", lambda self, excinfo: formatted.append(self.name) or original(self, excinfo)
    )
    outcomes = run_suite(load_assignment(folder=tmp_path), lambda: "alice")
    calls = [line.split(" | ") for line in log.read_text().splitlines() if " | call | " in line]
    assert calls == [
        ["test_passes", "call", "passed", "", ""],
        ["test_asserts", "call", "failed", "", "AssertionError: not the one"],
        ["test_mistake", "call", "failed", "", "autograder.grading.checks.Mistake: Faux."],
        ["test_expected_to_fail", "call", "skipped", "known", "AssertionError: as expected"],
        ["test_skipped", "call", "skipped", "", calls[-1][-1]],
    ]
    assert "not today" in calls[-1][-1]  # a skip's report is pytest's own: where, and why
    assert formatted == []
    assert [o.outcome.value for o in outcomes][:3] == ["passed", "failed", "failed"]


def test_seeded_weights_are_the_generators_normal_draws_module_after_module():
    """seed_weights fills parameters in place with what randn(shape, generator) * scale draws, in order."""
    import torch
    from torch import nn

    from autograder.grading.suite_inputs import seed_weights

    for scale in (1.0, 0.5):
        gru, linear = nn.GRU(3, 4, num_layers=2, bidirectional=True), nn.Linear(4, 2)
        seed_weights(gru, linear, generator=torch.Generator().manual_seed(7), scale=scale)
        generator = torch.Generator().manual_seed(7)
        for param in [*gru.parameters(), *linear.parameters()]:
            assert torch.equal(param.detach(), torch.randn(param.shape, generator=generator) * scale)
            assert param.requires_grad
