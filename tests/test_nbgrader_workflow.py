"""The nbgrader course workflow end to end, with the real nbgrader CLI, agreeing with `autograder grade`.

One module-scoped run: `autograder nbgrader init` makes a course and an exchange under a temp
folder; nbgrader releases the assignment; three students fetch it, fill it in (one correct, one
with typical mistakes, one who submits the stubs) and submit; the instructor collects, grades
with `autograder grade --nbgrader-course`, exports, then runs nbgrader's own autograde (through the
kit's sandbox, the executor `init` configures), feedback and export. The tests compare nbgrader's
points with ours, per student and per question.
"""

from __future__ import annotations

import csv
import shutil
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from conftest import LAYOUT, REPO, TOTAL_POINTS, run_cli, run_tool

from autograder.assignment import load_assignment
from autograder.nbgrader.course import gradebook, init_course, read_settings

ASSIGNMENT = load_assignment()
COURSE_ID = "rnn-e2e"
EXAMPLES = REPO / "examples" / "submissions"
# Honest submissions: the bundled examples, made from the student notebook in a real kernel.
STUDENTS = {
    "alice_martin": EXAMPLES / "alice_martin.ipynb",  # every answer right
    "chloe_bernard": EXAMPLES / "chloe_bernard" / "rnn_intro" / "rnn_intro.ipynb",  # typical mistakes
    "sam_stub": None,  # submits the notebook as fetched
}
NOTEBOOK = Path(ASSIGNMENT.id) / ASSIGNMENT.notebook


def nbgrader(*args: str, cwd: Path) -> None:
    result = run_tool("nbgrader", *args, cwd=cwd, timeout=600)
    assert result.returncode == 0, f"nbgrader {' '.join(args)}:\n{result.stdout}\n{result.stderr}"


def read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def nbgrader_scores(course: Path) -> dict[str, dict[str, float | None]]:
    """Per student and question, the score nbgrader's gradebook holds (what export and formgrader read)."""
    with gradebook(read_settings(course)) as book:
        return {
            student: {
                q.id: book.find_grade(q.id, NOTEBOOK.stem, ASSIGNMENT.id, student).score for q in ASSIGNMENT.questions
            }
            for student in STUDENTS
        }


class Workflow:
    """The course, the exchange, and how long each step took."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.course = root / "course"
        self.exchange = root / "exchange"
        self.seconds: dict[str, float] = {}
        self.nbgrader_scores: dict[str, dict[str, float | None]] = {}  # right after nbgrader's autograde
        self.stored_scores: dict[str, dict[str, float | None]] = {}  # ours, stored by --nbgrader-course
        self.scores_after_init: dict[str, dict[str, float | None]] = {}
        self._lock = threading.Lock()

    def step(self, name: str, action, *args, **kwargs):
        started = time.perf_counter()
        value = action(*args, **kwargs)
        with self._lock:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started
        return value

    def at_once(self, *calls) -> list:
        """Independent steps (each a function of no argument: its own processes, its own files) run side by
        side, as students and instructors do; their values in order, the first failure raised."""
        with ThreadPoolExecutor(len(calls)) as pool:
            futures = [pool.submit(call) for call in calls]
            return [future.result() for future in futures]

    def as_student(self, *args: str, student: str) -> list[str]:
        """The exchange options a student's nbgrader needs here (no course config in their folder)."""
        cache = self.root / "students" / student / ".cache"
        return [*args, f"--course={COURSE_ID}", f"--Exchange.root={self.exchange}", f"--Exchange.cache={cache}"]


@pytest.fixture(scope="module")
def run(tmp_path_factory, isolated_jupyter) -> Workflow:
    flow = Workflow(tmp_path_factory.mktemp("nbgrader-course"))
    course = flow.course
    init = flow.step(
        "init", run_cli, "nbgrader", "init", str(course), "--exchange", str(flow.exchange), "--course-id", COURSE_ID
    )
    assert init.returncode == 0, init.stderr
    assert init.stderr == "", init.stderr  # no warning: the grading kernel imports autograder
    flow.step("generate_assignment", nbgrader, "generate_assignment", ASSIGNMENT.id, cwd=course)
    flow.step("release_assignment", nbgrader, "release_assignment", ASSIGNMENT.id, cwd=course)

    def fetch_and_submit(student: str, answers: Path | None) -> None:
        home = flow.root / "students" / student
        home.mkdir(parents=True)
        flow.step(
            "fetch_assignment", nbgrader, *flow.as_student("fetch_assignment", ASSIGNMENT.id, student=student), cwd=home
        )
        if answers is not None:
            shutil.copy(answers, home / NOTEBOOK)
        flow.step(
            "submit",
            nbgrader,
            *flow.as_student("submit", ASSIGNMENT.id, f"--student={student}", student=student),
            cwd=home,
        )

    # Each student from their own folder and cache, at the same time.
    flow.at_once(*(lambda s=student, a=answers: fetch_and_submit(s, a) for student, answers in STUDENTS.items()))
    flow.step("collect", nbgrader, "collect", ASSIGNMENT.id, cwd=course)

    # Our grades first, into the gradebook of a course nbgrader has not autograded yet.
    ours = flow.step(
        "autograder grade --nbgrader-course",
        run_cli,
        "grade",
        str(course / "submitted"),
        "--out",
        str(flow.root / "ours"),
        "--nbgrader-course",
        str(course),
    )
    assert ours.returncode == 0, ours.stderr
    assert f"stored the scores of {len(STUDENTS)} student(s) in the nbgrader gradebook" in ours.stdout
    flow.stored_scores = nbgrader_scores(course)
    flow.step("export (our scores)", nbgrader, "export", "--to", str(flow.root / "export-ours.csv"), cwd=course)

    flow.step("autograde", nbgrader, "autograde", ASSIGNMENT.id, cwd=course)
    flow.nbgrader_scores = nbgrader_scores(course)
    # Three readers of what autograde wrote (the gradebook, autograded/), each writing its own files.
    _, _, autograded = flow.at_once(
        lambda: flow.step("generate_feedback", nbgrader, "generate_feedback", ASSIGNMENT.id, cwd=course),
        lambda: flow.step("export", nbgrader, "export", "--to", str(flow.root / "export.csv"), cwd=course),
        lambda: flow.step(
            "autograder grade autograded/", run_cli, "grade", str(course / "autograded"), "--out", str(flow.root / "ag")
        ),
    )
    assert autograded.returncode == 0, autograded.stderr
    # An instructor refreshes the source notebook mid-course: the grades stay. (In process: the
    # command line's own behaviour was seen above, and its start costs seconds.)
    flow.step("init again", init_course, course, LAYOUT, ASSIGNMENT)
    flow.scores_after_init = nbgrader_scores(course)
    for name, seconds in flow.seconds.items():
        print(f"nbgrader workflow: {name}: {seconds:.1f} s", file=sys.stderr)
    return flow


def our_rows(run: Workflow, folder: str = "ours") -> dict[str, dict]:
    return {row["student"]: row for row in read_csv(run.root / folder / "grades.csv")}


def test_students_fetch_exactly_the_published_student_notebook(run):
    fetched = run.root / "students" / "sam_stub" / NOTEBOOK  # submitted as fetched
    assert nbformat.read(fetched, as_version=4) == nbformat.read(LAYOUT.exercise_notebook, as_version=4)
    text = fetched.read_text(encoding="utf-8")
    assert "HIDDEN TESTS" not in text
    assert "autograder" not in text


def test_source_notebook_check_cells_call_the_hidden_suites(run):
    source = nbformat.read(run.course / "source" / NOTEBOOK, as_version=4)
    checks = {c.metadata.nbgrader.grade_id: c for c in source.cells if c.metadata.get("nbgrader", {}).get("grade")}
    assert set(checks) == {q.id for q in ASSIGNMENT.questions}
    for question in ASSIGNMENT.questions:
        cell = checks[question.id]
        assert cell.metadata.nbgrader.points == question.points
        assert cell.source.startswith("### BEGIN HIDDEN TESTS\n")
        assert cell.source.endswith(f"_tests_caches({question.id!r}, globals())\n### END HIDDEN TESTS")


def test_nbgrader_autograde_gives_the_contract_points_to_the_correct_and_the_stub_student(run):
    assert sum(run.nbgrader_scores["alice_martin"].values()) == TOTAL_POINTS
    assert sum(run.nbgrader_scores["sam_stub"].values()) == 0
    partial = run.nbgrader_scores["chloe_bernard"]
    assert 0 < sum(partial.values()) < TOTAL_POINTS
    # The hidden suites' partial credit, not all-or-nothing: some question earns part of its points.
    assert any(0 < partial[q.id] < q.points for q in ASSIGNMENT.questions), partial


def test_autograder_grade_agrees_with_nbgrader_per_student_and_question(run):
    rows = our_rows(run)
    assert set(rows) == set(STUDENTS)
    for student in STUDENTS:
        assert rows[student]["status"] == "graded"
        ours = {q.id: float(rows[student][q.id]) for q in ASSIGNMENT.questions}
        assert ours == run.nbgrader_scores[student], student


def test_our_scores_are_stored_per_question_in_nbgrader_gradebook(run):
    rows = our_rows(run)
    for student in STUDENTS:
        assert run.stored_scores[student] == {q.id: float(rows[student][q.id]) for q in ASSIGNMENT.questions}


def test_grading_the_autograded_folder_gives_the_same_rows(run):
    assert our_rows(run, "ag") == our_rows(run)


def test_nbgrader_export_holds_the_totals_ours_and_its_own(run):
    ours = {student: float(row["total"]) for student, row in our_rows(run).items()}
    for export in ("export-ours.csv", "export.csv"):
        rows = {row["student_id"]: row for row in read_csv(run.root / export)}
        assert set(rows) == set(STUDENTS)
        for student, total in ours.items():
            assert float(rows[student]["score"]) == pytest.approx(total), (export, student)
            assert float(rows[student]["max_score"]) == TOTAL_POINTS
    assert ours["alice_martin"] == TOTAL_POINTS
    assert ours["sam_stub"] == 0


def test_feedback_shows_each_student_the_hidden_tests_outcome(run):
    for student in STUDENTS:
        pages = list((run.course / "feedback" / student / ASSIGNMENT.id).glob("*.html"))
        assert len(pages) == 1, student
        assert "Tests cachés de" in pages[0].read_text(encoding="utf-8")


def test_running_init_again_keeps_the_grades(run):
    assert run.scores_after_init == run.nbgrader_scores
    assert (run.course / "source" / NOTEBOOK).is_file()
