"""Reports: the gradebook CSV, one JSON result per student, and the terminal table.

Report writers read :class:`StudentResult` records; they never grade. File names and columns
are the contract's (EXERCISES.md): ``grades.csv`` and ``results/<student>.json``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from autograder import __version__
from autograder.results import CellRun, Outcome, Status, StudentResult
from autograder.suites import Assignment

GRADEBOOK = "grades.csv"
RESULTS_DIR = "results"


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
            # Parametrized tests share a description: their parameters tell them apart.
            params = test.name[test.name.index("[") :] if test.name.endswith("]") and "[" in test.name else ""
            entry = {
                "name": f"{question.question} : {test.description} {params}".rstrip(),
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
        "tests": tests,
        "questions": questions,
        "cells": [_cell_json(run) for run in result.cells if not run.ok or run.limit],
        "source": result.source,
        "grader": f"autograder {__version__}",
    }


def _summary(result: StudentResult) -> str:
    if result.status is not Status.GRADED:
        return f"Notebook non noté ({result.status.value}) : {result.message}"
    failed = [run.cell for run in result.cells if not run.ok]
    text = f"Total : {format_points(result.score)} / {format_points(result.max_score)}"
    if failed:
        text += "\nCellules en erreur : " + ", ".join(map(str, failed))
    return text


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


def write_reports(results: Sequence[StudentResult], assignment: Assignment, out: Path) -> Path:
    """Write ``grades.csv`` and ``results/<student>.json`` into ``out``; return the gradebook's path."""
    (out / RESULTS_DIR).mkdir(parents=True, exist_ok=True)
    for result in results:
        text = json.dumps(result_json(result), ensure_ascii=False, indent=2)
        _write_atomically(out / RESULTS_DIR / f"{result.student}.json", text + "\n")
    gradebook = out / GRADEBOOK
    _write_atomically(gradebook, gradebook_csv(results, assignment))
    return gradebook


def _write_atomically(path: Path, text: str) -> None:
    """Readers never see half a file: write beside it, then rename over it."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def terminal_table(results: Sequence[StudentResult], assignment: Assignment) -> str:
    """The class at a glance: one line per student, then each question's mean."""
    if not results:
        return "no submissions"
    width = max(7, *(len(r.student) for r in results))
    lines = [f"{'student':<{width}}  {'total':>11}  status"]
    for result in results:
        total = f"{format_points(result.score)} / {format_points(result.max_score)}"
        detail = result.status.value
        failed = [str(run.cell) for run in result.cells if not run.ok]
        if result.status is not Status.GRADED:
            detail += f" ({result.message})"
        elif failed:
            detail += f" (cells failed: {', '.join(failed)})"
        lines.append(f"{result.student:<{width}}  {total:>11}  {detail}")
    graded = [r for r in results if r.status is Status.GRADED]
    lines.append("")
    if graded:
        mean = sum(r.score for r in graded) / len(graded)
        lines.append(
            f"{len(graded)} graded, {len(results) - len(graded)} not graded; mean {mean:.2f} / "
            f"{format_points(assignment.max_score)}"
        )
        qwidth = max(len(q.id) for q in assignment.questions)
        for question in assignment.questions:
            scores = [q.score for r in graded for q in r.questions if q.question == question.id]
            lines.append(
                f"  {question.id:<{qwidth}}  mean {sum(scores) / len(scores):.2f} / {format_points(question.points)}"
            )
    else:
        lines.append(f"0 graded, {len(results)} not graded")
    return "\n".join(lines)
