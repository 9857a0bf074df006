"""The attacks on an nbgrader course (issue 19), each in its own notebook made from the released one,
and the listener they try to reach: shared by tests/test_nbgrader_sandboxed.py and
scripts/nbgrader_attack_table.py (which also runs them against stock nbgrader, in its kernel).

The attack code bounds itself: the loop stops after 60 s, the writer only writes small marker files.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
EXERCISE = REPO / "exercises" / "rnn_intro" / "rnn_intro.ipynb"
HONEST = REPO / "examples" / "submissions" / "alice_martin.ipynb"
MARK = "autograder-nbgrader-pwned"
BRIDGE = """
import autograder.nbgrader.cell as _c, autograder.assignment as _s
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
for _name in ("pytest", "_pytest", "autograder.grading.checks", "autograder.grading.suites",
             "autograder.grading.scoring"):
    sys.modules[_name] = types.ModuleType(_name)
"""
READER = """
for _path in @SECRETS@:
    try:
        with open(_path, "rb") as _file:
            _data = _file.read()
        _at = max(_data.find(b"### BEGIN " + b"SOLUTION"), 0)  # the first answer, or the head (split: not in this cell)
        print(_data[_at : _at + 2000].decode("utf-8", "replace"))
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
# What each one tries, for the table.
WHAT = {
    "alice_martin": "honest, right everywhere",
    "sam_stub": "the stubs, as released",
    "mallory_bridge": "replaces `nbgrader_cell.hidden_tests` (the issue's cell)",
    "mallory_patches": "patches `torch.allclose`, `torch.equal`, `torch.testing.assert_close`, `isinstance`",
    "mallory_modules": "replaces pytest and autograder modules in `sys.modules`",
    "mallory_reader": "prints `source/` (the solutions) and `gradebook.db`",
    "mallory_writer": "writes into the course, `source/`, `submitted/`, `autograded/` and `gradebook.db`",
    "mallory_network": "connects to a listener on 127.0.0.1",
    "late_exit": "honest, then `os._exit(0)` in a last cell",
    "looper": "honest, with a cell that loops for 60 s",
}


class Listener:
    """A TCP listener on 127.0.0.1 that records what each connection sends; ``close()`` stops it."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.received: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.server.accept()
                self.received.append(connection.recv(100))
                connection.close()
            except OSError:
                pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.server.close()


def submit_all(course: Path, assignment_id: str, notebook_name: str, port: int, students=None) -> None:
    """Each student of STUDENTS (or of ``students``), put where `nbgrader collect` puts a submission in ``course``."""
    source = course / "source" / assignment_id / notebook_name
    fill = {
        "@SECRETS@": repr([str(source), str(course / "gradebook.db")]),
        "@FOLDERS@": repr([str(course), str(course / "source"), str(course / "submitted"), str(course / "autograded")]),
        "@GRADEBOOK@": repr(str(course / "gradebook.db")),
        "@PORT@": str(port),
        "@MARK@": MARK,
    }
    for student in students or STUDENTS:
        start, cells = STUDENTS[student]
        notebook = nbformat.read(start or EXERCISE, as_version=4)
        for position, text in cells:
            for key, value in fill.items():
                text = text.replace(key, value)
            cell = nbformat.v4.new_code_cell(text)
            notebook.cells.insert(len(notebook.cells) if position is None else position, cell)
        submitted = course / "submitted" / student / assignment_id / notebook_name
        submitted.parent.mkdir(parents=True)
        nbformat.write(notebook, submitted)


SECRETS = ("### BEGIN SOLUTION", "SQLite format 3")  # in the solutions' source, at the head of gradebook.db
