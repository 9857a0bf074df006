"""Results: the typed records that flow forward, from one test's outcome to a student's whole grade."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from autograder.language import english


class Status(str, enum.Enum):
    """Why a submission got the grade it got; the gradebook's ``status`` column (contract words)."""

    GRADED = "graded"  # loaded and run, whatever its cells and tests did
    EMPTY = "empty"  # a file with nothing in it
    UNREADABLE = "unreadable"  # not JSON, not text, truncated, or an nbformat older than v3
    NOT_A_NOTEBOOK = "not_a_notebook"  # JSON, or another kind of file, that is not a notebook
    TOO_LARGE = "too_large"  # larger than the grader accepts
    DUPLICATE = "duplicate"  # several notebooks for one student: none is picked behind their back
    NO_NOTEBOOK = "no_notebook"  # a student's folder with no notebook in it
    GRADER_ERROR = "grader_error"  # a fault of the grader itself, confined to this submission


class Outcome(str, enum.Enum):
    """How one hidden test ended."""

    PASSED = "passed"
    FAILED = "failed"  # an assertion on the student's result failed
    ERROR = "error"  # the student's code raised, or returned something that cannot be checked


@dataclass(frozen=True)
class CodeCell:
    """A notebook code cell ready to run."""

    cell: int  # 1-based position in the notebook, counting every cell, as the student sees them
    source: str  # as the student wrote it: magics and shell escapes are made inert by the cell runner, as it runs


@dataclass(frozen=True)
class Frame:
    """One line of a student's traceback, located in their notebook."""

    cell: int  # 1-based position of the cell in the notebook
    line: int
    function: str
    text: str


@dataclass(frozen=True)
class ErrorInfo:
    """An exception raised by student code, as data: its type, message and traceback in their cells."""

    type_name: str
    message: str
    frames: tuple[Frame, ...] = ()
    type_names: tuple[str, ...] = ()  # the exception's classes from most to least derived
    limit: str = ""  # the SubmissionLimits field behind it, when a limit stopped the code

    def summary(self) -> str:
        return f"{self.type_name}: {self.message}" if self.message else self.type_name


@dataclass(frozen=True)
class CellRun:
    """One code cell of a submission, as it ran."""

    cell: int  # 1-based position in the notebook
    ok: bool
    error: ErrorInfo | None = None
    output: str = ""
    limit: str = ""  # the SubmissionLimits field that stopped this cell ("cell_seconds", "memory_mb"...), if one did


@dataclass(frozen=True)
class TestOutcome:
    """One hidden test against one submission."""

    __test__ = False  # not a pytest test class, whatever its name says

    question: str
    name: str  # pytest's name for it, parameters included
    description: str  # what the test checks, in French, for the student: a sentence (its title)
    outcome: Outcome
    message: str = ""  # why it failed: the hint, then what was expected against what came back (French)
    hint: str = ""  # id of the likely mistake the hint names, when one was recognised
    weight: float = 1.0
    limit: str = ""  # the SubmissionLimits field that stopped the student's code in this test, if one did
    message_en: str = ""  # ``message`` in English, for feedback with --lang en ("" when it has none)
    error: ErrorInfo | None = None  # the student's exception that ended the test, with its traceback, if one did
    description_en: str = ""  # ``description`` in English ("" when the suite gives none)
    # A test of a property of the call (its arguments left alone, no .grad filled: checks.expect_answered):
    # judged on that property alone, and worth its points only beside a test of the values that passed.
    property_only: bool = False

    def description_in(self, lang: str) -> str:
        """The test's title in ``lang`` (French when the suite gives no English)."""
        return (self.description_en or self.description) if lang == "en" else self.description

    def message_in(self, lang: str) -> str:
        """Why it failed, in ``lang``."""
        return (self.message_en or english(self.message)) if lang == "en" else self.message


@dataclass(frozen=True)
class QuestionResult:
    question: str
    score: float
    max_score: float
    tests: tuple[TestOutcome, ...]
    scores: tuple[float, ...]  # each test's share of the points, in the order of ``tests``
    reason: str = ""  # why the question could not run at all, when it could not

    def reason_in(self, lang: str) -> str:
        """``reason`` in ``lang``: the English of the test message it came from, when it has one."""
        if not self.reason or lang != "en":
            return self.reason
        for test in self.tests:
            if test.message == self.reason and test.message_en:
                return test.message_en
        return {"aucun test n'a tourné": "no test ran"}.get(self.reason, english(self.reason))


@dataclass(frozen=True)
class StudentResult:
    student: str
    status: Status
    score: float
    max_score: float
    questions: tuple[QuestionResult, ...] = ()
    cells: tuple[CellRun, ...] = ()
    source: str = ""  # the submission's path, as discovered
    message: str = ""  # why it was not graded, for statuses other than GRADED
    seconds: float = 0.0
    limit: str = ""  # a SubmissionLimits field that struck the submission as a whole ("submission_seconds")
    unprotected: tuple[str, ...] = ()  # sandbox protections that were off (see autograder.reports.wording.PROTECTIONS)
    cut_characters: int = 0  # characters of the student's outputs and errors left out by the report budget
    cut_cells: int = 0  # cells to look at left out of the reports past the first ones (scoring.MAX_REPORTED_CELLS)
