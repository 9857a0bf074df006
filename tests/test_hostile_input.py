"""Hostile input never costs the grader: links, pipes and devices are rows, never read; work on a
notebook's bytes outside the sandbox grows linearly with them, the rest is the submission's own time."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import time

import pytest
from conftest import CONTRACT, LAYOUT, TOTAL_POINTS, VENV_BIN

from autograder.grading.grade import missing_explainer
from autograder.grading.load import LoadedNotebook
from autograder.results import CellRun, CodeCell, ErrorInfo

SUBMISSION_SECONDS = 20
CELL_SECONDS = 5
MARGIN_SECONDS = 10  # the grader's own work on one notebook, on a loaded 2-core machine
RUN_TIMEOUT = 120  # the whole batch, whatever the grader does: the test ends, and kills what is left


def _hostile_cell(size: int) -> str:
    """`size` characters of IPython magics (IPython tokenizes the whole cell again after each one it
    translates) among annotations naming the question ids, with no `=` after them (a definition search
    that reads past the end of a line scans from each of them to the end of the cell); one real
    definition first, and a `!` within an assignment, which only IPython's tokenizer translates."""
    names = list(CONTRACT)
    lines, total, i = ["TASK_TYPES = {}\n", "listing = !ls\n"], 0, 0
    while total < size:
        line = f"%time print({i})\n" if i % 4 == 0 else f"{names[i % len(names)]}: int\n"
        lines.append(line)
        total += len(line)
        i += 1
    return "".join(lines)


def _notebook(*sources: str) -> str:
    cells = [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": s} for s in sources
    ]
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells})


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """One `autograder grade` run over an honest notebook beside every kind of hostile entry."""
    root = tmp_path_factory.mktemp("hostile")
    subs, out = root / "submissions", root / "out"
    subs.mkdir()
    solution = LAYOUT.solution_notebook.resolve()
    shutil.copy(solution, subs / "honest.ipynb")
    (subs / "x.ipynb").symlink_to(solution)  # the instructor's solution, through a link an archive carried
    os.mkfifo(subs / "y.ipynb")  # opening it to read waits for a writer that never comes
    (subs / "z.ipynb").symlink_to("/dev/zero")  # reports size 0, and never ends
    (subs / "w").symlink_to(solution.parent)  # a student's folder that is a link to the solutions
    (subs / "v" / "rnn_intro").mkdir(parents=True)
    (subs / "v" / "rnn_intro" / "rnn_intro.ipynb").symlink_to(solution)  # a link inside a student's folder
    (subs / "hostile.ipynb").write_text(_notebook(_hostile_cell(300_000), "after = 1\n"))
    command = [
        str(VENV_BIN / "autograder"),
        "grade",
        str(subs),
        "--out",
        str(out),
        "--submission-seconds",
        str(SUBMISSION_SECONDS),
        "--cell-seconds",
        str(CELL_SECONDS),
    ]
    started = time.monotonic()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        stdout, stderr = process.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        stdout, stderr = "", f"timed out after {RUN_TIMEOUT} s"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    seconds = time.monotonic() - started
    rows = {}
    if (out / "grades.csv").is_file():
        with (out / "grades.csv").open(newline="") as stream:
            rows = {row["student"]: row for row in csv.DictReader(stream)}
    results = {p.stem: json.loads(p.read_text()) for p in (out / "results").glob("*.json")}
    return {
        "code": process.returncode,
        "stderr": stderr,
        "stdout": stdout,
        "rows": rows,
        "results": results,
        "seconds": seconds,
    }


def test_the_batch_completes_with_one_row_per_entry(batch):
    assert batch["code"] == 0, batch["stderr"][-2000:]
    assert sorted(batch["rows"]) == ["honest", "hostile", "v", "w", "x", "y", "z"]


def test_the_honest_notebook_keeps_full_marks(batch):
    row = batch["rows"]["honest"]
    assert (row["status"], row["total"]) == ("graded", str(TOTAL_POINTS))


@pytest.mark.parametrize(
    ("student", "reason"),
    [
        ("x", "a symbolic link, which the grader never follows"),
        ("y", "a named pipe (FIFO), not a notebook file"),
        ("z", "a symbolic link, which the grader never follows"),
        ("w", "a symbolic link, which the grader never follows"),
        ("v", "v/rnn_intro/rnn_intro.ipynb: a symbolic link, which the grader never follows"),
    ],
)
def test_links_pipes_and_devices_are_rows_never_read(batch, student, reason):
    row, result = batch["rows"][student], batch["results"][student]
    assert (row["status"], row["total"]) == ("not_a_notebook", "0")
    assert all(row[question] == "0" for question in CONTRACT)
    assert (result["status"], result["message"], result["tests"]) == ("not_a_notebook", reason, [])


def test_a_notebook_that_is_slow_to_translate_and_search_costs_its_own_time_only(batch):
    result = batch["results"]["hostile"]
    assert (result["status"], result["score"]) == ("graded", 0)
    # From reading the file to the last test, the grader's own work included.
    assert result["execution_time"] < SUBMISSION_SECONDS + MARGIN_SECONDS, result["execution_time"]
    # The magics were translated in the sandbox, within the cell's time, which stopped it.
    first = next(cell for cell in result["cells"] if cell["cell"] == 1)
    assert first["limit"] == "cell_seconds", first
    outputs = {test["name"]: test["output"] for test in result["tests"]}
    task_types = [output for name, output in outputs.items() if "task_types" in name.lower()]
    assert task_types
    assert all("la cellule 1, qui le définit, a échoué" in output for output in task_types)
    others = [output for name, output in outputs.items() if "rnn_cell_forward" in name]
    assert others
    assert all("n'est défini dans aucune cellule" in output for output in others)


def test_the_definition_search_reads_each_failed_cell_once_and_names_the_first():
    failed = ErrorInfo("NameError", "name 'torch' is not defined")
    hostile = _hostile_cell(2_000_000)
    notebook = LoadedNotebook(
        (
            CodeCell(1, "def rnn_cell_loop(x):\n    return x\n"),  # ran: not the reason
            CodeCell(2, hostile),
            CodeCell(3, "rnn_cell_loop = None\nclassify_hidden: int = 3\ndef gru_output_shapes (a):\n"),
            CodeCell(5, "count_recurrent_parameters == 3\n  hidden_gradient_norms = 1\n"),
        ),
        (),
        4,
    )
    runs = (CellRun(1, ok=True), CellRun(2, ok=False, error=failed), CellRun(3, ok=False, error=failed))
    runs += (CellRun(5, ok=False, error=failed),)
    explain = missing_explainer(notebook, runs)
    started = time.process_time()
    answers = {name: explain(name) for _ in range(5) for name in CONTRACT}
    assert time.process_time() - started < 2
    assert "la cellule 2, qui le définit, a échoué (NameError" in answers["TASK_TYPES"]
    for name in ("rnn_cell_loop", "classify_hidden", "gru_output_shapes"):
        assert "la cellule 3, qui le définit" in answers[name], answers[name]
    for name in ("count_recurrent_parameters", "hidden_gradient_norms", "rnn_cell_forward"):
        assert "n'est défini dans aucune cellule" in answers[name], answers[name]


def test_a_link_given_as_the_one_notebook_to_grade_is_its_row_too(tmp_path):
    """`autograder grade link.ipynb`: the link is not followed (and keeps its own name), as in a folder."""
    link = tmp_path / "mallory.ipynb"
    link.symlink_to(LAYOUT.solution_notebook.resolve())
    command = [str(VENV_BIN / "autograder"), "grade", str(link), "--out", str(tmp_path / "out")]
    process = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert process.returncode == 0, process.stderr[-2000:]
    with (tmp_path / "out" / "grades.csv").open(newline="") as stream:
        (row,) = csv.DictReader(stream)
    assert (row["student"], row["status"], row["total"]) == ("mallory", "not_a_notebook", "0")
