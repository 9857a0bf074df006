"""Gradebook: the gradebook CSV, one JSON result per student, and the terminal table.

Report writers read :class:`StudentResult` records; they never grade. File names and columns
are the contract's (docs/contract.md): ``grades.csv`` and ``results/<student>.json``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import statistics
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from autograder import __version__
from autograder.assignment import Assignment
from autograder.results import CellRun, Outcome, Status, StudentResult

GRADEBOOK = "grades.csv"
RESULTS_DIR = "results"


REPORT_FILE_BYTES = 1_000_000  # what README and the contract promise for one results JSON or feedback page
REPORT_BUDGET_BYTES = 700_000  # a student's text in each report file; each file stays under REPORT_FILE_BYTES


def format_points(points: float) -> str:
    """2 -> "2", 1.5 -> "1.5", 0.6667 -> "0.67": at most two decimals, no trailing zeros."""
    text = f"{points:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def gradebook_csv(results: Sequence[StudentResult], assignment: Assignment) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "total", "max_total", "status", *(q.id for q in assignment.questions)])
    for result in results:
        scores = {q.question: q.score for q in result.questions}
        writer.writerow(
            [
                result.student,
                format_points(result.score),
                format_points(result.max_score),
                result.status.value,
                *(format_points(scores.get(q.id, 0.0)) for q in assignment.questions),
            ]
        )
    return buffer.getvalue()


def result_json(result: StudentResult) -> dict:
    """A student's result in Gradescope's shape (score, max_score, tests), with our details beside."""
    tests, questions = [], []
    for number, question in enumerate(result.questions, start=1):
        entries = []
        for index, (test, score) in enumerate(zip(question.tests, question.scores, strict=True), start=1):
            share = question.max_score * test.weight / sum(t.weight for t in question.tests)
            entry = {  # each case of a parametrized test has a title of its own (suites._title)
                "name": f"{question.question} : {test.description}",
                "number": f"{number}.{index}",
                "score": score,
                "max_score": round(share, 4),
                "status": "passed" if test.outcome is Outcome.PASSED else "failed",
                "output": test.message,
                "visibility": "visible",
                "question": question.question,
                "test": test.name,
                "outcome": test.outcome.value,
                "hint": test.hint,
                "limit": test.limit,
            }
            entries.append(entry)
        tests += entries
        questions.append(
            {
                "id": question.question,
                "score": question.score,
                "max_score": question.max_score,
                "reason": question.reason,
                "tests": entries,
            }
        )
    return {
        "student": result.student,
        "status": result.status.value,
        "message": result.message,
        "score": result.score,
        "max_score": result.max_score,
        "output": _summary(result),
        "visibility": "visible",
        "execution_time": round(result.seconds, 3),
        "limit": result.limit,
        "unprotected": protections_off(result.unprotected),
        "tests": tests,
        "questions": questions,
        "cells": [_cell_json(run) for run in result.cells if not run.ok or run.limit],
        "cut": {"characters": result.cut_characters, "cells": result.cut_cells},
        "source": result.source,
        "grader": f"autograder {__version__}",
    }


def protections_off(names: Sequence[str]) -> list[dict[str, str]]:
    """Each sandbox protection in ``names`` (off when the code ran): its name, what it is, what stood in its place."""
    if not names:
        return []
    from autograder.reports.wording import FALLBACKS, PROTECTIONS  # only when one was off: reports need no ctypes

    return [
        {"name": name, "protection": PROTECTIONS.get(name, name), "instead": FALLBACKS.get(name, "")} for name in names
    ]


def _summary(result: StudentResult) -> str:
    """The results JSON's ``output``: what Gradescope shows the student, in French (as the tests' messages)."""
    from autograder.language import french_spacing

    if result.status is not Status.GRADED:
        from autograder.reports.wording import not_graded_texts  # wording imports this module

        happened, advice = not_graded_texts(result, "fr")
        return french_spacing(f"Votre notebook n'a pas pu être noté ({result.status.value}). {happened}\n{advice}")
    failed = [run.cell for run in result.cells if not run.ok]
    text = f"Total : {format_points(result.score)} / {format_points(result.max_score)}"
    if failed:
        text += "\nCellules en erreur : " + ", ".join(map(str, failed))
    if result.cut_cells == 1:
        text += "\n… et 1 autre cellule à revoir, laissée hors du rapport"
    elif result.cut_cells:
        text += f"\n… et {result.cut_cells} autres cellules à revoir, laissées hors du rapport"
    if result.cut_characters:
        many = "s" if result.cut_characters > 1 else ""
        text += f"\n{result.cut_characters} caractère{many} de sorties et d'erreurs coupé{many}"
        text += " (taille du rapport limitée)"
    return french_spacing(text)


def _cell_json(run: CellRun) -> dict:
    error = run.error
    return {
        "cell": run.cell,
        "ok": run.ok,
        "error": None
        if error is None
        else {
            "type": error.type_name,
            "message": error.message,
            "traceback": [vars(frame) for frame in error.frames],
        },
        "output": run.output,
        "limit": run.limit,
    }


def failed_cells(result: StudentResult, shown: int) -> str:
    """The numbers of the first ``shown`` cells that failed, then how many more (with the cells the
    report budget left out): the instructor's words, short whatever the notebook."""
    failed = [run.cell for run in result.cells if not run.ok]
    more = max(0, len(failed) - shown) + result.cut_cells
    names = ", ".join(str(cell) for cell in failed[:shown])
    if not more:
        return names
    return f"{names} and {more} more" if names else f"{more} cells"


def write_reports(
    results: Sequence[StudentResult], assignment: Assignment, out: Path, texts: Mapping[str, str] | None = None
) -> Path:
    """Write ``grades.csv`` and ``results/<student>.json`` into ``out``; return the gradebook's path.

    ``texts`` holds JSON texts already made by student (:func:`result_text`: the CLI makes each as its
    result arrives, while the lanes grade the next ones); the others are made here."""
    (out / RESULTS_DIR).mkdir(parents=True, exist_ok=True)
    texts = texts or {}
    for result in results:
        text = texts.get(result.student) or result_text(result)
        write_atomically(out / RESULTS_DIR / f"{result.student}.json", text)
    gradebook = out / GRADEBOOK
    write_atomically(gradebook, gradebook_csv(results, assignment))
    return gradebook


def result_text(result: StudentResult) -> str:
    """``results/<student>.json``'s text. Indented JSON is made by the json module's pure-Python encoder,
    which is why the batch makes it as each result arrives (docs/performance.md)."""
    return json.dumps(result_json(result), ensure_ascii=False, indent=2) + "\n"


def write_atomically(path: Path, text: str) -> None:
    """Readers never see half a file: write beside it, then rename over it."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file private (0600); reports get the usual permissions, as open() gives.
        os.fchmod(handle, 0o666 & ~_umask())
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


PER_STUDENT_ROWS = 30  # above this many students, the table shows the class, not each student
FAILED_CELLS_SHOWN = 10  # failed cells named on a student's line of the table
NOT_GRADED_ROWS = 20  # at most this many not-graded students named in the table
HISTOGRAM_WIDTH = 30  # characters of the longest distribution bar


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def terminal_table(results: Sequence[StudentResult], assignment: Assignment, color: bool = False) -> str:
    """The class at a glance, short whatever its size: one line per student only for a small class,
    then the distribution of totals, each question's mean and share of full marks, and the
    submissions not graded with why. ``color``: ANSI colours (only for a terminal)."""
    if not results:
        return "no submissions"
    paint = _painter(color)
    maximum = format_points(assignment.max_score)
    graded = [r for r in results if r.status is Status.GRADED]
    not_graded = [r for r in results if r.status is not Status.GRADED]
    lines = []
    if len(results) <= PER_STUDENT_ROWS:
        width = max(7, *(len(r.student) for r in results))
        lines.append(f"{'student':<{width}}  {'total':>11}  status")
        for result in results:
            total = f"{format_points(result.score)} / {maximum}"
            detail = result.status.value
            failed = failed_cells(result, FAILED_CELLS_SHOWN)
            if result.status is not Status.GRADED:
                detail += f" ({result.message})"
            elif failed:
                detail += f" (cells failed: {failed})"
            tone = _tone(result.score / assignment.max_score if assignment.max_score else 0, result.status)
            lines.append(f"{result.student:<{width}}  {paint(f'{total:>11}', tone)}  {detail}")
        lines.append("")
    if graded:
        totals = sorted(r.score for r in graded)
        mean = sum(totals) / len(totals)
        median = statistics.median(totals)
        lines.append(
            f"{len(graded)} graded, {len(not_graded)} not graded; mean {mean:.2f} / {maximum}, "
            f"median {format_points(median)}, min {format_points(totals[0])}, max {format_points(totals[-1])}"
        )
        lines += _distribution(totals, assignment.max_score, paint)
        lines.append("per question: mean / points, share with full marks")
        qwidth = max(len(q.id) for q in assignment.questions)
        for question in assignment.questions:
            scores = [q.score for r in graded for q in r.questions if q.question == question.id]
            q_mean = sum(scores) / len(scores) if scores else 0.0
            full = sum(score >= question.points for score in scores) / len(scores) if scores else 0.0
            share = q_mean / question.points if question.points else 0.0
            bar = "█" * round(10 * share)
            lines.append(
                f"  {question.id:<{qwidth}}  mean {q_mean:.2f} / {format_points(question.points):<3} "
                f"{paint(f'{bar:<10}', _tone(share))} {100 * full:3.0f}% full"
            )
    else:
        lines.append(f"0 graded, {len(results)} not graded")
    if not_graded and len(results) > PER_STUDENT_ROWS:
        lines.append(paint(f"not graded ({len(not_graded)}):", "red"))
        shown = not_graded[:NOT_GRADED_ROWS]
        width = max(len(r.student) for r in shown)
        lines += [f"  {r.student:<{width}}  {r.status.value} ({r.message})" for r in shown]
        if len(not_graded) > len(shown):
            lines.append(f"  ... and {len(not_graded) - len(shown)} more (summary.html lists them all)")
    return "\n".join(lines)


def _distribution(totals: Sequence[float], max_score: float, paint: Callable[[str, str], str]) -> list[str]:
    """Totals in bins of whole points (about ten of them), drawn as bars; the last bin holds the maximum."""
    step = max(1, math.ceil(max_score / 10))
    bins = max(1, math.ceil(max_score / step))
    counts = [0] * bins
    for total in totals:
        counts[min(bins - 1, max(0, int(total // step)))] += 1
    biggest = max(counts) or 1
    width = len(format_points(max_score))
    lines = [f"distribution of totals (out of {format_points(max_score)}):"]
    for index, count in enumerate(counts):
        low, last = index * step, index == bins - 1
        high = format_points(max_score) if last else format_points(low + step)
        label = f"[{format_points(low):>{width}}, {high:>{width}}{']' if last else ')'}"
        bar = "█" * round(HISTOGRAM_WIDTH * count / biggest) if count else ""
        lines.append(f"  {label} {paint(bar, _tone((index + 0.5) / bins))}{' ' if bar else ''}{count}")
    return lines


def _tone(share: float, status: Status = Status.GRADED) -> str:
    if status is not Status.GRADED:
        return "red"
    return "green" if share >= 0.8 else "yellow" if share >= 0.5 else "red"


_ANSI = {"red": "31", "yellow": "33", "green": "32"}


def _painter(color: bool) -> Callable[[str, str], str]:
    def paint(text: str, tone: str) -> str:
        return f"\033[{_ANSI[tone]}m{text}\033[0m" if color and text else text

    return paint


def use_color(stream: object) -> bool:
    """ANSI colours only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return bool(getattr(stream, "isatty", lambda: False)()) and not os.environ.get("NO_COLOR")
