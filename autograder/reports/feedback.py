"""Feedback: what one student reads about their grade, in French or English (pure, no I/O).

:func:`student_feedback` turns a :class:`StudentResult` into the plain data that
``templates/feedback.html.j2`` lays out: the total, each question with its points, and for each
failed test the hint, what was expected against what came back, the student's own error with
its traceback in their cells, the limit that struck; then the cells that failed to run. Every
sentence of the page is here or in the records, in both languages; the template only escapes
and places them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from autograder.assignment import Assignment, SubmissionLimits
from autograder.language import french_spacing, in_language, output_in_language
from autograder.reports.gradebook import REPORT_BUDGET_BYTES, format_points
from autograder.reports.wording import limit_sentence, not_graded_texts
from autograder.results import CellRun, ErrorInfo, Frame, Outcome, QuestionResult, Status, StudentResult, TestOutcome

# The page's fixed words, per language. Student-facing: French unless --lang en.
WORDS = {
    "fr": {
        "colon": " : ",
        "title": "Retour sur votre notebook",
        "total": "Total",
        "points": "points",
        "question": "Question",
        "passed": "réussi",
        "failed": "échoué",
        "tests_passed": "tests réussis",
        "why": "Pourquoi",
        "traceback": "Où l'erreur s'est produite dans votre notebook",
        "cell": "cellule",
        "line": "ligne",
        "in": "dans",
        "failed_cells": "Cellules à revoir",
        "failed_cells_intro": (
            "Ces cellules ont levé une erreur ou atteint une limite ; "
            "les questions qui en dépendent ont pu perdre des points."
        ),
        "output": "Sortie de la cellule (fin)",
        "not_graded": "Votre notebook n'a pas pu être noté",
        "what_to_do": "Que faire ?",
        "all_good": "Tous les tests sont réussis : bravo !",
        "graded_by": "Corrigé par",
        "time": "durée de la correction",
        "summary_questions": "Questions",
        "open_all": "Les questions où des points manquent sont ouvertes ; touchez un titre pour l'ouvrir ou le fermer.",
    },
    "en": {
        "colon": ": ",
        "title": "Feedback on your notebook",
        "total": "Total",
        "points": "points",
        "question": "Question",
        "passed": "passed",
        "failed": "failed",
        "tests_passed": "tests passed",
        "why": "Why",
        "traceback": "Where the error happened in your notebook",
        "cell": "cell",
        "line": "line",
        "in": "in",
        "failed_cells": "Cells to look at",
        "failed_cells_intro": (
            "These cells raised an error or reached a limit; the questions that need them may have lost points."
        ),
        "output": "Cell output (end)",
        "not_graded": "Your notebook could not be graded",
        "what_to_do": "What to do:",
        "all_good": "Every test passed: well done!",
        "graded_by": "Graded by",
        "time": "grading time",
        "summary_questions": "Questions",
        "open_all": "Questions that lost points are open; tap a title to open or close it.",
    },
}


@dataclass(frozen=True)
class TestView:
    description: str
    passed: bool
    points: str  # "0.5 / 0.5"
    headline: str  # the hint, or the sentence saying what went wrong
    detail: str  # what was expected against what came back (several lines)
    error: ErrorView | None
    limit: str


@dataclass(frozen=True)
class ErrorView:
    summary: str  # "IndexError: index 5 is out of bounds"
    frames: tuple[Frame, ...]


@dataclass(frozen=True)
class QuestionView:
    id: str
    score: str
    max_score: str
    full: bool
    passed: int
    total: int
    reason: str
    tests: tuple[TestView, ...]


@dataclass(frozen=True)
class CellView:
    cell: int
    error: ErrorView | None
    limit: str
    output: str


@dataclass(frozen=True)
class StudentFeedback:
    lang: str
    words: dict
    student: str
    assignment: str
    graded: bool
    score: str
    max_score: str
    percent: int
    status_sentence: str  # why the notebook was not graded ("" when it was)
    status_advice: str  # what the student should do about it
    limit: str
    questions: tuple[QuestionView, ...]
    cells: tuple[CellView, ...]
    seconds: str
    version: str
    cut: str = ""  # the sentence saying the page was shortened to its size budget ("" when it was not)
    more_cells: str = ""  # the cells to look at left out of the page, in words ("" when none were)


MAX_OUTPUT_CHARS = 1500  # the end of a failed cell's output shown on the page


def student_feedback(result: StudentResult, assignment: Assignment, lang: str = "fr") -> StudentFeedback:
    from autograder import __version__

    limits = assignment.limits
    graded = result.status is Status.GRADED
    sentence, advice = ("", "") if graded else not_graded_texts(result, lang)
    percent = round(100 * result.score / result.max_score) if result.max_score else 0
    page = StudentFeedback(
        lang=lang,
        words=WORDS[lang],
        student=result.student,
        assignment=assignment.id,
        graded=graded,
        score=format_points(result.score),
        max_score=format_points(result.max_score),
        percent=max(0, min(100, percent)),
        status_sentence=sentence,
        status_advice=advice,
        limit=limit_sentence(result.limit, limits, lang),
        questions=tuple(_question(q, limits, lang) for q in result.questions) if graded else (),
        cells=tuple(_cell(run, limits, lang) for run in result.cells if not run.ok or run.limit),
        seconds=f"{result.seconds:.1f} s",
        version=__version__,
        cut=cut_sentence(result, lang),
        more_cells=more_cells_sentence(result.cut_cells, lang),
    )
    return _french_typography(page) if lang == "fr" else page


def _french_typography(page: StudentFeedback) -> StudentFeedback:
    """The page's own French text with non-breaking spaces before « : ; ? ! » (``language.french_spacing``).

    The student's own text (their code in tracebacks, their outputs and error messages) is left as
    they wrote it; the hints and what was expected against what came back are ours and are spaced."""
    f = french_spacing

    def test(view: TestView) -> TestView:
        return replace(
            view, description=f(view.description), headline=f(view.headline), detail=f(view.detail), limit=f(view.limit)
        )

    def question(view: QuestionView) -> QuestionView:
        return replace(view, reason=f(view.reason), tests=tuple(test(t) for t in view.tests))

    return replace(
        page,
        words={key: f(value) for key, value in page.words.items()},
        status_sentence=f(page.status_sentence),
        status_advice=f(page.status_advice),
        limit=f(page.limit),
        cut=f(page.cut),
        more_cells=f(page.more_cells),
        questions=tuple(question(q) for q in page.questions),
        cells=tuple(replace(c, limit=f(c.limit)) for c in page.cells),
    )


def cut_sentence(result: StudentResult, lang: str) -> str:
    """What the report budget left out of this page, and that the points do not depend on it."""
    characters, cells = result.cut_characters, result.cut_cells
    if not characters and not cells:
        return ""
    kb = REPORT_BUDGET_BYTES // 1000
    several = (characters and cells) or characters > 1 or cells > 1
    if lang == "en":
        parts = [f"{characters} character{'s' if characters != 1 else ''}"] if characters else []
        parts += [f"{cells} cell{'s' if cells != 1 else ''} to look at"] if cells else []
        return (
            f"This feedback was shortened: your notebook produced more text (outputs, errors) than a feedback "
            f"page may hold ({kb} kB). {' and '.join(parts)} {'are' if several else 'is'} left out, each cut "
            "marked [… ]. Your points do not change."
        )
    parts = [f"{characters} caractère{'s' if characters > 1 else ''}"] if characters else []
    parts += [f"{cells} cellule{'s' if cells > 1 else ''} à revoir"] if cells else []
    return (
        f"Ce retour a été raccourci : votre notebook a produit plus de texte (sorties, erreurs) qu'une page de "
        f"retour ne peut en contenir ({kb} ko). {' et '.join(parts)} n'y {'figurent' if several else 'figure'} "
        "pas, chaque coupure est marquée [… ]. Vos points n'en dépendent pas."
    )


def more_cells_sentence(count: int, lang: str) -> str:
    """The cells to look at left out of the page, after the ones it lists."""
    if not count:
        return ""
    if count == 1:
        if lang == "en":
            return "… and 1 more cell to look at, not shown here so that this page stays readable."
        return "… et 1 autre cellule à revoir, non montrée ici pour que cette page reste lisible."
    if lang == "en":
        return f"… and {count} more cells to look at, not shown here so that this page stays readable."
    return f"… et {count} autres cellules à revoir, non montrées ici pour que cette page reste lisible."


def _question(question: QuestionResult, limits: SubmissionLimits, lang: str) -> QuestionView:
    tests = []
    said = question.reason_in(lang)  # a sentence already on the page, not repeated under every test
    for test, score in zip(question.tests, question.scores, strict=True):
        view = _test(test, score, question, limits, lang)
        if view.headline and view.headline == said:
            view = replace(view, headline="")
        elif view.headline:
            said = view.headline
        tests.append(view)
    return QuestionView(
        id=question.question,
        score=format_points(question.score),
        max_score=format_points(question.max_score),
        full=question.score >= question.max_score,
        passed=sum(t.passed for t in tests),
        total=len(tests),
        reason=question.reason_in(lang),
        tests=tuple(tests),
    )


def _test(test: TestOutcome, score: float, question: QuestionResult, limits: SubmissionLimits, lang: str) -> TestView:
    share = question.max_score * test.weight / (sum(t.weight for t in question.tests) or 1)
    message = test.message_in(lang)
    headline, _, detail = message.partition("\n")
    error = _error(test.error, lang)
    if error is not None and test.hint == "raised":
        detail = ""  # the lines after the headline were the traceback, shown from the frames instead
    return TestView(
        description=test.description_in(lang),
        passed=test.outcome is Outcome.PASSED,
        points=f"{format_points(score)} / {format_points(share)}",
        headline=headline.strip(),
        detail=detail.strip("\n"),
        error=error,
        limit=limit_sentence(test.limit, limits, lang),
    )


def _error(error: ErrorInfo | None, lang: str) -> ErrorView | None:
    if error is None:
        return None
    # The grader's own messages (limits) and the report budget's notes carry their English.
    message, type_name = in_language(error.message, lang), in_language(error.type_name, lang)
    frames = tuple(
        Frame(frame.cell, frame.line, in_language(frame.function, lang), in_language(frame.text, lang))
        for frame in error.frames
    )
    return ErrorView(summary=f"{type_name}: {message}" if message else type_name, frames=frames)


def _cell(run: CellRun, limits: SubmissionLimits, lang: str) -> CellView:
    output = output_in_language(run.output, lang)
    if len(output) > MAX_OUTPUT_CHARS:
        output = "…" + output[-MAX_OUTPUT_CHARS:]
    return CellView(
        cell=run.cell, error=_error(run.error, lang), limit=limit_sentence(run.limit, limits, lang), output=output
    )
