"""The report budget: whatever a notebook prints or raises, its results JSON and feedback page stay small.

A submission's cells and the worker's records are the student's to shape: thousands of cells, each
with the longest error, traceback and output the wire lets through, in characters that grow when
escaped. The reports keep the student's text up to ``scoring.REPORT_BUDGET_BYTES`` with a note where
it was cut, so each file stays under ``scoring.REPORT_FILE_BYTES``; the points never change.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import re

import pytest
from conftest import LAYOUT, run_tool
from synthetic import graded

from autograder.assignment import load_assignment
from autograder.grading.scoring import MAX_REPORTED_CELLS, fit_report_budget, score_student
from autograder.grading.student import StudentError
from autograder.grading.suites import student_error_text
from autograder.protocol import wire
from autograder.reports.gradebook import (
    REPORT_BUDGET_BYTES,
    REPORT_FILE_BYTES,
    result_text,
    terminal_table,
    write_reports,
)
from autograder.reports.pages import render_feedback, render_summary
from autograder.results import CellRun, ErrorInfo, Frame, Outcome, TestOutcome

ASSIGNMENT = load_assignment()
NOISY_CELLS = 3000
# A helper whose every traceback line is long and full of '<' (four bytes each once escaped for HTML),
# raising a long message of them; then NOISY_CELLS cells that each call it.
BOOM = "def boom(n):\n    if n: return boom(n - 1)  # " + "<" * 450 + "\n    raise ValueError('<' * 5000)\n"


def _code(source: str) -> dict:
    return {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": source}


def test_a_notebook_of_3000_cells_raising_long_errors_keeps_each_report_under_the_budget(tmp_path):
    solution = json.loads(LAYOUT.solution_notebook.read_text(encoding="utf-8"))
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    (submissions / "honest.ipynb").write_text(json.dumps(solution), encoding="utf-8")
    noisy = dict(solution, cells=[*solution["cells"], _code(BOOM), *[_code("boom(20)") for _ in range(NOISY_CELLS)]])
    (submissions / "noisy.ipynb").write_text(json.dumps(noisy), encoding="utf-8")
    out = tmp_path / "out"

    run = run_tool("autograder", "grade", str(submissions), "--out", str(out), cwd=tmp_path, timeout=120)
    assert run.returncode == 0, run.stderr

    rows = {row["student"]: row for row in csv.DictReader((out / "grades.csv").open(encoding="utf-8"))}
    assert (rows["honest"]["total"], rows["noisy"]["total"]) == ("26", "26")  # the honest functions still score
    report = out / "results" / "noisy.json"
    page = out / "feedback" / "noisy.html"
    assert report.stat().st_size < REPORT_FILE_BYTES
    assert page.stat().st_size < REPORT_FILE_BYTES
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["cut"]["cells"] == NOISY_CELLS - MAX_REPORTED_CELLS
    assert data["cut"]["characters"] > 0
    assert len(data["cells"]) == MAX_REPORTED_CELLS
    text = report.read_text(encoding="utf-8")
    assert "les sorties et les erreurs de ce notebook dépassent la taille permise pour un retour" in text
    html = page.read_text(encoding="utf-8")
    assert "les sorties et les erreurs de ce notebook dépassent la taille permise pour un retour" in html
    assert 'id="cut"' in html
    assert f"et {NOISY_CELLS - MAX_REPORTED_CELLS} autres cellules à revoir" in html

    honest = json.loads((out / "results" / "honest.json").read_text(encoding="utf-8"))
    assert (honest["score"], honest["cut"]) == (26, {"characters": 0, "cells": 0})
    assert 'id="cut"' not in (out / "feedback" / "honest.html").read_text(encoding="utf-8")
    # One student's thousands of cells take a line in the terminal and a few words in the summary.
    noisy_line = next(line for line in run.stdout.splitlines() if line.startswith("noisy"))
    assert len(noisy_line) < 200
    assert f"and {NOISY_CELLS - 10} more" in noisy_line
    summary = (out / "summary.html").read_text(encoding="utf-8")
    assert f"and {NOISY_CELLS - 20} more" in summary
    assert len(summary.encode()) < 100_000


def _forged_cell(character: str) -> CellRun:
    """A failed cell as a hostile worker can send it: every field as long as the wire lets through."""
    long = character * 10**5
    tree = {
        "cell": 1,
        "ok": False,
        "error": {
            "type": long,
            "message": long,
            "frames": [[1, 1, long, long]] * 100,
            "types": [long] * 100,
        },
        "output": long * 10,
        "limit": "",
    }
    return wire.cell_from_wire(tree, ASSIGNMENT.limits.output_kb * 1000)


def _forged_outcomes(error: ErrorInfo, per_question: int = 10) -> list[TestOutcome]:
    """More tests than the suites hold, each raising that error, with the message the grader makes of it."""
    outcomes = []
    for question in ASSIGNMENT.questions:
        message = student_error_text(StudentError(question.id, error))
        for index in range(per_question):
            passed = index % 2 == 0
            outcomes.append(
                TestOutcome(
                    question.id,
                    f"test_{index}",
                    "un test",
                    Outcome.PASSED if passed else Outcome.ERROR,
                    message="" if passed else str(message),
                    message_en="" if passed else message.en,
                    hint="" if passed else "raised",
                    error=None if passed else error,
                )
            )
    return outcomes


@pytest.mark.parametrize("character", ["<", '"', "\x01", "é", "😀"])
def test_forged_records_at_every_cap_keep_the_json_and_both_pages_under_the_budget(character):
    cell = _forged_cell(character)
    assert len(cell.output) >= ASSIGNMENT.limits.output_kb * 1000  # the wire's caps, each reached
    assert len(cell.error.message) >= 2000
    assert len(cell.error.frames) >= 16
    cells = [dataclasses.replace(cell, cell=number) for number in range(1, NOISY_CELLS + 1)]
    cells[5] = CellRun(6, True, output=cell.output, limit="output_kb")  # a cell that ran, its output cut
    outcomes = _forged_outcomes(cell.error)

    result = score_student("forged", ASSIGNMENT, outcomes, cells)

    assert result.score == 13  # half the tests of every question pass: the points do not depend on the budget
    assert result.cut_cells == NOISY_CELLS - MAX_REPORTED_CELLS
    assert result.cut_characters > 10**6
    assert [run.cell for run in result.cells] == list(range(1, MAX_REPORTED_CELLS + 1))
    report = result_text(result).encode()
    french, english = render_feedback(result, ASSIGNMENT).encode(), render_feedback(result, ASSIGNMENT, "en").encode()
    for size in (len(report), len(french), len(english)):
        assert size < REPORT_FILE_BYTES
    assert json.loads(report)["cut"] == {"characters": result.cut_characters, "cells": result.cut_cells}
    assert "les sorties et les erreurs de ce notebook dépassent la taille permise pour un retour".encode() in report
    # Each page says at its top that it was shortened, and marks every cut in its own language.
    assert b'id="cut"' in french
    assert b'id="cut"' in english
    assert "caractères coupés]".encode() in french
    assert b"characters cut]" in english
    assert "caractères coupés".encode() not in english
    summary = render_summary([result], ASSIGNMENT).encode()
    assert len(summary) < 100_000


def test_the_budget_keeps_texts_whole_in_reading_order_and_cuts_with_a_note_in_both_languages():
    error = ErrorInfo("ValueError", "x" * 3000, (Frame(2, 1, "boom", "y" * 400),) * 8)
    cells = tuple(CellRun(number, False, error, output="z" * 1000) for number in range(1, 11))
    result = graded(ASSIGNMENT, "ana", cells=cells)
    budget = 40_000

    fitted = fit_report_budget(result, budget)

    kept = fitted.cells
    assert [run.cell for run in kept] == list(range(1, 11))
    assert kept[0] == cells[0]  # the first cells whole, as they came
    cut = next(run for run in kept if run != cells[run.cell - 1])
    texts = [cut.error.message, *(f.text for f in cut.error.frames), cut.output]
    (note,) = [text for text in texts if "les sorties et les erreurs de ce notebook dépassent" in text]
    kept_part = str(note).partition("[…")[0].rstrip()
    number = int(re.search(r"\[… (\d+) caractères coupés : ", note).group(1))
    assert len(kept_part) + number in (3000, 400, 1000)  # what was kept, and what the note says was cut
    assert note.en.startswith(kept_part)
    assert f"[… {number} characters cut: this notebook's outputs and errors go beyond" in note.en
    later = kept[cut.cell :]
    assert later
    for run in later:  # past the point where the budget ran out: a short note each, no traceback
        assert run.error.message == "[… 3000 caractères coupés]"
        assert run.error.message.en == "[… 3000 characters cut]"
        assert run.output == "[… 1000 caractères coupés]"
        assert run.error.frames == ()
        assert run.error.type_name == "ValueError"
    assert fitted.questions == result.questions  # the tests' short hints came first, and fit
    assert len(result_text(fitted).encode()) < len(result_text(graded(ASSIGNMENT, "ana")).encode()) + budget
    assert len(render_feedback(fitted, ASSIGNMENT).encode()) < len(render_feedback(result, ASSIGNMENT).encode())


def test_a_result_within_the_budget_is_left_as_it_is():
    result = graded(ASSIGNMENT, "ana", right=0.5, cells=(CellRun(3, False, ErrorInfo("NameError", "x"), output="o"),))
    assert fit_report_budget(result) is result
    assert REPORT_BUDGET_BYTES < REPORT_FILE_BYTES


def test_a_lone_surrogate_from_a_worker_is_written_as_valid_utf8(tmp_path):
    tree = {
        "cell": 4,
        "ok": False,
        "error": {"type": "E\ud800", "message": "bad \udcff"},
        "output": "\ud83d",
        "limit": "",
    }
    run = wire.cell_from_wire(json.loads(json.dumps(tree)), 64_000)
    result = score_student("ana", ASSIGNMENT, [], [run])

    write_reports([result], ASSIGNMENT, tmp_path)
    written = json.loads((tmp_path / "results" / "ana.json").read_text(encoding="utf-8"))
    assert written["cells"][0]["error"]["message"].startswith("bad ")
    assert render_feedback(result, ASSIGNMENT).encode()
    assert "cells failed: 4" in terminal_table([result], ASSIGNMENT)


def test_the_cells_kept_are_the_first_ones_to_look_at_even_when_records_repeat():
    run = CellRun(9, False, ErrorInfo("NameError", "name 'x' is not defined"))
    cells = (CellRun(1, True, output="fine"), *([run] * (MAX_REPORTED_CELLS + 50)))
    fitted = fit_report_budget(graded(ASSIGNMENT, "ana", cells=cells))
    assert fitted.cells == cells[: MAX_REPORTED_CELLS + 1]  # the cell that ran, then the first ones that failed
    assert (fitted.cut_cells, fitted.cut_characters) == (50, 0)
