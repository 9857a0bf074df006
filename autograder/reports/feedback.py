"""Feedback: what one student reads about their grade, in French or English (pure, no I/O).

:func:`student_feedback` turns a :class:`StudentResult` into the plain data that
``templates/feedback.html.j2`` lays out: the total, each question with its points, and for each
failed test the hint, what was expected against what came back, the student's own error with
its traceback in their cells, the limit that struck; then the cells that failed to run. Every
sentence of the page is here or in the records, in both languages; the template only escapes
and places them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import PurePath

from autograder.assignment import Assignment, SubmissionLimits
from autograder.grading.scoring import REPORT_BUDGET_BYTES
from autograder.language import french_spacing, in_language, output_in_language
from autograder.reports.gradebook import format_points
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

# Why a submission was not graded and what to do about it, as the student reads it: per cause, (what
# happened, what to do), each (French, English). The cause comes from the status (the contract's word)
# and, within a status, from the instructor's message (``not_graded_cause``).
_SAVE_IPYNB = (
    "Rendez le fichier .ipynb lui-même : dans Jupyter, « File → Download » (Fichier → Télécharger) "
    "l'enregistre sur votre ordinateur.",
    "Submit the .ipynb file itself: in Jupyter, “File → Download” saves it on your computer.",
)
_FROM_WORKING_COPY = (
    "Rendez de nouveau votre notebook depuis la copie sur laquelle vous avez travaillé (celle que vous ouvrez "
    "dans Jupyter), après l'avoir enregistrée (Ctrl+S). Inutile d'essayer de réparer ce fichier-ci.",
    "Submit your notebook again from the copy you worked on (the one you open in Jupyter), after saving it "
    "(Ctrl+S). There is no need to try to repair this file.",
)
_NOT_YOUR_FAULT = (
    "Ce n'est pas de votre fait : votre enseignant le voit dans le résumé de la classe, rien à faire de votre côté.",
    "It is not your fault: your teacher sees it in the class summary, there is nothing for you to do.",
)
NOT_GRADED = {
    "empty": (
        (
            "Le fichier que vous avez rendu est vide : il ne contient rien, pas même le notebook de départ.",
            "The file you submitted is empty: it holds nothing, not even the starting notebook.",
        ),
        (
            "Ouvrez votre notebook dans Jupyter, vérifiez que vos réponses y sont, enregistrez-le (Ctrl+S), "
            "puis rendez ce fichier .ipynb.",
            "Open your notebook in Jupyter, check that your answers are in it, save it (Ctrl+S), "
            "then submit that .ipynb file.",
        ),
    ),
    "image": (
        (
            "Vous avez rendu {kind_fr}, pas un notebook : une capture d'écran ne peut pas être corrigée, "
            "seul le code d'un notebook peut l'être.",
            "You submitted {kind_en}, not a notebook: a screenshot cannot be graded, only a notebook's code can.",
        ),
        _SAVE_IPYNB,
    ),
    "other_kind": (
        (
            "Vous avez rendu {kind_fr}, pas un notebook Jupyter (.ipynb) : le correcteur ne lit que les notebooks.",
            "You submitted {kind_en}, not a Jupyter notebook (.ipynb): the grader reads notebooks only.",
        ),
        _SAVE_IPYNB,
    ),
    "other_file": (
        (
            "Le fichier que vous avez rendu ({name}) n'est pas un notebook Jupyter (.ipynb).",
            "The file you submitted ({name}) is not a Jupyter notebook (.ipynb).",
        ),
        _SAVE_IPYNB,
    ),
    "json": (
        (
            "Le fichier que vous avez rendu contient du JSON, mais ce n'est pas un notebook Jupyter.",
            "The file you submitted holds JSON, but it is not a Jupyter notebook.",
        ),
        _SAVE_IPYNB,
    ),
    "binary": (
        (
            "Le fichier que vous avez rendu n'est pas un notebook : c'est un fichier binaire, que Jupyter "
            "ne peut pas ouvrir.",
            "The file you submitted is not a notebook: it is a binary file, which Jupyter cannot open.",
        ),
        _SAVE_IPYNB,
    ),
    "special": (
        (
            "Ce que vous avez rendu n'est pas un fichier ordinaire (un lien ou un raccourci vers le notebook, "
            "par exemple) : le correcteur ne suit pas les liens.",
            "What you submitted is not an ordinary file (a link or a shortcut to the notebook, for example): "
            "the grader does not follow links.",
        ),
        _SAVE_IPYNB,
    ),
    "truncated": (
        (
            "Votre notebook est incomplet : le fichier s'arrête avant sa fin (un envoi interrompu ou une copie "
            "inachevée), et Jupyter lui-même ne pourrait pas l'ouvrir.",
            "Your notebook is incomplete: the file stops before its end (an interrupted upload or copy), "
            "and Jupyter itself could not open it.",
        ),
        _FROM_WORKING_COPY,
    ),
    "damaged": (
        (
            "Votre notebook est abîmé : son contenu n'a plus la forme d'un notebook (modifié hors de Jupyter, "
            "dans un éditeur de texte par exemple), et Jupyter ne pourrait pas l'ouvrir.",
            "Your notebook is damaged: its content no longer has a notebook's form (edited outside Jupyter, "
            "in a text editor for example), and Jupyter could not open it.",
        ),
        _FROM_WORKING_COPY,
    ),
    "too_old": (
        (
            "Votre notebook est enregistré dans un format trop ancien pour le correcteur.",
            "Your notebook is saved in a format too old for the grader.",
        ),
        (
            "Ouvrez-le dans un Jupyter récent et enregistrez-le (il est alors converti au format actuel), "
            "puis rendez-le de nouveau.",
            "Open it in a recent Jupyter and save it (it is then converted to the current format), "
            "then submit it again.",
        ),
    ),
    "too_new": (
        (
            "Votre notebook est enregistré dans un format plus récent que celui que lit le correcteur.",
            "Your notebook is saved in a newer format than the grader reads.",
        ),
        _NOT_YOUR_FAULT,
    ),
    "cannot_read": (
        (
            "Le correcteur n'a pas pu lire votre fichier sur son disque.",
            "The grader could not read your file on its disk.",
        ),
        _NOT_YOUR_FAULT,
    ),
    "too_large": (
        (
            "Le fichier que vous avez rendu est trop gros pour le correcteur.",
            "The file you submitted is too large for the grader.",
        ),
        (
            "Effacez les sorties volumineuses (Kernel → Restart & Clear Output), enregistrez, "
            "puis rendez-le de nouveau.",
            "Clear the large outputs (Kernel → Restart & Clear Output), save, then submit it again.",
        ),
    ),
    "duplicate": (
        (
            "Plusieurs notebooks ont été trouvés à votre nom{listing_fr} : aucun n'a été choisi à votre place, "
            "pour ne pas corriger le mauvais.",
            "Several notebooks were found under your name{listing_en}: none was picked for you, "
            "so as not to grade the wrong one.",
        ),
        (
            "Gardez le notebook qui contient vos réponses et rendez-le seul : supprimez les autres, "
            "par exemple les copies que Jupyter crée (« rnn_intro-Copy1.ipynb »).",
            "Keep the notebook that holds your answers and submit it alone: delete the others, "
            "such as the copies Jupyter makes (“rnn_intro-Copy1.ipynb”).",
        ),
    ),
    "no_notebook": (
        (
            "Votre dossier ne contient aucun notebook (.ipynb).",
            "Your folder holds no notebook (.ipynb).",
        ),
        (
            "Déposez-y votre fichier .ipynb, celui que vous ouvrez dans Jupyter.",
            "Put your .ipynb file in it, the one you open in Jupyter.",
        ),
    ),
    "grader_error": (
        (
            "Le correcteur a rencontré une erreur interne sur votre notebook.",
            "The grader met an internal error on your notebook.",
        ),
        _NOT_YOUR_FAULT,
    ),
}

# The kinds of files load.FILE_KINDS recognises, as a French sentence names them.
KIND_FR = {
    "png": "une image PNG",
    "jpeg": "une image JPEG",
    "gif": "une image GIF",
    "webp": "une image WebP",
    "heic": "une image HEIC (une photo de téléphone)",
    "pdf": "un document PDF",
    "zip": "une archive ZIP",
    "html": "une page HTML (un export du notebook ?)",
    "python": "un script Python (.py)",
    "word": "un document de traitement de texte",
}
KIND_EN = {"heic": "a HEIC image (a phone's photo)", "html": "an HTML page (an export of the notebook?)"}


def not_graded_cause(status: Status, message: str, source: str = "") -> tuple[str, str]:
    """The key in :data:`NOT_GRADED` for a row that was not graded, and the kind of file (a
    ``load.FILE_KINDS`` key) when one was recognised, from its status, the instructor's message and
    the file's path."""
    from autograder.grading.load import FILE_KINDS, IMAGES, TRUNCATED

    kind = next((k for k, (name, _m, _s) in FILE_KINDS.items() if message.startswith(f"{name},")), "")
    if status is Status.NOT_A_NOTEBOOK and "not a .ipynb file" in message:
        suffix = PurePath(source).suffix.lower()
        kind = next((k for k, (_n, _m, suffixes) in FILE_KINDS.items() if suffix in suffixes), "")
        if not kind:
            return "other_file", ""
    if kind:
        return ("image" if kind in IMAGES else "other_kind"), kind
    if status is Status.NOT_A_NOTEBOOK:
        if "structure not understood" in message:
            return "damaged", ""
        return ("json" if message.startswith("JSON") else "special"), ""
    if status is Status.UNREADABLE:
        if message.startswith(TRUNCATED):
            return "truncated", ""
        if message.startswith(("cannot read", "cannot list")):
            return "cannot_read", ""
        if message.startswith("nbformat"):
            return ("too_new" if "newer" in message else "too_old"), ""
        return ("binary" if message.startswith("not UTF-8") else "damaged"), ""
    return status.value, ""


def not_graded_texts(result: StudentResult, lang: str) -> tuple[str, str]:
    """What happened to a notebook that was not graded, and what the student should do, in ``lang``."""
    from autograder.grading.load import FILE_KINDS

    cause, kind = not_graded_cause(result.status, result.message, result.source)
    (happened_fr, happened_en), (advice_fr, advice_en) = NOT_GRADED.get(cause, NOT_GRADED["grader_error"])
    listed = result.message.partition(": ")[2] if cause == "duplicate" else ""
    listed_fr = re.sub(r" and (\d+) more$", r" et \1 autres", listed)
    values = {
        "kind_fr": KIND_FR.get(kind, ""),
        "kind_en": KIND_EN.get(kind) or (FILE_KINDS[kind][0] if kind else ""),
        "name": f"« {PurePath(result.source).name} »" if lang != "en" else f"“{PurePath(result.source).name}”",
        "listing_fr": f" ({listed_fr})" if listed else "",
        "listing_en": f" ({listed})" if listed else "",
    }
    if lang == "en":
        return happened_en.format(**values), advice_en
    return french_spacing(happened_fr.format(**values)), french_spacing(advice_fr)


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
    tests = tuple(tests)
    return QuestionView(
        id=question.question,
        score=format_points(question.score),
        max_score=format_points(question.max_score),
        full=question.score >= question.max_score,
        passed=sum(t.passed for t in tests),
        total=len(tests),
        reason=question.reason_in(lang),
        tests=tests,
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
