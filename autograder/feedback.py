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

from autograder.language import in_language
from autograder.reports import format_points
from autograder.results import CellRun, ErrorInfo, Frame, Outcome, QuestionResult, Status, StudentResult, TestOutcome
from autograder.scoring import REPORT_BUDGET_BYTES
from autograder.suites import Assignment, SubmissionLimits

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
        "detail": "Détail technique",
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
        "detail": "Technical detail",
        "all_good": "Every test passed: well done!",
        "graded_by": "Graded by",
        "time": "grading time",
        "summary_questions": "Questions",
        "open_all": "Questions that lost points are open; tap a title to open or close it.",
    },
}

# Why a submission was not graded, as the student reads it (the status word is the contract's).
STATUS_SENTENCES = {
    Status.EMPTY: ("Le fichier rendu est vide.", "The file you submitted is empty."),
    Status.UNREADABLE: (
        "Le fichier rendu n'a pas pu être lu comme un notebook (fichier tronqué ou abîmé, ou format trop ancien). "
        "Ouvrez-le dans Jupyter, enregistrez-le et rendez-le de nouveau.",
        "The file you submitted could not be read as a notebook (truncated or damaged, or too old a format). "
        "Open it in Jupyter, save it and submit it again.",
    ),
    Status.NOT_A_NOTEBOOK: (
        "Le fichier rendu n'est pas un notebook Jupyter (.ipynb).",
        "The file you submitted is not a Jupyter notebook (.ipynb).",
    ),
    Status.TOO_LARGE: (
        "Le fichier rendu est trop gros : effacez les sorties volumineuses (Kernel → Restart & Clear Output) "
        "et rendez-le de nouveau.",
        "The file you submitted is too large: clear the large outputs (Kernel → Restart & Clear Output) "
        "and submit it again.",
    ),
    Status.DUPLICATE: (
        "Plusieurs notebooks ont été trouvés à votre nom : aucun n'a été choisi à votre place. "
        "Ne rendez qu'un seul notebook.",
        "Several notebooks were found under your name: none was picked for you. Submit only one notebook.",
    ),
    Status.NO_NOTEBOOK: (
        "Votre dossier ne contient aucun notebook (.ipynb).",
        "Your folder holds no notebook (.ipynb).",
    ),
    Status.GRADER_ERROR: (
        "Le correcteur a rencontré une erreur interne sur votre notebook : ce n'est pas de votre fait. "
        "Votre enseignant la voit dans le résumé de la classe.",
        "The grader met an internal error on your notebook: it is not your fault. "
        "Your teacher sees it in the class summary.",
    ),
}


def limit_sentence(limit: str, limits: SubmissionLimits, lang: str) -> str:
    """The friendly sentence for a ``SubmissionLimits`` field that struck ("" for none)."""
    if not limit:
        return ""
    value = getattr(limits, limit, None)
    shown = format_points(float(value)) if isinstance(value, (int, float)) else "?"
    sentences = {
        "cell_seconds": (
            f"Votre cellule a dépassé la limite de temps ({shown} s) et a été arrêtée : "
            "une boucle qui ne s'arrête jamais, ou un calcul trop long ?",
            f"Your cell went over the time limit ({shown} s) and was stopped: "
            "a loop that never ends, or too long a computation?",
        ),
        "call_seconds": (
            f"Votre fonction a dépassé la limite de temps d'un appel ({shown} s) et a été arrêtée.",
            f"Your function went over the time limit for one call ({shown} s) and was stopped.",
        ),
        "submission_seconds": (
            f"Votre notebook a dépassé la durée totale accordée ({shown} s) : la correction s'est arrêtée là, "
            "la suite n'a pas pu être notée.",
            f"Your notebook went over the total time allowed ({shown} s): grading stopped there, "
            "what follows could not be graded.",
        ),
        "memory_mb": (
            f"Votre code a dépassé la mémoire autorisée ({shown} Mo) : un tenseur beaucoup trop grand ?",
            f"Your code went over the memory allowed ({shown} MB): a far too large tensor?",
        ),
        "processes": (
            f"Votre code a lancé trop de processus (au plus {shown}).",
            f"Your code started too many processes (at most {shown}).",
        ),
        "file_size_mb": (
            f"Votre code a écrit un fichier trop gros (au plus {shown} Mo).",
            f"Your code wrote too large a file (at most {shown} MB).",
        ),
        "output_kb": (
            f"Votre code a affiché trop de texte (au plus {shown} ko) : la fin de la sortie n'a pas été gardée.",
            f"Your code printed too much text (at most {shown} kB): the end of the output was not kept.",
        ),
    }
    fr, en = sentences.get(
        limit, (f"Une limite de ressources a été atteinte ({limit}).", f"A resource limit was reached ({limit}).")
    )
    return en if lang == "en" else fr


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
    status_sentence: str
    status_detail: str
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
    sentence = ""
    if not graded:
        fr, en = STATUS_SENTENCES.get(result.status, (result.status.value, result.status.value))
        sentence = en if lang == "en" else fr
    percent = round(100 * result.score / result.max_score) if result.max_score else 0
    return StudentFeedback(
        lang=lang,
        words=WORDS[lang],
        student=result.student,
        assignment=assignment.id,
        graded=graded,
        score=format_points(result.score),
        max_score=format_points(result.max_score),
        percent=max(0, min(100, percent)),
        status_sentence=sentence,
        status_detail=result.message if not graded else "",
        limit=limit_sentence(result.limit, limits, lang),
        questions=tuple(_question(q, limits, lang) for q in result.questions) if graded else (),
        cells=tuple(_cell(run, limits, lang) for run in result.cells if not run.ok or run.limit),
        seconds=f"{result.seconds:.1f} s",
        version=__version__,
        cut=cut_sentence(result, lang),
        more_cells=more_cells_sentence(result.cut_cells, lang),
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
    said = _reason(question, lang)  # a sentence already on the page, not repeated under every test
    for test, score in zip(question.tests, question.scores, strict=True):
        view = _test(test, score, question, limits, lang)
        if view.headline and view.headline == said:
            view = replace(view, headline="")
        elif view.headline:
            said = view.headline
        tests.append(view)
    tests = tuple(tests)
    return QuestionView(
        id=question.question,
        score=format_points(question.score),
        max_score=format_points(question.max_score),
        full=question.score >= question.max_score,
        passed=sum(t.passed for t in tests),
        total=len(tests),
        reason=_reason(question, lang),
        tests=tests,
    )


def _reason(question: QuestionResult, lang: str) -> str:
    if not question.reason:
        return ""
    if lang != "en":
        return question.reason
    for test in question.tests:
        if test.message == question.reason and test.message_en:
            return test.message_en
    return {"aucun test n'a tourné": "no test ran"}.get(question.reason, in_language(question.reason, lang))


def _test(test: TestOutcome, score: float, question: QuestionResult, limits: SubmissionLimits, lang: str) -> TestView:
    share = question.max_score * test.weight / (sum(t.weight for t in question.tests) or 1)
    message = (test.message_en or in_language(test.message, lang)) if lang == "en" else test.message
    headline, _, detail = message.partition("\n")
    error = _error(test.error, lang)
    if error is not None and test.hint == "raised":
        detail = ""  # the lines after the headline were the traceback, shown from the frames instead
    # Parametrized tests share a description: their parameters tell them apart.
    params = test.name[test.name.index("[") :] if test.name.endswith("]") and "[" in test.name else ""
    return TestView(
        description=f"{test.description} {params}".rstrip(),
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
    output = in_language(run.output, lang)
    if len(output) > MAX_OUTPUT_CHARS:
        output = "…" + output[-MAX_OUTPUT_CHARS:]
    return CellView(
        cell=run.cell, error=_error(run.error, lang), limit=limit_sentence(run.limit, limits, lang), output=output
    )
