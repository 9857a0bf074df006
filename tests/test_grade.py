"""`autograder grade`: the gradebook and result files of the contract, whatever the batch holds."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import pty
import shutil
import signal
import subprocess
import time
from pathlib import Path

import nbformat
import pytest
from conftest import CONTRACT, LAYOUT, REPO, TOTAL_POINTS, VENV_BIN, run_cli, run_tool
from worker_processes import descendants, worker_pids

COLUMNS = ["student", "total", "max_total", "status", *CONTRACT]
FULL_MARKS = {qid: str(points) for qid, (_, points) in CONTRACT.items()}
NOTHING = dict.fromkeys(CONTRACT, "0")


def _gradebook(out: Path) -> dict[str, dict[str, str]]:
    with (out / "grades.csv").open(newline="") as stream:
        reader = csv.DictReader(stream)
        assert reader.fieldnames == COLUMNS
        return {row["student"]: row for row in reader}


def _scores(row: dict) -> dict:
    return {qid: row[qid] for qid in CONTRACT}


@pytest.fixture(scope="module")
def graded_batch(tmp_path_factory):
    """One batch holding the solution, the stubs and every kind of bad file, graded once by the CLI."""
    root = tmp_path_factory.mktemp("batch")
    subs = root / "submissions"
    subs.mkdir()
    shutil.copy(LAYOUT.solution_notebook, subs / "solution.ipynb")
    shutil.copy(LAYOUT.exercise_notebook, subs / "stubs.ipynb")
    solution = nbformat.read(LAYOUT.solution_notebook, as_version=4)
    (subs / "old_v3.ipynb").write_text(json.dumps(nbformat.convert(solution, 3)))
    (subs / "old_v2.ipynb").write_text('{"nbformat": 2, "nbformat_minor": 0, "worksheets": []}')
    (subs / "invalid.ipynb").write_text('{"cells": [{"cell_type": "code", "source": "x = 1"')
    (subs / "empty.ipynb").write_text("")
    (subs / "not_notebook.ipynb").write_text('{"name": "a package.json renamed"}')
    (subs / "notes.txt").write_text("not for grading")
    (subs / "twice").mkdir()
    shutil.copy(LAYOUT.solution_notebook, subs / "twice.ipynb")
    shutil.copy(LAYOUT.solution_notebook, subs / "twice" / "rnn_intro.ipynb")
    (subs / "nobody").mkdir()
    result = run_cli("grade", str(subs), cwd=root)
    return root, result


def test_the_batch_is_graded_and_exits_zero(graded_batch):
    root, result = graded_batch
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"grading 10 submission(s) from {root / 'submissions'} in 2 sandboxed lane(s)"
    ]
    assert (root / "grading-output" / "grades.csv").is_file()


def test_solution_scores_full_marks_and_the_stubs_nothing(graded_batch):
    rows = _gradebook(graded_batch[0] / "grading-output")
    assert (rows["solution"]["total"], rows["solution"]["max_total"], rows["solution"]["status"]) == (
        str(TOTAL_POINTS),
        str(TOTAL_POINTS),
        "graded",
    )
    assert _scores(rows["solution"]) == FULL_MARKS
    assert (rows["stubs"]["total"], rows["stubs"]["status"]) == ("0", "graded")
    assert _scores(rows["stubs"]) == NOTHING


def test_every_bad_file_is_a_row_with_the_reason(graded_batch):
    rows = _gradebook(graded_batch[0] / "grading-output")
    statuses = {student: row["status"] for student, row in rows.items()}
    assert statuses == {
        "empty": "empty",
        "invalid": "unreadable",
        "nobody": "no_notebook",
        "not_notebook": "not_a_notebook",
        "notes.txt": "not_a_notebook",
        "old_v2": "unreadable",
        "old_v3": "graded",
        "solution": "graded",
        "stubs": "graded",
        "twice": "duplicate",
    }
    assert rows["old_v3"]["total"] == str(TOTAL_POINTS)
    for student in ("empty", "invalid", "nobody", "not_notebook", "twice"):
        assert rows[student]["total"] == "0"
        assert _scores(rows[student]) == NOTHING


def test_every_row_has_a_result_file_in_gradescope_shape(graded_batch):
    out = graded_batch[0] / "grading-output"
    rows = _gradebook(out)
    assert sorted(p.stem for p in (out / "results").glob("*.json")) == sorted(rows)
    solution = json.loads((out / "results" / "solution.json").read_text())
    assert (solution["score"], solution["max_score"], solution["status"]) == (TOTAL_POINTS, TOTAL_POINTS, "graded")
    assert {"name", "score", "max_score", "output", "visibility"} <= set(solution["tests"][0])
    assert sum(t["score"] for t in solution["tests"]) == pytest.approx(TOTAL_POINTS, abs=0.01)
    assert [q["id"] for q in solution["questions"]] == list(CONTRACT)
    names = [t["name"] for t in solution["tests"]]
    assert len(set(names)) == len(names)
    stubs = json.loads((out / "results" / "stubs.json").read_text())
    assert all(t["score"] == 0 and t["output"] for t in stubs["tests"])
    assert any("NotImplementedError" in t["output"] for t in stubs["tests"])
    invalid = json.loads((out / "results" / "invalid.json").read_text())
    assert (invalid["status"], invalid["score"], invalid["tests"]) == ("unreadable", 0, [])
    assert "not valid JSON" in invalid["message"]


def test_the_table_names_every_student_and_status(graded_batch):
    _, result = graded_batch
    for word in ("solution", "26 / 26", "duplicate", "no_notebook", "unreadable", "mean"):
        assert word in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["grade", "does-not-exist"], "no such file or folder: does-not-exist"),
        (["grade"], "the following arguments are required: PATH"),
        (["grade", ".", "--colour"], "unrecognized arguments: --colour"),
        (["grade", ".", "-j", "0"], "--jobs must be at least 1, not 0"),
        (["grade", ".", "--memory-mb", "-5"], "--memory-mb must be positive, not -5"),
        (["grade", ".", "--call-seconds", "soon"], "argument --call-seconds: invalid float value: 'soon'"),
    ],
)
def test_wrong_use_is_one_line_and_exit_2(tmp_path, args, message):
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert message in result.stderr


def test_an_empty_folder_is_wrong_use_and_writes_nothing(tmp_path):
    (tmp_path / "subs").mkdir()
    result = run_cli("grade", "subs", cwd=tmp_path)
    assert (result.returncode, result.stderr.strip()) == (
        2,
        f"autograder: error: no submissions in {tmp_path / 'subs'}",
    )
    assert not (tmp_path / "grading-output").exists()


def test_console_script_and_out_option_grade_a_single_notebook(tmp_path):
    notebook = tmp_path / "alice.ipynb"
    shutil.copy(LAYOUT.solution_notebook, notebook)
    result = run_tool("autograder", "grade", str(notebook), "--out", str(tmp_path / "report"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = _gradebook(tmp_path / "report")
    assert list(rows) == ["alice"]
    assert rows["alice"]["total"] == str(TOTAL_POINTS)


# The bundled examples (scripts/make_examples.py): what each student's mistakes must cost.
EXAMPLES = REPO / "examples" / "submissions"
EXPECTED_EXAMPLES = {
    "alice_martin": ("graded", set()),
    "bruno_dupont": ("graded", {"classify_hidden", "many_to_one_logits", "count_recurrent_parameters"}),
    "chloe_bernard": (
        "graded",
        {"gather_last_relevant_hidden", "bigru_final_states", "TASK_TYPES", "hidden_gradient_norms"},
    ),
    "david_petit": ("graded", set(CONTRACT) - {"rnn_cell_forward", "rnn_cell_loop", "gather_last_relevant_hidden"}),
    "emma_leroy": ("unreadable", set(CONTRACT)),
    "farid_haddad": ("duplicate", set(CONTRACT)),
}


TERMINAL: dict[str, str] = {}  # what the examples' run wrote on its terminal


@pytest.fixture(scope="module")
def graded_examples(tmp_path_factory):
    """The examples graded as an instructor at a terminal does: stderr is a terminal (a pty)."""
    out = tmp_path_factory.mktemp("examples-output")
    terminal, stderr = pty.openpty()
    process = subprocess.Popen(
        [str(VENV_BIN / "python"), "-m", "autograder", "grade", str(EXAMPLES), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    os.close(stderr)
    seen = b""
    with contextlib.suppress(OSError):  # the pty reports EIO once the process has closed it
        while chunk := os.read(terminal, 4096):
            seen += chunk
    os.close(terminal)
    process.communicate(timeout=120)
    assert process.returncode == 0, seen.decode(errors="replace")
    TERMINAL["examples"] = seen.decode(errors="replace")
    return out


def test_a_terminal_sees_a_progress_bar(graded_examples):
    bar = TERMINAL["examples"]
    assert "] 6/6 graded in " in bar
    assert "[" + "#" * 30 + "]" in bar  # full at the end
    assert "\r" in bar  # drawn over itself, one line


def test_bundled_examples_lose_points_exactly_where_their_mistakes_are(graded_examples):
    rows = _gradebook(graded_examples)
    assert set(rows) == set(EXPECTED_EXAMPLES)
    for student, (status, losing) in EXPECTED_EXAMPLES.items():
        row = rows[student]
        assert row["status"] == status, student
        below = {qid for qid in CONTRACT if float(row[qid]) < CONTRACT[qid][1]}
        assert below == losing, student


EXPECTED_HINTS = {
    ("bruno_dupont", "classify_hidden"): "softmax_over_batch",
    ("bruno_dupont", "many_to_one_logits"): "many_to_one_reads_padding",
    ("bruno_dupont", "count_recurrent_parameters"): "one_bias_per_block",
    ("chloe_bernard", "gather_last_relevant_hidden"): "gather_off_by_one",
    ("chloe_bernard", "bigru_final_states"): "directions_swapped",
    ("chloe_bernard", "TASK_TYPES"): "risk_at_each_step_many_to_one",
    ("chloe_bernard", "hidden_gradient_norms"): "norms_reversed",
}


def test_bundled_examples_get_the_hint_that_names_each_mistake(graded_examples):
    for (student, question), hint in EXPECTED_HINTS.items():
        result = json.loads((graded_examples / "results" / f"{student}.json").read_text())
        tests = next(q["tests"] for q in result["questions"] if q["id"] == question)
        assert hint in {t["hint"] for t in tests if t["status"] == "failed"}, (student, question)


def test_bundled_examples_show_the_cell_that_did_not_compile(graded_examples):
    david = json.loads((graded_examples / "results" / "david_petit.json").read_text())
    errors = {cell["cell"]: cell["error"]["type"] for cell in david["cells"]}
    assert errors[18] == "SyntaxError"
    classify = next(q for q in david["questions"] if q["id"] == "classify_hidden")
    assert "cellule 18" in classify["reason"]


def test_ctrl_c_stops_the_lanes_and_leaves_no_process(tmp_path):
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    # Enough students that the run is still grading when Ctrl-C comes (12 were all graded within 4 s).
    for i in range(160):
        shutil.copy(LAYOUT.solution_notebook, submissions / f"student_{i:03d}.ipynb")
    before = worker_pids(VENV_BIN / "python")  # another run's workers on this machine are not this test's
    process = subprocess.Popen(
        [str(VENV_BIN / "autograder"), "grade", str(submissions), "-j", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # SIGINT for this run only, as a terminal's Ctrl-C sends it
        # As a terminal's shell starts it, whatever this test's own launcher did (a background job ignores SIGINT).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert process.stderr.readline().startswith("grading 160 submission(s)")
        deadline = time.monotonic() + 60
        # This run's zygote, its two lane keepers and their lane workers (not another test's leftovers).
        while len(descendants(process.pid) & worker_pids(VENV_BIN / "python")) < 5 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1)  # the lanes are grading
        os.killpg(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 130
    assert stderr.strip().splitlines()[-1] == "autograder: interrupted"
    time.sleep(0.5)
    assert worker_pids(VENV_BIN / "python") - before == set()
