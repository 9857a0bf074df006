"""Summary: the class at a glance for the instructor, as data and as plots (no file I/O).

:func:`class_summary` computes what ``templates/summary.html.j2`` shows: the score
distribution, each question's mean and share of full marks, the commonest mistakes (the questions
students never started folded into one row, then per question each hint with the students who got
it), the class table, the submissions not graded and why, the sandbox protections that were off, the run's time
and settings. The two plots (a
histogram and a bar chart) are written as SVG text that the page embeds, with no plotting library.
"""

from __future__ import annotations

import base64
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

from autograder.assignment import Assignment
from autograder.language import french_spacing
from autograder.reports.gradebook import failed_cells, format_points, protections_off
from autograder.results import Outcome, QuestionResult, Status, StudentResult, TestOutcome

# One student's data takes little room in the class summary, whatever their notebook did:
FAILED_CELLS_SHOWN = 20  # failed cells named in a student's row, then how many more
MAX_TEXT_CHARS = 300  # a not-graded row's reason, or a common mistake's sentence


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
class StudentLink:
    student: str
    link: str  # feedback page, relative to summary.html ("" when none)
    count: int = 0  # how many questions, in the not-attempted row


@dataclass(frozen=True)
class Mistake:
    """One hint of one question: how many students got it, who, and what they read."""

    hint: str  # the hint's id; a student's own error is "raised · <its type>"
    text: str  # the hint's sentence, as students read it (the first student's, for a raised error)
    students: tuple[StudentLink, ...]


@dataclass(frozen=True)
class QuestionMistakes:
    question: str
    students: int  # students who got at least one hint on it
    mistakes: tuple[Mistake, ...]  # most students first


@dataclass(frozen=True)
class NotAttempted:
    """The questions students never started, in one row: still the released stub, or left empty."""

    answers: int  # (student, question) pairs
    questions: tuple[tuple[str, int], ...]  # per question (assignment order), how many students left it
    students: tuple[StudentLink, ...]  # each with how many questions they left, most first


@dataclass(frozen=True)
class ProtectionOff:
    """A sandbox protection that was off for some of the submissions that ran."""

    name: str
    protection: str  # what it is (autograder.reports.wording.PROTECTIONS)
    instead: str  # what stood in its place (autograder.reports.wording.FALLBACKS)
    submissions: int  # how many ran without it
    who: str  # the same, in words: "all 40 submissions", "3 of 40 submissions"


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
    not_attempted: NotAttempted | None  # the questions never started, folded into one row
    mistakes: tuple[QuestionMistakes, ...]  # the hints of the questions students did attempt
    settings: tuple[tuple[str, str], ...]
    unprotected: tuple[ProtectionOff, ...]  # the protections off for any submission, by name
    histogram_svg: str  # data: URI of the plot
    questions_svg: str


def class_summary(
    results: Sequence[StudentResult],
    assignment: Assignment,
    settings: Mapping[str, str] | None = None,
    links: Mapping[str, str] | None = None,
    lang: str = "fr",
) -> ClassSummary:
    """``links`` maps a student to their feedback page's address relative to the summary; ``lang`` is
    the language the students read their hints in."""
    graded = [r for r in results if r.status is Status.GRADED]
    totals = [r.score for r in graded]
    questions = tuple(_question_stats(graded, q.id, q.points) for q in assignment.questions)
    rows = tuple(_row(r, assignment, (links or {}).get(r.student, "")) for r in results)
    unprotected = _protections_off(results)
    settings = {**(settings or {}), "sandbox": _sandbox_setting(results, unprotected)}
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
        not_attempted=_not_attempted_row(graded, assignment, links or {}),
        mistakes=_mistakes(graded, assignment, links or {}, lang),
        settings=tuple(settings.items()),
        unprotected=unprotected,
        histogram_svg=_svg_uri(histogram_svg(totals, assignment.max_score)),
        questions_svg=_svg_uri(questions_svg(questions)),
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
        failed_cells=failed_cells(result, FAILED_CELLS_SHOWN),
        seconds=result.seconds,
        message=_short(result.message),
    )


def _short(text: str) -> str:
    return text if len(text) <= MAX_TEXT_CHARS else text[: MAX_TEXT_CHARS - 1] + "…"


def _ran(results: Sequence[StudentResult]) -> list[StudentResult]:
    """The submissions whose code ran in the sandbox (those not graded never ran)."""
    return [r for r in results if r.status is Status.GRADED or r.unprotected]


def _protections_off(results: Sequence[StudentResult]) -> tuple[ProtectionOff, ...]:
    """The union over the class of the protections that were off, each with how many submissions ran without it."""
    counts = Counter(name for result in results for name in set(result.unprotected))
    if not counts:
        return ()
    ran = len(_ran(results))
    among = f"{ran} submission{'s' if ran != 1 else ''}" + (" that ran" if ran < len(results) else "")
    off = []
    for entry in protections_off(sorted(counts)):
        count = counts[entry["name"]]
        who = f"all {among}" if count == ran and ran > 1 else f"{count} of {among}"
        off.append(ProtectionOff(entry["name"], entry["protection"], entry["instead"], count, who))
    return tuple(off)


def _sandbox_setting(results: Sequence[StudentResult], unprotected: Sequence[ProtectionOff]) -> str:
    if unprotected:
        return "off: " + ", ".join(p.name for p in unprotected)
    return "every protection on" if _ran(results) else "no submission ran"


def _stub(test: TestOutcome) -> bool:
    """A test that met the released stub: the function still raises a bare ``NotImplementedError``."""
    error = test.error
    return (
        test.hint == "raised"
        and error is not None
        and "NotImplementedError" in (error.type_names or (error.type_name,))
        and not error.message
    )


def _value_stub_raised(result: StudentResult) -> bool:
    """A cell stopped by a bare ``NotImplementedError`` at its top level: a value's stub (``TASK_TYPES = {}``
    then ``raise NotImplementedError()``) left as released. A function's stub raises only when called."""
    return any(
        run.error is not None
        and run.error.type_name == "NotImplementedError"
        and not run.error.message
        and run.error.frames
        and run.error.frames[-1].function == "<module>"
        for run in result.cells
    )


def not_attempted(question: QuestionResult, value_stub_raised: bool = False) -> bool:
    """Whether a graded question was never started: no test passed, and every test met the function's stub,
    or (for a value, whose id is a constant's, in capitals: ``TASK_TYPES``) its cell still raises the stub's
    ``NotImplementedError``."""
    if question.score > 0 or not question.tests or any(t.outcome is Outcome.PASSED for t in question.tests):
        return False
    return all(_stub(t) for t in question.tests) or (question.question.isupper() and value_stub_raised)


def _unstarted(result: StudentResult) -> set[str]:
    raised = _value_stub_raised(result)
    return {q.question for q in result.questions if not_attempted(q, raised)}


def _not_attempted_row(
    graded: Sequence[StudentResult], assignment: Assignment, links: Mapping[str, str]
) -> NotAttempted | None:
    per_question: Counter[str] = Counter()
    students = []
    for result in graded:
        left = _unstarted(result)
        per_question.update(left)
        if left:
            students.append(StudentLink(result.student, links.get(result.student, ""), len(left)))
    if not students:
        return None
    students.sort(key=lambda s: (-s.count, s.student.casefold(), s.student))
    questions = tuple((q.id, per_question[q.id]) for q in assignment.questions if per_question[q.id])
    return NotAttempted(sum(per_question.values()), questions, tuple(students))


def _mistakes(
    graded: Sequence[StudentResult], assignment: Assignment, links: Mapping[str, str], lang: str
) -> tuple[QuestionMistakes, ...]:
    """Per question, each hint with the students who got it (each student once per hint), the questions
    they never started left out: those are the not-attempted row's."""
    who: dict[str, dict[str, list[StudentLink]]] = {q.id: {} for q in assignment.questions}
    texts: dict[tuple[str, str], str] = {}
    for result in graded:
        unstarted = _unstarted(result)
        link = StudentLink(result.student, links.get(result.student, ""))
        for question in result.questions:
            if question.question in unstarted or question.question not in who:
                continue
            for test in question.tests:
                if test.outcome is Outcome.PASSED or not test.hint:
                    continue
                hint = test.hint
                if hint == "raised" and test.error is not None:
                    hint = f"raised · {test.error.type_name}"
                students = who[question.question].setdefault(hint, [])
                if not students or students[-1].student != result.student:
                    students.append(link)
                if (question.question, hint) not in texts:
                    message = test.message_in(lang)
                    line = _short(message.partition("\n")[0])
                    texts[question.question, hint] = line if lang == "en" else french_spacing(line)
    rows = []
    for order, asked in enumerate(assignment.questions):
        hints = who[asked.id]
        if not hints:
            continue
        mistakes = tuple(
            Mistake(hint, texts[asked.id, hint], tuple(students))
            for hint, students in sorted(hints.items(), key=lambda item: (-len(item[1]), item[0]))
        )
        affected = len({s.student for m in mistakes for s in m.students})
        rows.append((-affected, order, QuestionMistakes(asked.id, affected, mistakes)))
    return tuple(row for *_key, row in sorted(rows, key=lambda r: r[:2]))


# -- the plots: SVG written directly ------------------------------------------------------------------
# Two simple charts do not need a plotting library, whose import and rendering took CPU from the lanes
# while they grade (docs/performance.md).
_BLUE, _GREEN, _INK, _GRID = "#3465a4", "#73d216", "#2e3436", "#d3d7cf"
_FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"


def histogram_svg(totals: Sequence[float], max_score: float) -> str:
    """Totals of the graded submissions in one-point bins from 0 to the maximum (a bin ``k`` holds
    the totals in ``[k, k + 1)``, the last one the maximum too)."""
    top = max(1, int(max_score + 0.999))
    counts = [0] * (top + 1)
    for total in totals:
        counts[min(top, max(0, int(total)))] += 1
    width, height, left, right, upper, lower = 700, 320, 56, 16, 16, 52
    plot_w, plot_h = width - left - right, height - upper - lower
    ceiling, step = _axis(max(counts))
    slot = plot_w / (top + 1.4)  # a bin's width; 0.7 of one on each side, as the axis had

    def x(value: float) -> float:
        return left + (value + 0.7) * slot

    def y(count: float) -> float:
        return upper + plot_h * (1 - count / ceiling)

    parts = [_svg_open(width, height)]
    for tick in range(0, ceiling + 1, step):
        parts.append(_line(left, y(tick), width - right, y(tick), _GRID))
        parts.append(_text(left - 6, y(tick) + 4, str(tick), anchor="end"))
    for value, count in enumerate(counts):
        if count:
            bar = (x(value) - slot / 2, y(count), slot, y(0) - y(count))
            parts.append(_rect(*bar, _BLUE, f"{value}: {count} student(s)"))
    label_step = 1 if top <= 30 else 2 if top <= 60 else 5
    for value in range(0, top + 1, label_step):
        parts.append(_line(x(value), y(0), x(value), y(0) + 4, _INK))
        parts.append(_text(x(value), y(0) + 17, str(value), anchor="middle"))
    parts.append(_line(left, upper, left, y(0), _INK))
    parts.append(_line(left, y(0), width - right, y(0), _INK))
    parts.append(_text(left + plot_w / 2, height - 10, f"total (out of {format_points(max_score)})", anchor="middle"))
    parts.append(_text(16, upper + plot_h / 2, "students", anchor="middle", rotate=True))
    if not totals:
        parts.append(_text(left + plot_w / 2, upper + plot_h / 2, "no graded submission", anchor="middle"))
    return "".join(parts) + "</svg>"


def questions_svg(questions: Sequence[QuestionStats]) -> str:
    """Per question: mean score as a share of its points, and share of students with full marks."""
    label_w = 16 + 7 * max((len(q.id) for q in questions), default=4)
    width, row, upper, lower, right = 700, 30, 34, 44, 20
    height = upper + lower + row * max(1, len(questions))
    plot_w = width - label_w - right

    def x(percent: float) -> float:
        return label_w + plot_w * min(100.0, max(0.0, percent)) / 100

    parts = [_svg_open(width, height)]
    for tick in range(0, 101, 20):
        parts.append(_line(x(tick), upper, x(tick), height - lower, _GRID))
        parts.append(_text(x(tick), height - lower + 17, str(tick), anchor="middle"))
    for index, question in enumerate(questions):
        top = upper + index * row
        mean = 100 * question.mean / question.points if question.points else 0.0
        full = 100 * question.full_share
        parts.append(_text(label_w - 8, top + row / 2 + 4, question.id, anchor="end"))
        parts.append(_rect(x(0), top + 3, x(mean) - x(0), 11, _BLUE, f"{question.id}: mean {mean:.0f}% of points"))
        parts.append(_rect(x(0), top + 15, x(full) - x(0), 11, _GREEN, f"{question.id}: {full:.0f}% full marks"))
    parts.append(_line(label_w, upper, label_w, height - lower, _INK))
    parts.append(_line(label_w, height - lower, width - right, height - lower, _INK))
    parts.append(_text(label_w + plot_w / 2, height - 10, "%", anchor="middle"))
    for offset, colour, label in ((0, _BLUE, "mean score (% of points)"), (230, _GREEN, "full marks (% of students)")):
        legend_x = label_w + plot_w / 2 - 220 + offset
        parts.append(_rect(legend_x, 10, 14, 12, colour, ""))
        parts.append(_text(legend_x + 20, 20, label))
    return "".join(parts) + "</svg>"


def _axis(highest: int) -> tuple[int, int]:
    """The count axis: its top and an integer tick step giving at most about six ticks."""
    step = next(s for s in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000) if highest <= 6 * s or s == 1000)
    step = max(step, -(-highest // 6))
    return max(step, -(-highest // step) * step), step


def _svg_open(width: int, height: int) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{_FONT}" font-size="12" fill="{_INK}">'
        f'<rect width="{width}" height="{height}" fill="white"/>'
    )


def _rect(x: float, y: float, width: float, height: float, colour: str, title: str) -> str:
    tip = f"<title>{escape(title)}</title>" if title else ""
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(0.0, width):.1f}" height="{max(0.0, height):.1f}" '
        f'fill="{colour}" stroke="white">{tip}</rect>'
    )


def _line(x1: float, y1: float, x2: float, y2: float, colour: str) -> str:
    return f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}"/>'


def _text(x: float, y: float, text: str, anchor: str = "start", rotate: bool = False) -> str:
    turn = f' transform="rotate(-90 {x:.1f} {y:.1f})"' if rotate else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{turn}>{escape(text)}</text>'


def _svg_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")
