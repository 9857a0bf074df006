"""Suites: the hidden pytest suites of an assignment, run with real pytest in this (trusted) process.

:func:`run_suite` runs them, giving each test a ``student`` fixture built by the caller, and turns
every test's ending into a :class:`~autograder.results.TestOutcome`; :class:`SuiteSession` keeps
one collected session for a whole run. What an assignment is (its questions, points and limits)
lives in :mod:`autograder.assignment`.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import os
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

import pytest

from autograder.assignment import Assignment, AssignmentError, Question
from autograder.grading.checks import Mistake, Title, took_property_test
from autograder.grading.student import MissingDefinition, Returns, Student, StudentError, UnusableResult
from autograder.language import Text, english
from autograder.output import captured_output
from autograder.reports.wording import stopped_by_limit
from autograder.results import ErrorInfo, Outcome, TestOutcome


def run_suite(
    assignment: Assignment, make_student: Callable[[], object], questions: tuple[str, ...] | None = None
) -> list[TestOutcome]:
    """Run the hidden tests of ``questions`` (all by default); one outcome per test, in suite order."""
    return suite_session(assignment).run(make_student, questions)


class SuiteSession:
    """One pytest session over an assignment's suites, opened once and run for student after student.

    Configuring pytest and collecting the suites cost most of a student's pytest time when every
    student had a ``pytest.main`` of their own (docs/performance.md). The session is configured and
    collected once; each student
    runs every collected item through pytest's own ``pytest_runtest_protocol`` hook, the last item
    with no next one, so fixtures of every scope are torn down between students. A lane forked
    from the process that opened it inherits it, collected.
    """

    def __init__(self, assignment: Assignment) -> None:
        # Private pytest API (what pytest.main does, in steps): _prepareconfig, _do_configure and
        # _ensure_unconfigure. pytest is pinned in constraints.txt; the suite's tests run through here.
        from _pytest.config import _prepareconfig

        self._collector = _Collector(assignment)
        self._lock = threading.Lock()
        args = [str(assignment.folder / q.tests) for q in assignment.questions]
        args += ["-c", str(assignment.folder / "pytest.ini"), "--rootdir", str(assignment.folder)]
        # --tb=no: the outcomes carry their own messages, and formatting pytest's tracebacks for every
        # failed test cost more than the tests on a notebook of stubs.
        args += ["-q", "--tb=no", "-p", "no:cacheprovider", "--import-mode=importlib", "--capture=no"]
        # Plugins a grading run has no use for. unraisableexception and threadexception alone ran
        # five full garbage collections at the end of each run: half the run on the solution.
        for plugin in ("unraisableexception", "threadexception", "logging", "faulthandler"):
            args += ["-p", f"no:{plugin}"]
        _forget_other_suites(assignment.folder)
        self._config = None
        with _quiet_pytest():
            try:
                config = _prepareconfig(args, [self._collector])
            except pytest.UsageError as error:
                raise AssignmentError(f"the hidden suite of {assignment.id} did not run: {error}") from None
            try:
                self._session = pytest.Session.from_config(config)
                config._do_configure()
                self._config = config
                config.hook.pytest_sessionstart(session=self._session)
                config.hook.pytest_collection(session=self._session)
            except Exception as error:
                self.close()
                raise AssignmentError(f"the hidden suite of {assignment.id} did not run: {error}") from None
        if self._collector.collection_errors or not self._session.items:
            self.close()
            raise AssignmentError(
                f"the hidden suite of {assignment.id} did not run: "
                + ("; ".join(self._collector.collection_errors) or "no tests collected")
            )
        # The run's dots and letters would pile up, student after student, in the terminal writer
        # pytest made at configure time; outcomes come from the collector, not from the terminal.
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            config.pluginmanager.unregister(reporter)
        self.items = tuple(self._session.items)

    def run(self, make_student: Callable[[], object], questions: tuple[str, ...] | None = None) -> list[TestOutcome]:
        items = [item for item in self.items if questions is None or self._collector.question(item).id in questions]
        assert self._config is not None, "a closed session runs nothing"
        hook = self._config.hook
        with self._lock, captured_output(io.StringIO()):
            self._collector.begin(make_student)
            try:
                for position, item in enumerate(items):
                    following = items[position + 1] if position + 1 < len(items) else None
                    hook.pytest_runtest_protocol(item=item, nextitem=following)
            except BaseException:
                # Fixtures may be left set up half-way (Ctrl-C, a bug of ours): this session is done.
                _discard(self)
                raise
            return self._collector.end()

    def close(self) -> None:
        config, self._config = self._config, None
        if config is not None:
            with contextlib.suppress(Exception), _quiet_pytest():
                config.hook.pytest_sessionfinish(session=self._session, exitstatus=0)
            with contextlib.suppress(Exception):
                config._ensure_unconfigure()


_sessions: dict[tuple, SuiteSession] = {}  # this process's open sessions, by suite folder and files' versions


_held: dict[Path, SuiteSession] = {}  # sessions a grading run holds, by suite folder


def hold_session(assignment: Assignment | None) -> None:
    """From now on ``assignment``'s session is never collected again, whatever happens to its files (a grading
    run checks them against its snapshot instead, see :mod:`autograder.grading.guard`): a file a submission might
    have written is never imported. None: the run is over, and sessions follow their files again."""
    _held.clear()
    if assignment is not None:
        _held[assignment.folder.resolve()] = suite_session(assignment)


def suite_session(assignment: Assignment) -> SuiteSession:
    """The open session for ``assignment``'s suites in this process, opened on first use (and opened again
    when its files have changed, unless a grading run holds it)."""
    if _held:
        held = _held.get(assignment.folder.resolve())
        if held is not None:
            return held
    key = _suite_key(assignment)
    session = _sessions.get(key)
    if session is None:
        for stale in [k for k in _sessions if k[0] == key[0]]:  # the same folder, its files since changed
            _discard(_sessions[stale])
        session = SuiteSession(assignment)
        _sessions[key] = session
    return session


def _suite_key(assignment: Assignment) -> tuple:
    folder = assignment.folder.resolve()
    versions: list[tuple[str, int | None, int | None]] = []
    for name in sorted({q.tests for q in assignment.questions} | {"pytest.ini", "conftest.py", "assignment.yaml"}):
        try:
            stat = (folder / name).stat()
            versions.append((name, stat.st_mtime_ns, stat.st_size))
        except OSError:
            versions.append((name, None, None))
    return (folder, repr(assignment.questions), tuple(versions))


def _discard(session: SuiteSession) -> None:
    for key in [k for k, v in _sessions.items() if v is session]:
        del _sessions[key]
    session.close()


_imported_suite: list[Path] = []  # the folder whose test modules pytest last imported in this process


def _forget_other_suites(folder: Path) -> None:
    """pytest keeps imported test modules by name (``test_task_types``), whatever their folder: before
    a suite folder is collected, the modules of the last one collected (the same folder, its files
    since changed, or another one) must go. Sessions already open keep their own module objects."""
    folder = folder.resolve()
    forget = {folder, *_imported_suite}
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if path and Path(path).resolve().parent in forget:
            del sys.modules[name]
    _imported_suite[:] = [folder]


# A skip, and a group of exceptions (Python 3.11+), which may be a group of skips: reported by pytest itself.
_LEFT_TO_PYTEST = (pytest.skip.Exception, getattr(builtins, "BaseExceptionGroup", pytest.skip.Exception))


class _Collector:
    """The pytest plugin: provides ``student`` and records how each test ended."""

    def __init__(self, assignment: Assignment) -> None:
        self._make_student: Callable[[], object] = lambda: None
        self._questions = {(assignment.folder / q.tests).resolve(): q for q in assignment.questions}
        self._of_item: dict[int, Question] = {}  # id(item) -> its question, resolved once per item
        self._direct: dict[int, dict[str, object]] = {}  # id(item) -> its parametrized arguments, as given
        self._keywords: dict[int, dict[str, Literal[1]]] = {}  # id(item) -> its keywords, as its reports list them
        self._titles: dict[int, Text] = {}  # id(item) -> its title, in both languages
        self.outcomes: list[TestOutcome] = []
        self.collection_errors: list[str] = []
        self._student: object = None

    def begin(self, make_student: Callable[[], object]) -> None:
        self._make_student, self.outcomes, self._student = make_student, [], None

    def question(self, item: pytest.Item) -> Question:
        question = self._of_item.get(id(item))
        if question is None:
            question = self._of_item[id(item)] = self._questions[Path(item.path).resolve()]
        return question

    def end(self) -> list[TestOutcome]:
        outcomes, self.outcomes = self.outcomes, []
        self._make_student, self._student = (lambda: None), None
        return outcomes

    @pytest.fixture
    def student(self) -> object:
        self._student = self._make_student()
        return self._student

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self._student = None
        # A test's parametrized arguments are its own before pytest fills its fixtures, which then skips
        # them: pytest would make each of them a fixture of its own, set up and torn down for every test
        # (a FixtureDef for its `request` each time), a large part of pytest's own CPU per student with
        # the bundled suites (docs/performance.md). The values are the ones pytest would
        # give: `callspec.params`, the same objects. Only plain `parametrize` arguments, function-scoped;
        # not `indirect` ones, which are real fixtures.
        direct = self._direct.get(id(item))
        if direct is None:
            direct = self._direct[id(item)] = _direct_arguments(item)
        funcargs = getattr(item, "funcargs", None)
        if direct and type(funcargs) is dict:
            funcargs.update(direct)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport | None:
        """The report pytest would make, without what nobody reads here. pytest's own copies the item's
        keywords (a walk up its parents) for each of a test's three reports and formats a failure's
        traceback, for a terminal this run does not print: the outcomes are recorded from the exception
        itself (``_outcome``). A skip (skip, xfail's skip, a group of skips) is left to pytest, whose
        report says where it came from; xfail's and the other plugins' wrappers see this report as they
        would see pytest's."""
        excinfo = call.excinfo
        if excinfo is not None and isinstance(excinfo.value, _LEFT_TO_PYTEST):
            return None
        keywords = self._keywords.get(id(item))
        if keywords is None:
            keywords = self._keywords[id(item)] = dict.fromkeys(item.keywords, 1)
        sections = [(f"Captured {key} {when}", content) for when, key, content in item._report_sections]
        stage = call.when
        assert stage != "collect"  # a test's own stages only (pytest's TestReport.from_item_and_call asserts it too)
        return pytest.TestReport(
            item.nodeid,
            item.location,
            keywords,
            "passed" if excinfo is None else "failed",
            None if excinfo is None else excinfo.exconly(),
            stage,
            sections,
            call.duration,
            call.start,
            call.stop,
            item.user_properties,
        )

    # pytest_runtest_makereport's wrapper (a plugin object has one attribute per name; pytest registers
    # only names that start with pytest_).
    @pytest.hookimpl(wrapper=True, specname="pytest_runtest_makereport")
    def pytest_record_outcome(self, item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
        report = yield
        if call.when == "call" or (call.when == "setup" and call.excinfo is not None):
            self.outcomes.append(self._outcome(item, call))
        return report

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append(f"{report.nodeid}: {str(report.longrepr).strip().splitlines()[-1]}")

    def _outcome(self, item: pytest.Item, call: pytest.CallInfo) -> TestOutcome:
        question = self.question(item)
        function = getattr(item, "originalname", item.name)
        description = self._titles.get(id(item))
        if description is None:
            description = self._titles[id(item)] = _title(item)
        weight = question.weights.get(function, 1.0)
        limit = self._student.limit_struck if isinstance(self._student, Student) else ""  # none: no fixture
        property_only = took_property_test()

        def ended(
            outcome: Outcome, message: object = "", hint: str = "", error: ErrorInfo | None = None
        ) -> TestOutcome:
            fr, en = _texts(message)
            return TestOutcome(
                question=question.id,
                name=item.name,
                description=str(description),
                description_en=english(description),
                outcome=outcome,
                message=fr,
                message_en=en,
                hint=hint,
                weight=weight,
                limit=limit,
                error=error,
                property_only=property_only,
            )

        if call.excinfo is None:
            return ended(Outcome.PASSED)
        error = call.excinfo.value
        if isinstance(error, Mistake):
            # A student's exception a check recognised (hints_for_errors) keeps its traceback for the feedback.
            cause = error.__cause__.info if isinstance(error.__cause__, StudentError) else None
            return ended(Outcome.FAILED, error.message, hint=error.hint.id, error=cause)
        if isinstance(error, MissingDefinition):
            return ended(Outcome.FAILED, error.args[0], hint="missing_definition")
        if isinstance(error, UnusableResult):
            # Said again with what the question wants, which its suite knows (RETURNS) and the fixture does not.
            returns = getattr(getattr(item, "module", None), "RETURNS", None)
            message = error.explained(returns if isinstance(returns, Returns) else None)
            return ended(Outcome.FAILED, message, hint="unusable_result")
        if isinstance(error, StudentError):
            message = student_error_text(error)
            return ended(Outcome.ERROR, message, hint="raised", error=error.info)
        if isinstance(error, AssertionError):
            return ended(Outcome.FAILED, str(error))
        # A name the test calls that the notebook made a value (rnn_cell_forward = 3): Python's error when the test
        # calls it (or asks it for StudentFunction.keeping_arguments) is the student's, not ours.
        text = str(error) if type(error) in (TypeError, AttributeError) else ""
        values = getattr(self._student, "_values", None) or {}
        for says in ("' object is not callable", "' object has no attribute 'keeping_arguments'"):
            kind = text[1 : -len(says)] if text.startswith("'") and text.endswith(says) else ""
            named = [name for name, value_type in values.items() if kind and kind.split(".")[-1] == value_type.__name__]
            if named:
                name = named[0]
                message = Text(
                    f"`{name}` doit être une fonction (def {name}(...):), mais votre notebook en fait une valeur de "
                    f"type {kind}.",
                    f"`{name}` must be a function (def {name}(...):), but your notebook makes it a value of type "
                    f"{kind}.",
                )
                return ended(Outcome.FAILED, message, hint="not_a_function")
        message = Text(
            f"Erreur interne du correcteur ({type(error).__name__}: {error}) ; signalez-la à l'enseignant.",
            f"Internal grader error ({type(error).__name__}: {error}); please report it to your teacher.",
        )
        return ended(Outcome.ERROR, message, hint="grader_error")


def _direct_arguments(item: pytest.Item) -> dict[str, object]:
    from _pytest.python import DirectParamFixtureDef  # pytest is pinned in constraints.txt
    from _pytest.scope import Scope

    callspec = getattr(item, "callspec", None)
    definitions = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
    if callspec is None:
        return {}
    return {
        name: value
        for name, value in callspec.params.items()
        if callspec._arg2scope.get(name) is Scope.Function
        and isinstance((definitions.get(name) or (None,))[-1], DirectParamFixtureDef)
    }


def _texts(message: object) -> tuple[str, str]:
    """A message's French and English, as a TestOutcome stores them."""
    text = message if isinstance(message, str) else str(message)
    return str(text), english(text)


def _title(item: pytest.Item) -> Text:
    """A test's title as students read it: its ``checks.title`` with this case's parameters, in both
    languages. A test without one (an instructor's own suite) has its docstring's first line, followed by
    pytest's id of the case when it is parametrized, so that no two cases read alike."""
    function = getattr(item, "function", None)
    given = getattr(function, "title", None)
    params = getattr(getattr(item, "callspec", None), "params", {})
    if isinstance(given, Title):
        return given.render(params)
    doc = (getattr(function, "__doc__", None) or "").strip().splitlines()
    if not doc:
        return Text(item.name)
    case = item.name[item.name.index("[") :] if item.name.endswith("]") and "[" in item.name else ""
    return Text(f"{doc[0]} {case}".rstrip())


def student_error_text(error: StudentError) -> Text:
    """A student's exception as they read it: the call, the error, and where it came from in their cells."""
    name = error.function
    stopped = stopped_by_limit(name, error.info)
    if stopped is not None:
        fr, en = [stopped[0]], [stopped[1]]
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
