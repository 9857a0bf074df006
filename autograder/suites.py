"""Suites: the hidden pytest suites of an assignment, its ``assignment.yaml``, and running them.

The suites live in ``autograder/assignments/<id>/`` beside ``assignment.yaml``; they are never
part of a student release. :func:`run_suite` runs them with real pytest, in this (trusted)
process, giving each test a ``student`` fixture built by the caller, and turns every test's
ending into a :class:`TestOutcome`.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from autograder.checks import Mistake
from autograder.errors import AutograderError
from autograder.language import Text, english
from autograder.results import Outcome, TestOutcome
from autograder.transport import MissingDefinition, StudentError, UnusableResult, captured_output

ASSIGNMENTS_DIR = Path(__file__).resolve().parent / "assignments"


@dataclass(frozen=True)
class Question:
    id: str
    points: float
    tests: str  # the suite's file for this question, relative to the assignment's folder
    weights: Mapping[str, float] = field(default_factory=dict)  # test function name -> weight (default 1)


@dataclass(frozen=True)
class SubmissionLimits:
    """Resource limits for one submission, as ``assignment.yaml`` sets them."""

    cell_seconds: float = 30
    call_seconds: float = 10
    submission_seconds: float = 300
    memory_mb: int = 2048
    processes: int = 32
    file_size_mb: int = 16
    output_kb: int = 64


@dataclass(frozen=True)
class Assignment:
    id: str
    folder: Path
    notebook: str
    questions: tuple[Question, ...]
    limits: SubmissionLimits

    @property
    def max_score(self) -> float:
        return sum(q.points for q in self.questions)

    def question(self, question_id: str) -> Question:
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(question_id)


class AssignmentError(AutograderError):
    """An ``assignment.yaml`` that cannot be used."""


def load_assignment(assignment_id: str = "rnn_intro", folder: Path | None = None) -> Assignment:
    """Read ``assignment.yaml`` from the assignment's folder (the bundled one by default)."""
    folder = folder or ASSIGNMENTS_DIR / assignment_id
    path = folder / "assignment.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        questions = tuple(
            Question(
                id=str(q["id"]),
                points=float(q["points"]),
                tests=str(q["tests"]),
                weights={str(k): float(v) for k, v in (q.get("weights") or {}).items()},
            )
            for q in raw["questions"]
        )
        limits = SubmissionLimits(**(raw.get("limits") or {}))
        assignment = Assignment(str(raw["assignment"]), folder, str(raw["notebook"]), questions, limits)
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as error:
        raise AssignmentError(f"cannot read {path}: {error}") from None
    missing = [q.tests for q in questions if not (folder / q.tests).is_file()]
    if missing:
        raise AssignmentError(f"{path} names test files that do not exist: {', '.join(missing)}")
    return assignment


def run_suite(
    assignment: Assignment, make_student: Callable[[], object], questions: tuple[str, ...] | None = None
) -> list[TestOutcome]:
    """Run the hidden tests of ``questions`` (all by default); one outcome per test, in suite order."""
    selected = [q for q in assignment.questions if questions is None or q.id in questions]
    collector = _Collector(assignment, make_student)
    args = [str(assignment.folder / q.tests) for q in selected]
    args += ["-c", str(assignment.folder / "pytest.ini"), "--rootdir", str(assignment.folder)]
    # --tb=no: the outcomes carry their own messages, and formatting pytest's tracebacks for every
    # failed test cost 0.7 s on a notebook of stubs (0.2 s with it).
    args += ["-q", "--tb=no", "-p", "no:cacheprovider", "--import-mode=importlib", "--capture=no"]
    # Plugins a grading run has no use for. unraisableexception and threadexception alone cost
    # 0.24 s per run (five full garbage collections at the end): half the run on the solution.
    for plugin in ("unraisableexception", "threadexception", "logging", "faulthandler"):
        args += ["-p", f"no:{plugin}"]
    _forget_other_suites(assignment.folder)
    with _quiet_pytest():
        code = pytest.main(args, plugins=[collector])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) or collector.collection_errors:
        raise AssignmentError(
            f"the hidden suite of {assignment.id} did not run (pytest exit {int(code)}): "
            + "; ".join(collector.collection_errors)
        )
    return collector.outcomes


_imported_suite: list[Path] = []  # the folder whose test modules pytest has imported in this process


def _forget_other_suites(folder: Path) -> None:
    """pytest keeps imported test modules by name (``test_task_types``), whatever their folder: when
    another suite folder is run in the same process, the previous one's modules must go first."""
    folder = folder.resolve()
    if _imported_suite and _imported_suite[0] != folder:
        previous = _imported_suite[0]
        for name, module in list(sys.modules.items()):
            path = getattr(module, "__file__", None)
            if path and Path(path).resolve().parent == previous:
                del sys.modules[name]
    _imported_suite[:] = [folder]


class _Collector:
    """The pytest plugin: provides ``student`` and records how each test ended."""

    def __init__(self, assignment: Assignment, make_student: Callable[[], object]) -> None:
        self._make_student = make_student
        self._questions = {(assignment.folder / q.tests).resolve(): q for q in assignment.questions}
        self.outcomes: list[TestOutcome] = []
        self.collection_errors: list[str] = []
        self._student: object = None

    @pytest.fixture
    def student(self) -> object:
        self._student = self._make_student()
        return self._student

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self._student = None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
        report = yield
        if call.when == "call" or (call.when == "setup" and call.excinfo is not None):
            self.outcomes.append(self._outcome(item, call))
        return report

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append(f"{report.nodeid}: {str(report.longrepr).strip().splitlines()[-1]}")

    def _outcome(self, item: pytest.Item, call: pytest.CallInfo) -> TestOutcome:
        question = self._questions[Path(item.path).resolve()]
        function = getattr(item, "originalname", item.name)
        doc = (getattr(item, "function", None).__doc__ or "").strip().splitlines()
        common = {
            "question": question.id,
            "name": item.name,
            "description": doc[0] if doc else item.name,
            "weight": question.weights.get(function, 1.0),
            "limit": getattr(self._student, "limit_struck", ""),
        }
        if call.excinfo is None:
            return TestOutcome(outcome=Outcome.PASSED, **common)
        error = call.excinfo.value
        if isinstance(error, Mistake):
            # A student's exception a check recognised (hints_for_errors) keeps its traceback for the feedback.
            cause = error.__cause__.info if isinstance(error.__cause__, StudentError) else None
            return TestOutcome(
                outcome=Outcome.FAILED, hint=error.hint.id, error=cause, **common, **_texts(error.message)
            )
        if isinstance(error, MissingDefinition):
            return TestOutcome(outcome=Outcome.FAILED, hint="missing_definition", **common, **_texts(error.args[0]))
        if isinstance(error, UnusableResult):
            return TestOutcome(outcome=Outcome.FAILED, hint="unusable_result", **common, **_texts(error.args[0]))
        if isinstance(error, StudentError):
            message = student_error_text(error)
            return TestOutcome(outcome=Outcome.ERROR, hint="raised", error=error.info, **common, **_texts(message))
        if isinstance(error, AssertionError):
            return TestOutcome(outcome=Outcome.FAILED, **common, **_texts(str(error)))
        message = Text(
            f"Erreur interne du correcteur ({type(error).__name__}: {error}) ; signalez-la à l'enseignant.",
            f"Internal grader error ({type(error).__name__}: {error}); please report it to your teacher.",
        )
        return TestOutcome(outcome=Outcome.ERROR, hint="grader_error", **common, **_texts(message))


def _texts(message: object) -> dict[str, str]:
    """A message's French and English, as a TestOutcome stores them."""
    text = message if isinstance(message, str) else str(message)
    return {"message": str(text), "message_en": english(text)}


def student_error_text(error: StudentError) -> Text:
    """A student's exception as they read it: the call, the error, and where it came from in their cells."""
    name = error.function
    if error.type_name == "TimeLimitExceeded":
        fr = [
            f"`{name}` n'a pas terminé à temps ({error.info.message}) : "
            "une boucle qui ne s'arrête jamais, ou un calcul beaucoup trop long ?"
        ]
        en = [f"`{name}` did not finish in time: a loop that never stops, or far too long a computation?"]
    elif error.info.limit == "memory_mb":
        fr = [
            f"`{name}` a dépassé la limite de mémoire : "
            "un tenseur bien plus grand que nécessaire, ou une liste qui grossit sans fin ?"
        ]
        en = [f"`{name}` went over the memory limit: a tensor far larger than needed, or a list that grows forever?"]
    elif error.type_name == "ProcessExited":
        fr = [f"`{name}` a arrêté le processus qui l'exécutait ({error.info.message})."]
        en = [f"`{name}` stopped the process that ran it (os._exit, sys.exit or a crash?)."]
    elif error.is_a("NotImplementedError") and not error.info.message:
        fr = [
            f"`{name}` n'est pas encore écrite : elle lève toujours NotImplementedError. "
            "Remplacez `raise NotImplementedError()` par votre code."
        ]
        en = [
            f"`{name}` is not written yet: it always raises NotImplementedError. "
            "Replace `raise NotImplementedError()` with your code."
        ]
    else:
        fr = [f"Votre fonction `{name}` a levé une erreur : {error.info.summary()}"]
        en = [f"Your function `{name}` raised an error: {error.info.summary()}"]
    for frame in error.info.frames:
        fr.append(f"  cellule {frame.cell}, ligne {frame.line}, dans {frame.function} : {frame.text}")
        en.append(f"  cell {frame.cell}, line {frame.line}, in {frame.function}: {frame.text}")
    return Text("\n".join(fr), "\n".join(en))


@contextlib.contextmanager
def _quiet_pytest() -> Iterator[None]:
    """pytest's own report goes nowhere, and nothing from the instructor's environment changes the run."""
    saved_env = {k: os.environ.get(k) for k in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD")}
    os.environ.pop("PYTEST_ADDOPTS", None)
    os.environ.pop("PYTEST_PLUGINS", None)
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        with captured_output(io.StringIO()):
            yield
    finally:
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
