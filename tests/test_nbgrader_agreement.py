"""`nbgrader autograde` through the kit's executor and `autograder grade` give every student the same
points (issue 19): the bundled examples and a class of mixed notebooks, in one course.

One course made by `autograder nbgrader init` (its default: the kit's sandboxed executor). Its
`submitted/` folder holds what `nbgrader collect` would put there: the bundled example students,
each with every file of their submission, and a class of 20 notebooks, a quarter right everywhere,
the others with one to three typical mistakes, some stopped early (`scripts/make_examples.py`'s
`mixed_class`). nbgrader autogrades and exports; `autograder grade` grades the same folder. Per
student: nbgrader's export total and its gradebook's score for each question equal ours.

Two bundled students show how each tool treats a broken submission, and both agree there too:
Emma's truncated notebook is `unreadable` for us (0 for each question) and fails nbgrader's
autograde of her notebook alone (nbgrader's log names her; her gradebook scores are 0, the others
graded). Farid saved a copy beside his notebook: in nbgrader's layout both tools grade
`rnn_intro/rnn_intro.ipynb`, the notebook the release named (we say which copy we left), while
where the examples lie, outside that layout, he stays a `duplicate` row (test_grade, test_discover).
"""

from __future__ import annotations

import csv
import importlib.util
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import LAYOUT, REPO, TOTAL_POINTS, run_cli, run_tool
from test_nbgrader_workflow import ASSIGNMENT, COURSE_ID, NOTEBOOK
from worker_processes import worker_pids

from autograder.nbgrader.course import gradebook, init_course, read_settings

EXAMPLES = REPO / "examples" / "submissions"
MIXED = 20
UNREADABLE = "emma_leroy"
DUPLICATE = "farid_haddad"  # where the examples lie; in the course's layout, graded
GRADED_EXAMPLES = ["alice_martin", "bruno_dupont", "chloe_bernard", "david_petit", DUPLICATE]


def _mixed_class(folder: Path) -> list[str]:
    spec = importlib.util.spec_from_file_location("make_examples", REPO / "scripts" / "make_examples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.mixed_class(folder, MIXED)


def _collected(entry: Path, assignment_folder: Path) -> None:
    """Put a bundled example where `nbgrader collect` puts a submission: every file of it, in
    ``submitted/<student>/<assignment>/``."""
    if entry.is_file():  # alice_martin.ipynb
        assignment_folder.mkdir(parents=True)
        shutil.copy(entry, assignment_folder / ASSIGNMENT.notebook)
        return
    inner = entry / ASSIGNMENT.id
    shutil.copytree(inner if inner.is_dir() else entry, assignment_folder)  # chloe_bernard/rnn_intro/, or farid_haddad/


def _rows(folder: Path) -> dict[str, dict]:
    with (folder / "grades.csv").open(encoding="utf-8", newline="") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory, isolated_jupyter):
    root = tmp_path_factory.mktemp("nbgrader-agreement")
    course = root / "course"
    init_course(course, LAYOUT, ASSIGNMENT, exchange=root / "exchange", course_id=COURSE_ID)
    made = run_tool("nbgrader", "generate_assignment", ASSIGNMENT.id, cwd=course, timeout=300)
    assert made.returncode == 0, made.stderr
    examples = sorted(p.stem if p.is_file() else p.name for p in EXAMPLES.iterdir())
    assert examples == sorted([*GRADED_EXAMPLES, UNREADABLE])
    for entry in EXAMPLES.iterdir():
        student = entry.stem if entry.is_file() else entry.name
        _collected(entry, course / "submitted" / student / ASSIGNMENT.id)
    mixed = _mixed_class(root / "class")
    for student in mixed:
        _collected(root / "class" / f"{student}.ipynb", course / "submitted" / student / ASSIGNMENT.id)

    workers_before = worker_pids()
    # Both tools grade the same submitted/ folder at once (ours only reads it).
    with ThreadPoolExecutor(1) as pool:
        grading = pool.submit(run_cli, "grade", str(course / "submitted"), "--out", str(root / "ours"))
        autograde = run_tool("nbgrader", "autograde", ASSIGNMENT.id, cwd=course, timeout=900)
        ours = grading.result()
    time.sleep(0.5)
    # nbgrader ended with an error (Emma's): its lane must be gone, as must every one of ours
    workers_left = worker_pids() - workers_before
    export = run_tool("nbgrader", "export", "--to", str(root / "export.csv"), cwd=course, timeout=300)
    assert export.returncode == 0, export.stderr
    with gradebook(read_settings(course)) as book:
        scores = {}
        for student in [*examples, *mixed]:
            scores[student] = {
                q.id: book.find_grade(q.id, NOTEBOOK.stem, ASSIGNMENT.id, student).score for q in ASSIGNMENT.questions
            }
    with (root / "export.csv").open(encoding="utf-8", newline="") as handle:
        exported = {row["student_id"]: row for row in csv.DictReader(handle)}
    return {
        "root": root,
        "course": course,
        "mixed": mixed,
        "autograde": autograde,
        "workers_left": workers_left,
        "ours": ours,
        "scores": scores,
        "export": exported,
    }


def test_every_student_gets_the_same_points_per_question_and_total_from_both(graded):
    assert graded["ours"].returncode == 0, graded["ours"].stderr  # rows that cannot be graded are rows, not failures
    rows = _rows(graded["root"] / "ours")
    students = [*GRADED_EXAMPLES, UNREADABLE, *graded["mixed"]]
    assert set(rows) == set(students) == set(graded["export"])
    assert len(students) >= 26
    for student in students:
        row = rows[student]
        assert row["status"] == ("unreadable" if student == UNREADABLE else "graded"), (student, row)
        ours = {q.id: float(row[q.id]) for q in ASSIGNMENT.questions}
        assert graded["scores"][student] == ours, student
        assert float(graded["export"][student]["score"]) == pytest.approx(float(row["total"])), student
        assert float(graded["export"][student]["max_score"]) == TOTAL_POINTS


def test_the_class_is_mixed(graded):
    rows = _rows(graded["root"] / "ours")
    totals = [float(rows[s]["total"]) for s in graded["mixed"]]
    assert totals.count(TOTAL_POINTS) >= MIXED // 4
    assert sum(1 for t in totals if 0 < t < TOTAL_POINTS) >= MIXED // 2
    assert float(rows["alice_martin"]["total"]) == TOTAL_POINTS
    assert 0 < float(rows["chloe_bernard"]["total"]) < TOTAL_POINTS


def test_a_truncated_notebook_fails_only_its_own_autograde(graded):
    autograde = graded["autograde"]
    assert autograde.returncode != 0  # nbgrader says a notebook failed ...
    assert UNREADABLE in autograde.stderr
    assert not (graded["course"] / "autograded" / UNREADABLE).exists()
    for student in [*GRADED_EXAMPLES, *graded["mixed"]]:  # ... and graded the others
        assert (graded["course"] / "autograded" / student / NOTEBOOK).is_file(), student
    assert graded["workers_left"] == set()  # and, ending on that error, left no process of the sandbox


def test_in_nbgrader_layout_both_grade_the_released_notebook_and_we_name_the_copy(graded):
    assert sum(graded["scores"][DUPLICATE].values()) == TOTAL_POINTS  # Farid's notebook holds Alice's answers
    line = f"{DUPLICATE}: graded {ASSIGNMENT.id}/{ASSIGNMENT.notebook}, as nbgrader does; also in the folder: "
    assert line + f"{ASSIGNMENT.id}/rnn_intro-Copy1.ipynb\n" in graded["ours"].stderr
