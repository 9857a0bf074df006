"""Result records made by hand, for the report tests: any class size, any mix of outcomes."""

from __future__ import annotations

from autograder.assignment import Assignment
from autograder.grading.scoring import not_graded, score_question
from autograder.results import CellRun, ErrorInfo, Frame, Outcome, QuestionResult, Status, StudentResult, TestOutcome

SOFTMAX_FR = "Vous normalisez sur l'axe du batch (dim=0)."
SOFTMAX_EN = "You normalise over the batch axis (dim=0)."
INDEX_ERROR = ErrorInfo(
    "IndexError",
    "index 7 is out of bounds for dimension 1 with size 5",
    (Frame(12, 4, "gather_last_relevant_hidden", "return hiddens[:, x_lengths]"),),
    ("IndexError", "LookupError", "Exception", "BaseException", "object"),
)


def passed(question: str, name: str = "test_values") -> TestOutcome:
    return TestOutcome(question, name, f"{question} : les valeurs sont justes.", Outcome.PASSED)


def failed_with_hint(question: str = "classify_hidden", name: str = "test_values[0-4]") -> TestOutcome:
    return TestOutcome(
        question,
        name,
        "softmax(fc(z)) sur l'axe des classes.",
        Outcome.FAILED,
        message=f"{SOFTMAX_FR}\nle résultat : forme attendue (4, 3), obtenue (3, 4)",
        message_en=f"{SOFTMAX_EN}\nthe result: expected shape (4, 3), got (3, 4)",
        hint="softmax_over_batch",
    )


def raised(question: str = "gather_last_relevant_hidden", limit: str = "") -> TestOutcome:
    return TestOutcome(
        question,
        "test_lengths",
        "Longueurs dans le désordre.",
        Outcome.ERROR,
        message=f"Votre fonction `{question}` a levé une erreur : {INDEX_ERROR.summary()}\n  cellule 12, ligne 4, ...",
        message_en=f"Your function `{question}` raised an error: {INDEX_ERROR.summary()}\n  cell 12, line 4, ...",
        hint="raised",
        error=INDEX_ERROR,
        limit=limit,
    )


def graded(
    assignment: Assignment,
    student: str,
    right: float = 1.0,
    extra: tuple[TestOutcome, ...] = (),
    cells: tuple[CellRun, ...] = (),
    limit: str = "",
) -> StudentResult:
    """A graded student who passes the first ``right`` share of questions (two tests each), plus ``extra``."""
    outcomes = []
    for index, question in enumerate(assignment.questions):
        ok = index < round(right * len(assignment.questions))
        outcomes.append(passed(question.id, "test_a"))
        outcomes.append(passed(question.id, "test_b") if ok else failed_with_hint(question.id, "test_b"))
    outcomes += extra
    questions: tuple[QuestionResult, ...] = tuple(score_question(q, outcomes) for q in assignment.questions)
    total = round(sum(q.score for q in questions), 2)
    return StudentResult(
        student, Status.GRADED, total, assignment.max_score, questions, cells, seconds=0.4, limit=limit
    )


def ungraded(assignment: Assignment, student: str, status: Status = Status.UNREADABLE) -> StudentResult:
    return not_graded(student, assignment, status, "not valid JSON (Expecting value at line 1, column 1)")
