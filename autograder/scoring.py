"""Scoring: test outcomes become question scores and a student's total (pure, no I/O).

A question's points are shared among its tests in proportion to their weights (1 each unless
``assignment.yaml`` says otherwise); a passed test earns its share, any other ending earns 0.
Question scores are rounded to hundredths and the total is the sum of the rounded scores, so
the gradebook's columns always add up to its total.
"""

from __future__ import annotations

from collections.abc import Sequence

from autograder.results import CellRun, Outcome, QuestionResult, Status, StudentResult, TestOutcome
from autograder.suites import Assignment, Question


def score_question(question: Question, outcomes: Sequence[TestOutcome]) -> QuestionResult:
    tests = tuple(o for o in outcomes if o.question == question.id)
    total_weight = sum(o.weight for o in tests)
    if not tests or total_weight <= 0:
        return QuestionResult(question.id, 0.0, question.points, tests, (0.0,) * len(tests), "aucun test n'a tourné")
    shares = tuple(question.points * o.weight / total_weight for o in tests)
    scores = tuple(round(s, 4) if o.outcome is Outcome.PASSED else 0.0 for s, o in zip(shares, tests, strict=True))
    return QuestionResult(question.id, round(sum(scores), 2), question.points, tests, scores, _reason(tests))


def _reason(tests: Sequence[TestOutcome]) -> str:
    """Why a question scored nothing at all, when every test ended the same way for one reason."""
    messages = {o.message for o in tests if o.hint == "missing_definition"}
    if len(messages) == 1 and all(o.hint == "missing_definition" for o in tests):
        return messages.pop()
    return ""


def score_student(
    student: str,
    assignment: Assignment,
    outcomes: Sequence[TestOutcome],
    cells: Sequence[CellRun] = (),
    source: str = "",
    seconds: float = 0.0,
) -> StudentResult:
    questions = tuple(score_question(q, outcomes) for q in assignment.questions)
    total = round(sum(q.score for q in questions), 2)
    return StudentResult(
        student=student,
        status=Status.GRADED,
        score=total,
        max_score=assignment.max_score,
        questions=questions,
        cells=tuple(cells),
        source=source,
        seconds=seconds,
    )


def not_graded(student: str, assignment: Assignment, status: Status, message: str, source: str = "") -> StudentResult:
    """The row of a submission that could not be graded: 0 on every question, and why."""
    questions = tuple(QuestionResult(q.id, 0.0, q.points, (), (), reason=message) for q in assignment.questions)
    return StudentResult(student, status, 0.0, assignment.max_score, questions, source=source, message=message)
