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

The attack code bounds itself: the loop stops after 60 s, the writer only writes small marker files.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import nbformat
import pytest
from conftest import LAYOUT, REPO, TOTAL_POINTS, run_cli
from test_nbgrader_workflow import ASSIGNMENT, COURSE_ID, NOTEBOOK, Workflow, nbgrader

from autograder.nbgrader_course import gradebook, read_settings

HONEST = REPO / "examples" / "submissions" / "alice_martin.ipynb"
MARK = "autograder-nbgrader-pwned"
BRIDGE = """
import autograder.nbgrader_cell as _c, autograder.suites as _s
_pts = {q.id: q.points for q in _s.load_assignment().questions}
_c.hidden_tests = lambda q, g: (print('ok'), _pts[q])[1]
"""
PATCHES = """
import builtins, torch, torch.testing
torch.allclose = lambda *a, **k: True
torch.equal = lambda *a, **k: True
torch.testing.assert_close = lambda *a, **k: None
builtins.isinstance = lambda *a: True
"""
MODULES = """
import sys, types
for _name in ("pytest", "_pytest", "autograder.checks", "autograder.suites", "autograder.scoring"):
    sys.modules[_name] = types.ModuleType(_name)
"""
READER = """
import os
for _path in @SECRETS@:
    try:
        with open(_path, "rb") as _file:
            print(_file.read(4000))
    except Exception as _error:
        print("cannot read", type(_error).__name__)
"""
WRITER = """
import os
for _folder in @FOLDERS@:
    try:
        with open(os.path.join(_folder, "@MARK@"), "w") as _file:
            _file.write("@MARK@")
    except Exception as _error:
        print("cannot write", type(_error).__name__)
try:
    with open(@GRADEBOOK@, "ab") as _file:
        _file.write(b"@MARK@")
except Exception as _error:
    print("cannot write the gradebook", type(_error).__name__)
"""
NETWORK = """
import socket
try:
    socket.create_connection(("127.0.0.1", @PORT@), timeout=2).sendall(b"@MARK@")
except Exception as _error:
    print("no connection", type(_error).__name__)
"""
LOOP = "import time\n_end = time.time() + 60\nwhile time.time() < _end:\n    pass\n"
EXIT = "import os\nos._exit(0)\n"

# student -> (the notebook it starts from, cells added: (position, source); position None = at the end)
STUDENTS = {
    "alice_martin": (HONEST, ()),
    "sam_stub": (None, ()),
    "mallory_bridge": (None, ((1, BRIDGE),)),
    "mallory_patches": (None, ((1, PATCHES),)),
    "mallory_modules": (None, ((1, MODULES),)),
    "mallory_reader": (None, ((1, READER),)),
    "mallory_writer": (None, ((1, WRITER),)),
    "mallory_network": (None, ((1, NETWORK),)),
    "late_exit": (HONEST, ((None, EXIT),)),
    "looper": (HONEST, ((5, LOOP),)),
}
ATTACKERS = [s for s in STUDENTS if s.startswith("mallory")]
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
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    connections: list[bytes] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
                connections.append(connection.recv(100))
                connection.close()
            except OSError:
                pass

    watcher = threading.Thread(target=accept, daemon=True)
    watcher.start()
    source = course / "source" / ASSIGNMENT.id / ASSIGNMENT.notebook
    fill = {
        "@SECRETS@": repr([str(source), str(course / "gradebook.db")]),
        "@FOLDERS@": repr([str(course), str(course / "source"), str(course / "submitted"), str(course / "autograded")]),
        "@GRADEBOOK@": repr(str(course / "gradebook.db")),
        "@PORT@": str(listener.getsockname()[1]),
        "@MARK@": MARK,
    }
    # Submissions put where `nbgrader collect` puts them (fetch, submit and collect are test_nbgrader_workflow's;
    # the released notebook is exercises/, as that module checks).
    for student, (start, cells) in STUDENTS.items():
        notebook = nbformat.read(start or LAYOUT.exercise_notebook, as_version=4)
        for position, text in cells:
            for key, value in fill.items():
                text = text.replace(key, value)
            cell = nbformat.v4.new_code_cell(text)
            notebook.cells.insert(len(notebook.cells) if position is None else position, cell)
        submitted = course / "submitted" / student / NOTEBOOK
        submitted.parent.mkdir(parents=True)
        nbformat.write(notebook, submitted)
    flow.source_before = source.read_bytes()
    try:
        nbgrader("autograde", ASSIGNMENT.id, cwd=course)
        nbgrader("generate_feedback", ASSIGNMENT.id, cwd=course)
        nbgrader("export", "--to", str(flow.root / "export.csv"), cwd=course)
    finally:
        stop.set()
        watcher.join()
        listener.close()
    flow.connections = connections
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
    assert "### BEGIN SOLUTION" not in written
    assert "SQLite format 3" not in written
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
