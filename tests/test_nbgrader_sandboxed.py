"""`nbgrader autograde` through the kit's sandbox (issue 19): the real nbgrader CLI on a course made by
`autograder nbgrader init`, whose config selects the kit's executor by default.

One course, one `nbgrader autograde` run (tight limits set in the course's config), these students:
one right everywhere; one who submits the stubs; and attackers, each from the released notebook:
the cell that made the in-kernel bridge give 26/26 (it replaces `nbgrader_cell.hidden_tests` in the
kernel where the hidden tests used to run), patches of torch's and Python's checks, pytest and
autograder replaced in `sys.modules`, a reader of the course's solutions and gradebook, a writer into
the course folder, a connection to a listener the test opens; and, from the honest notebook, an
`os._exit(0)` in the last cell and a cell that loops. The attackers score 0 (the loops and the exit
cost only their cell), nothing they read reaches any output or feedback, nothing they wrote exists.
The attacks are in nbgrader_attacks.py (scripts/nbgrader_attack_table.py runs them against stock
nbgrader too); their code bounds itself.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import nbformat
import pytest
from conftest import LAYOUT, TOTAL_POINTS, VENV_BIN, run_cli
from nbgrader_attacks import ATTACKERS, HONEST, MARK, SECRETS, STUDENTS, Listener, submit_all
from test_nbgrader_workflow import ASSIGNMENT, COURSE_ID, NOTEBOOK, Workflow, nbgrader
from worker_processes import descendants, worker_pids

from autograder.nbgrader.course import gradebook, init_course, read_settings

CELL_SECONDS = 4


@pytest.fixture(scope="module")
def course(tmp_path_factory, isolated_jupyter) -> Workflow:
    flow = Workflow(tmp_path_factory.mktemp("nbgrader-sandboxed"))
    course = flow.course
    init = run_cli("nbgrader", "init", str(course), "--exchange", str(flow.exchange), "--course-id", COURSE_ID)
    assert init.returncode == 0, init.stderr
    assert "grades through the kit's sandbox" in init.stdout  # the default
    with (course / "nbgrader_config.py").open("a") as config:  # tight limits, as a course may set them
        config.write(f"c.SandboxedExecute.cell_seconds = {CELL_SECONDS}\nc.SandboxedExecute.call_seconds = 3\n")
    nbgrader("generate_assignment", ASSIGNMENT.id, cwd=course)
    listener = Listener()
    # Submissions put where `nbgrader collect` puts them (fetch, submit and collect are test_nbgrader_workflow's;
    # the released notebook is exercises/, as that module checks).
    submit_all(course, ASSIGNMENT.id, ASSIGNMENT.notebook, listener.port)
    source = course / "source" / ASSIGNMENT.id / ASSIGNMENT.notebook
    flow.source_before = source.read_bytes()
    try:
        nbgrader("autograde", ASSIGNMENT.id, cwd=course)
        flow.at_once(  # two readers of what autograde wrote, each writing its own files
            lambda: nbgrader("generate_feedback", ASSIGNMENT.id, cwd=course),
            lambda: nbgrader("export", "--to", str(flow.root / "export.csv"), cwd=course),
        )
    finally:
        listener.close()
    flow.connections = listener.received
    return flow


def _scores(course: Path) -> dict[str, float]:
    with gradebook(read_settings(course)) as book:
        return {
            student: sum(
                book.find_grade(q.id, NOTEBOOK.stem, ASSIGNMENT.id, student).score or 0.0 for q in ASSIGNMENT.questions
            )
            for student in STUDENTS
        }


def _everything_written(course: Workflow) -> str:
    """The text of every autograded notebook, feedback page and export: what anyone may read afterwards."""
    paths = [*(course.course / "autograded").rglob("*.ipynb"), *(course.course / "feedback").rglob("*.html")]
    return "\n".join(p.read_text(errors="replace") for p in [*paths, course.root / "export.csv"])


def test_honest_work_keeps_its_points_and_every_attack_scores_nothing(course):
    scores = _scores(course.course)
    assert scores["alice_martin"] == TOTAL_POINTS
    assert scores["sam_stub"] == 0
    assert {s: scores[s] for s in ATTACKERS} == dict.fromkeys(ATTACKERS, 0)
    export = (course.root / "export.csv").read_text()
    assert all(f"{student}," in export for student in STUDENTS)


def test_an_exit_or_a_loop_costs_only_its_cell(course):
    scores = _scores(course.course)
    assert scores["late_exit"] == TOTAL_POINTS  # the cells before it graded, as the sandbox reruns them without it
    assert scores["looper"] == TOTAL_POINTS
    looped = nbformat.read(course.course / "autograded" / "looper" / NOTEBOOK, as_version=4)
    errors = [o for c in looped.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert any(f"({CELL_SECONDS:g} s)" in o.evalue for o in errors), errors


def test_nothing_read_reaches_an_output_and_nothing_written_exists(course):
    written = _everything_written(course)
    assert [secret for secret in SECRETS if secret in written] == []
    assert list(course.course.rglob(f"*{MARK}*")) == []
    assert MARK.encode() not in (course.course / "gradebook.db").read_bytes()
    assert (course.course / "source" / ASSIGNMENT.id / ASSIGNMENT.notebook).read_bytes() == course.source_before
    assert course.connections == []


def test_check_cells_show_the_hints_and_never_stderr(course):
    notebook = nbformat.read(course.course / "autograded" / "sam_stub" / NOTEBOOK, as_version=4)
    checks = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]
    assert checks
    for cell in checks:
        assert not any(o.output_type == "stream" and o.name == "stderr" for o in cell.outputs)
        assert any(o.output_type == "execute_result" for o in cell.outputs)
        assert "Tests cachés" in "".join(o.get("text", "") for o in cell.outputs)


def test_feedback_holds_the_hints_and_no_line_of_the_hidden_suites(course):
    (page,) = (course.course / "feedback" / "sam_stub" / ASSIGNMENT.id).glob("*.html")
    text = page.read_text()
    assert "Tests cachés" in text
    suites = Path(ASSIGNMENT.folder)
    lines = {
        line.strip()
        for suite in suites.glob("test_*.py")
        for line in suite.read_text().splitlines()
        if line.strip().startswith(("def test_", "student.", "got = student"))
    }
    assert lines
    assert [line for line in lines if line in text] == []


def test_stopping_nbgrader_mid_run_leaves_no_process_of_the_sandbox(tmp_path):
    """Ctrl-C (SIGINT to the terminal's process group), then, on a second run, a SIGTERM while `nbgrader
    autograde` grades through the kit's lane: nbgrader stops, and the lane's zygote, keeper and worker
    go with it."""
    course = tmp_path / "course"
    init_course(course, LAYOUT, ASSIGNMENT, exchange=tmp_path / "exchange", course_id=COURSE_ID)
    nbgrader("generate_assignment", ASSIGNMENT.id, cwd=course)
    for number in range(40):  # more than it grades before the signals come
        folder = course / "submitted" / f"student_{number:02d}" / ASSIGNMENT.id
        folder.mkdir(parents=True)
        shutil.copy(HONEST, folder / ASSIGNMENT.notebook)
    for stop in (signal.SIGINT, signal.SIGTERM):  # the second run skips the notebooks the first graded
        before = worker_pids()  # another run's workers on this machine are not this test's
        process = subprocess.Popen(
            [str(VENV_BIN / "nbgrader"), "autograde", ASSIGNMENT.id],
            cwd=course,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # the signal for this run only, as a terminal's Ctrl-C sends it
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # whatever this test's launcher did
        )
        try:
            deadline = time.monotonic() + 120
            # The run's zygote, its lane keeper and the lane's worker: grading has begun.
            while len(descendants(process.pid) & worker_pids()) < 3 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert len(descendants(process.pid) & worker_pids()) >= 3, "the lane never started"
            if stop == signal.SIGINT:
                os.killpg(process.pid, stop)
            else:
                os.kill(process.pid, stop)  # nbgrader alone, as a job scheduler stops it
            _, stderr = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        assert process.returncode != 0, (stop, stderr)
        assert len(list((course / "autograded").glob("*/" + ASSIGNMENT.id))) < 40  # stopped mid-run
        time.sleep(0.5)
        assert worker_pids() - before == set(), stop


# As an ordinary user: the attacks that reach for what the user owns (the course in their home, the
# gradebook, the network), an honest notebook, and the late exit.
AS_USER = ["alice_martin", "mallory_bridge", "mallory_reader", "mallory_writer", "mallory_network", "late_exit"]


def test_as_an_ordinary_user_in_their_home_the_attacks_score_nothing_and_reach_nothing(instructor):
    """The instructor without root, whose course lies in their home beside the kit: `autograder nbgrader
    init` and `nbgrader autograde` run as them (setpriv), from their own set-up."""
    course = instructor.home / "nbgrader-course"
    environment = {"PATH": f"{instructor.bin}:/usr/local/bin:/usr/bin:/bin"}
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        environment[name] = str(instructor.home / ".jupyter-test" / name.lower())
    init = instructor.run(
        str(instructor.bin / "autograder"),
        "nbgrader",
        "init",
        str(course),
        "--exchange",
        str(instructor.home / "exchange"),
        "--course-id",
        COURSE_ID,
        "--from",
        str(instructor.kit),
        **environment,
    )
    assert init.returncode == 0, init.stderr
    assert "grades through the kit's sandbox" in init.stdout
    generate = instructor.run(
        str(instructor.bin / "nbgrader"), "generate_assignment", ASSIGNMENT.id, cwd=course, **environment
    )
    assert generate.returncode == 0, generate.stderr
    listener = Listener()
    try:
        submit_all(course, ASSIGNMENT.id, ASSIGNMENT.notebook, listener.port, AS_USER)
        instructor.give(course / "submitted")
        source = course / "source" / ASSIGNMENT.id / ASSIGNMENT.notebook
        source_before = source.read_bytes()
        before = worker_pids()
        autograde = instructor.run(
            str(instructor.bin / "nbgrader"), "autograde", ASSIGNMENT.id, cwd=course, timeout=600, **environment
        )
        time.sleep(0.5)
        left = worker_pids() - before  # nbgrader has ended: nothing of the sandbox stays behind
    finally:
        listener.close()
        instructor.kill_all()
    assert autograde.returncode == 0, autograde.stderr
    assert left == set()
    with gradebook(read_settings(course)) as book:
        scores = {s: book.find_submission(ASSIGNMENT.id, s).score for s in AS_USER}
    assert scores == {
        "alice_martin": TOTAL_POINTS,
        "mallory_bridge": 0,
        "mallory_reader": 0,
        "mallory_writer": 0,
        "mallory_network": 0,
        "late_exit": TOTAL_POINTS,
    }
    written = "\n".join(p.read_text(errors="replace") for p in (course / "autograded").rglob("*.ipynb"))
    assert [secret for secret in SECRETS if secret in written] == []
    assert list(course.rglob(f"*{MARK}*")) == []
    assert MARK.encode() not in (course / "gradebook.db").read_bytes()
    assert source.read_bytes() == source_before
    assert listener.received == []
