"""Summary: the class at a glance for the instructor, as data and as plots (no file I/O).

:func:`class_summary` computes what ``templates/summary.html.j2`` shows: the score
distribution, each question's mean and share of full marks, the commonest mistakes, the class
table, the submissions not graded and why, the run's time and settings. The two plots are drawn
with matplotlib's Agg backend into SVG text that the page embeds; matplotlib is imported only
here, when reports are written, so the command line starts fast.
"""

from __future__ import annotations

import base64
import io
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from autograder.reports import format_points
from autograder.results import Outcome, Status, StudentResult
from autograder.suites import Assignment

TOP_MISTAKES = 12


@dataclass(frozen=True)
class QuestionStats:
    id: str
    points: float
    mean: float  # mean score over graded submissions
    full_share: float  # share of graded submissions with full marks, 0..1


@dataclass(frozen=True)
class Row:
    student: str
    link: str  # feedback page, relative to summary.html ("" when none)
    total: float
    status: str
    scores: tuple[float, ...]  # in the assignment's question order
    failed_cells: str
    seconds: float
    message: str


@dataclass(frozen=True)
class CommonMistake:
    hint: str
    question: str
    students: int
    text: str  # the hint's French sentence, as students read it


@dataclass(frozen=True)
class ClassSummary:
    assignment: str
    max_score: float
    submissions: int
    graded: int
    mean: float | None
    median: float | None
    lowest: float | None
    highest: float | None
    questions: tuple[QuestionStats, ...]
    rows: tuple[Row, ...]
    not_graded: tuple[Row, ...]
    mistakes: tuple[CommonMistake, ...]
    settings: tuple[tuple[str, str], ...]
    histogram_svg: str  # data: URI of the plot
    questions_svg: str


def class_summary(
    results: Sequence[StudentResult],
    assignment: Assignment,
    settings: Mapping[str, str] | None = None,
    links: Mapping[str, str] | None = None,
) -> ClassSummary:
    """``links`` maps a student to their feedback page's address relative to the summary."""
    graded = [r for r in results if r.status is Status.GRADED]
    totals = [r.score for r in graded]
    questions = tuple(_question_stats(graded, q.id, q.points) for q in assignment.questions)
    rows = tuple(_row(r, assignment, (links or {}).get(r.student, "")) for r in results)
    return ClassSummary(
        assignment=assignment.id,
        max_score=assignment.max_score,
        submissions=len(results),
        graded=len(graded),
        mean=statistics.fmean(totals) if totals else None,
        median=statistics.median(totals) if totals else None,
        lowest=min(totals) if totals else None,
        highest=max(totals) if totals else None,
        questions=questions,
        rows=rows,
        not_graded=tuple(row for row in rows if row.status != Status.GRADED.value),
        mistakes=_mistakes(graded),
        settings=tuple((settings or {}).items()),
        histogram_svg=_svg_uri(histogram_figure(totals, assignment.max_score)),
        questions_svg=_svg_uri(questions_figure(questions)),
    )


def _question_stats(graded: Sequence[StudentResult], question: str, points: float) -> QuestionStats:
    scores = [q.score for r in graded for q in r.questions if q.question == question]
    if not scores:
        return QuestionStats(question, points, 0.0, 0.0)
    full = sum(score >= points for score in scores)
    return QuestionStats(question, points, statistics.fmean(scores), full / len(scores))


def _row(result: StudentResult, assignment: Assignment, link: str) -> Row:
    scores = {q.question: q.score for q in result.questions}
    return Row(
        student=result.student,
        link=link,
        total=result.score,
        status=result.status.value,
        scores=tuple(scores.get(q.id, 0.0) for q in assignment.questions),
        failed_cells=", ".join(str(run.cell) for run in result.cells if not run.ok),
        seconds=result.seconds,
        message=result.message,
    )


def _mistakes(graded: Sequence[StudentResult]) -> tuple[CommonMistake, ...]:
    """The hints most students received (each student counted once per hint)."""
    counts: Counter[tuple[str, str]] = Counter()
    texts: dict[tuple[str, str], str] = {}
    for result in graded:
        seen = set()
        for question in result.questions:
            for test in question.tests:
                if test.outcome is not Outcome.PASSED and test.hint:
                    key = (test.hint, question.question)
                    seen.add(key)
                    texts.setdefault(key, test.message.partition("\n")[0])
        counts.update(seen)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:TOP_MISTAKES]
    return tuple(CommonMistake(hint, question, n, texts[hint, question]) for (hint, question), n in ranked)


def prepare() -> None:
    """Import matplotlib now (0.8 s here), for a caller with idle time before it writes the summary."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.backends.backend_svg
    import matplotlib.figure


def histogram_figure(totals: Sequence[float], max_score: float):
    """Totals of the graded submissions in one-point bins from 0 to the maximum."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 3.2), layout="constrained")
    axes = figure.subplots()
    top = max(1, int(max_score + 0.999))
    axes.hist(list(totals), bins=range(top + 2), color="#3465a4", edgecolor="white", align="left")
    axes.set_xlim(-0.7, top + 0.7)
    axes.set_xlabel(f"total (out of {format_points(max_score)})")
    axes.set_ylabel("students")
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.spines[["top", "right"]].set_visible(False)
    if not totals:
        axes.text(0.5, 0.5, "no graded submission", transform=axes.transAxes, ha="center", va="center")
    return figure


def questions_figure(questions: Sequence[QuestionStats]):
    """Per question: mean score as a share of its points, and share of students with full marks."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    height = 0.9 + 0.42 * max(1, len(questions))
    figure = Figure(figsize=(7, height), layout="constrained")
    axes = figure.subplots()
    names = [q.id for q in questions][::-1]
    means = [100 * q.mean / q.points if q.points else 0 for q in questions][::-1]
    full = [100 * q.full_share for q in questions][::-1]
    positions = range(len(questions))
    axes.barh([p + 0.2 for p in positions], means, height=0.38, color="#3465a4", label="mean score (% of points)")
    axes.barh([p - 0.2 for p in positions], full, height=0.38, color="#73d216", label="full marks (% of students)")
    axes.set_yticks(list(positions), names, fontsize=9)
    axes.set_xlim(0, 100)
    axes.set_xlabel("%")
    axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2, frameon=False, fontsize=9)
    axes.spines[["top", "right"]].set_visible(False)
    return figure


def _svg_uri(figure) -> str:
    buffer = io.BytesIO()
    # Text stays text (smaller than glyph outlines); the metadata date would make every run differ.
    with _rc({"svg.fonttype": "none", "svg.hashsalt": "autograder"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _rc(values: Mapping[str, object]):
    import matplotlib

    return matplotlib.rc_context(dict(values))
