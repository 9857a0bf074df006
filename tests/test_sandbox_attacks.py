"""Attacks on the grader, each graded next to an honest submission in one sandboxed batch.

Every attack notebook is the honest example (alice_martin, 26/26) or the released stubs, with
cells that try to cheat or to break out. One `autograder grade -j 2` run grades them all with
tight limits; then, for each attack: the batch finished, the honest score is unchanged, the
questions the attack tried to cheat on score 0, nothing was written outside the sandbox's
scratch, and no process of the run is left.

The attacks are bounded by their own code, so that they cannot harm the machine even if the
sandbox were broken: loops stop after two minutes, the fork bomb forks at most 200 sleepers
that exit after 20 s, the memory hog asks for at most 8 GB (this machine has 24), the grader
killer only aims at processes whose command line names autograder, and the run itself is
killed after 5 minutes.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import textwrap
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from autograder.discover import Submission
from autograder.grade import grade_submission
from autograder.suites import load_assignment
from tests.conftest import REPO, TOTAL_POINTS, VENV_BIN

HONEST = REPO / "examples" / "submissions" / "alice_martin.ipynb"
STUBS = REPO / "exercises" / "rnn_intro" / "rnn_intro.ipynb"
LIMITS = ["--cell-seconds", "4", "--call-seconds", "2", "--submission-seconds", "120"]
LIMITS += ["--memory-mb", "768", "--processes", "16", "--output-kb", "64"]
TOKEN = uuid.uuid4().hex[:12]
MARK = f"pwned-{TOKEN}"

# Leaves a mark wherever the attack can write; @TARGETS@ are the run's real folders.
LEAVE_MARKS = """
import os, sys
_targets = ["", "..", "../..", "/", "/tmp", "/var/tmp", "/dev/shm", os.path.expanduser("~"), "/root", "/work"]
_targets += @TARGETS@
try:
    import autograder
    _targets.append(os.path.dirname(autograder.__file__))
except Exception:
    pass
for _folder in _targets:
    for _name in ("@MARK@", "grades.csv", "results/alice_martin.json"):
        try:
            _path = os.path.join(_folder, _name)
            os.makedirs(os.path.dirname(_path) or ".", exist_ok=True)
            with open(_path, "w") as _f:
                _f.write("student,total\\nattacker,26\\n@MARK@\\n")
        except Exception:
            pass
"""


@dataclass(frozen=True)
class Attack:
    base: Path  # the notebook the attack starts from
    cells: tuple[tuple[str | None, str], ...] = ()  # (grade_id after which to insert, source); None: first
    replace: tuple[tuple[str, str], ...] = ()  # (question, source of its solution cell)
    cheats: tuple[str, ...] = ()  # questions that must score 0
    honest_rest: bool = False  # the questions it leaves alone keep full marks
    limits: tuple[str, ...] = ()  # limits that must be reported in its results


ZEROS = """
import torch
def rnn_cell_forward(x_t, h_prev, W_xh, W_hh, b_h):
    return torch.zeros(x_t.shape[0], W_hh.shape[0])
def classify_hidden(z, fc):
    return torch.zeros(z.shape[0], fc.out_features)
def count_recurrent_parameters(kind, input_size, hidden_size, num_layers=1, bidirectional=False):
    return 0
"""

PATCH_CHECKS = """
import builtins, torch, torch.testing
torch.allclose = lambda *a, **k: True
torch.equal = lambda *a, **k: True
torch.testing.assert_close = lambda *a, **k: None
torch.Tensor.__eq__ = lambda *a, **k: True
builtins.isinstance = lambda *a, **k: True
builtins.AssertionError = type("AssertionError", (Exception,), {})
try:
    import pytest
    pytest.approx = lambda *a, **k: True
    pytest.fail = lambda *a, **k: None
    import _pytest.python
    _pytest.python.Function.runtest = lambda self: None
except Exception as error:
    print("no pytest to patch:", error)
"""

EXITS = [
    "import sys\nsys.exit(0)",
    "import os\nos._exit(3)",
    "raise SystemExit('bye')",
]
EXIT_IN_CALL = """
import os
def classify_hidden(z, fc):
    os._exit(0)
"""

FAKE_RESULTS = """
print("student,total,max_total,status")
print("attacker,26,26,graded")
print('{"score": 26, "max_score": 26, "tests": []}')
"""

STEAL = """
import os, sys, time, json
_found, _seen, _start = [], 0, time.time()
_roots = ["/", "/work", "/root", "/tmp", "/home", "/usr/local", sys.prefix] + @TARGETS@
for _root in _roots:
    for _dir, _subdirs, _files in os.walk(_root):
        _seen += 1
        if _seen > 20000 or time.time() - _start > 10:
            break
        _subdirs[:] = [d for d in _subdirs if d not in ("proc", "sys", ".git")]
        for _name in _files:
            if _name.startswith("test_") and _name.endswith(".py") or _name == "rnn_intro.ipynb":
                _found.append(os.path.join(_dir, _name))
for _path in _found:
    try:
        _text = open(_path).read()
    except Exception:
        continue
    if _path.endswith(".ipynb") and "BEGIN SOLUTION" in _text:
        for _cell in json.loads(_text)["cells"]:
            if _cell["cell_type"] == "code":
                try:
                    exec("".join(_cell["source"]), globals())
                except Exception:
                    pass
    elif _path.endswith(".py"):
        try:
            exec(_text, {})
        except Exception:
            pass
print("found", len(_found))
"""

NETWORK = """
import socket
for _address in [("127.0.0.1", @PORT@), ("localhost", @PORT@)]:
    try:
        _s = socket.create_connection(_address, timeout=2)
        _s.sendall(b"@MARK@")
        print("connected to", _address)
    except Exception as error:
        print("no connection:", error)
try:
    _u = socket.socket(socket.AF_UNIX)
    _u.connect(@UNIX@)
    _u.sendall(b"@MARK@")
except Exception as error:
    print("no unix socket:", error)
"""

KILL_GRADER = """
import os, signal
def _kill_graders():
    for _pid in os.listdir("/proc"):
        if _pid.isdigit() and int(_pid) != os.getpid():
            try:
                _cmd = open("/proc/" + _pid + "/cmdline", "rb").read()
            except Exception:
                continue
            if b"autograder" in _cmd:
                for _sig in (signal.SIGTERM, signal.SIGKILL):
                    try:
                        os.kill(int(_pid), _sig)
                    except Exception as error:
                        print("kill", _pid, error)
    for _target in (os.getppid(), 1):
        try:
            os.kill(_target, signal.SIGKILL)
        except Exception as error:
            print("kill", _target, error)
    try:
        os.killpg(os.getpgid(0), signal.SIGKILL)
    except Exception as error:
        print("killpg", error)
    if os.getuid() != 0:  # never as root: a broken sandbox would take the machine down
        try:
            os.kill(-1, signal.SIGKILL)
        except Exception as error:
            print("kill -1", error)
_kill_graders()
"""
KILL_IN_CALL = (
    KILL_GRADER.replace("_kill_graders()\n", "")
    + """
def count_recurrent_parameters(kind, input_size, hidden_size, num_layers=1, bidirectional=False):
    _kill_graders()
    return 0
"""
)

FORK_BOMB = """
import os, time
_children = 0
for _ in range(200):
    try:
        _pid = os.fork()
    except OSError as error:
        print("fork refused:", error)
        break
    if _pid == 0:
        time.sleep(20)
        os._exit(0)
    _children += 1
print(_children, "children")
"""

MEMORY_HOG = """
import torch
def _grab():
    hog = []
    for _ in range(64):  # at most 64 x 128 MB = 8 GB
        hog.append(torch.ones(32 * 2**20))
_grab()  # what it holds is freed when the limit stops it: the tests after it have their memory back
"""
MEMORY_IN_CALL = """
import torch
def gather_last_relevant_hidden(hiddens, x_lengths):
    _hog = [torch.ones(32 * 2**20) for _ in range(64)]
    return hiddens[:, -1]
"""

LOOP = """
import signal, time
for _sig in (signal.SIGTERM, signal.SIGALRM, signal.SIGINT):
    signal.signal(_sig, signal.SIG_IGN)
_start = time.time()
while time.time() - _start < 120:
    pass
"""
LOOP_IN_CALL = (
    "def count_recurrent_parameters(kind, input_size, hidden_size, num_layers=1, bidirectional=False):\n"
    + textwrap.indent(LOOP, "    ")
)

BIG_OUTPUT = """
import os, sys
print("x" * 50_000_000)
sys.stderr.write("y" * 50_000_000)
os.write(1, b"z" * 50_000_000)
_quiet_classify_hidden = classify_hidden
def classify_hidden(z, fc):  # right, but loud: 50 MB at every call
    print("w" * 50_000_000)
    return _quiet_classify_hidden(z, fc)
"""

INTROSPECTION = """
import gc, sys, torch

def _steal(shape, exclude):
    found = []
    frame = sys._getframe(2)
    while frame is not None:
        for value in list(frame.f_locals.values()):
            if isinstance(value, torch.Tensor) and tuple(value.shape) == tuple(shape):
                found.append(value)
        frame = frame.f_back
    for value in gc.get_objects():
        if isinstance(value, torch.Tensor) and tuple(value.shape) == tuple(shape):
            found.append(value)
    found = [t for t in found if all(t is not e for e in exclude)]
    return found[-1].clone() if found else torch.zeros(shape)

def rnn_cell_forward(x_t, h_prev, W_xh, W_hh, b_h):
    return _steal(h_prev.shape, [h_prev])

def gather_last_relevant_hidden(hiddens, x_lengths):
    return _steal((hiddens.shape[0], hiddens.shape[2]), [])

def hidden_gradient_norms(rnn_cell, x_in):
    return _steal((x_in.shape[1],), [])
"""

FORGED_ANSWERS = """
import sys
from autograder import wire  # the worker's own modules are the student's to use

def _forged_relay(channel, namespace, call_seconds):  # replaces the worker's loop after the cells
    while True:
        try:
            request = wire.receive(channel)
        except Exception:
            return
        op = request.get("op")
        if op == "kind":
            wire.send(channel, {"kind": "callable"})
        elif op == "fetch":
            wire.send(channel, {"value": {"$": "dict", "items": [["score", 26]]}})
        elif op == "call":
            wire.send(channel, {"result": 26, "error": None, "unusable": "", "arguments": None, "output": "26/26"})
        elif op == "pristine":
            wire.send(channel, {"pristine": True})

sys.modules["__main__"]._watch_calls = _forged_relay
"""

ATTACKS = {
    "patch_checks": Attack(
        HONEST,
        cells=((None, PATCH_CHECKS),),
        replace=(("rnn_cell_forward", ZEROS), ("classify_hidden", ""), ("count_recurrent_parameters", "")),
        cheats=("rnn_cell_forward", "classify_hidden", "count_recurrent_parameters"),
    ),
    "exits": Attack(
        HONEST,
        cells=(("rnn_cell_forward_solution", EXITS[0]), ("rnn_cell_loop_solution", EXITS[1]), (None, EXITS[2])),
        replace=(("classify_hidden", EXIT_IN_CALL),),
        cheats=("classify_hidden",),
        honest_rest=True,
    ),
    "fake_results": Attack(STUBS, cells=((None, FAKE_RESULTS),), cheats=("*",)),
    "steal_solutions": Attack(STUBS, cells=((None, STEAL),), cheats=("*",)),
    "network": Attack(STUBS, cells=((None, NETWORK),), cheats=("*",)),
    "kill_grader": Attack(
        HONEST,
        cells=(("gather_last_relevant_hidden_solution", KILL_GRADER),),
        replace=(("count_recurrent_parameters", KILL_IN_CALL),),
        cheats=("count_recurrent_parameters",),
        honest_rest=True,
    ),
    "fork_bomb": Attack(HONEST, cells=(("rnn_cell_loop_solution", FORK_BOMB),), honest_rest=True),
    "memory_hog": Attack(
        HONEST,
        cells=(("rnn_cell_loop_solution", MEMORY_HOG),),
        replace=(("gather_last_relevant_hidden", MEMORY_IN_CALL),),
        cheats=("gather_last_relevant_hidden",),
        honest_rest=True,
        limits=("memory_mb",),
    ),
    "infinite_loops": Attack(
        HONEST,
        cells=(("rnn_cell_forward_solution", LOOP),),
        replace=(("count_recurrent_parameters", LOOP_IN_CALL),),
        cheats=("count_recurrent_parameters",),
        honest_rest=True,
        limits=("cell_seconds", "call_seconds"),
    ),
    "big_output": Attack(HONEST, cells=(("classify_hidden_solution", BIG_OUTPUT),), honest_rest=True),
    "forged_answers": Attack(STUBS, cells=((None, FORGED_ANSWERS),), cheats=("*",)),
    "introspection": Attack(
        STUBS,
        replace=(
            ("rnn_cell_forward", INTROSPECTION),
            ("gather_last_relevant_hidden", ""),
            ("hidden_gradient_norms", ""),
        ),
        cheats=("rnn_cell_forward", "gather_last_relevant_hidden", "hidden_gradient_norms"),
    ),
}


def _fill(source: str, fill: dict) -> str:
    for key, value in fill.items():
        source = source.replace(key, value)
    return source


def _build(attack: Attack, fill: dict) -> nbformat.NotebookNode:
    notebook = nbformat.read(attack.base, as_version=4)
    for question, source in attack.replace:
        (cell,) = [
            c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == f"{question}_solution"
        ]
        cell.source = _fill(source, fill) if source else "pass"
    for after, source in attack.cells:
        position = 0
        if after is not None:
            ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in notebook.cells]
            position = ids.index(after) + 1
        notebook.cells.insert(position, nbformat.v4.new_code_cell(_fill(source, fill)))
    notebook.cells.insert(0, nbformat.v4.new_code_cell(_fill(LEAVE_MARKS, fill)))
    return notebook


def _our_processes() -> list[str]:
    """Processes of a grading run still alive: its workers, or anything running as a lane's user."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        uid = int(next(line.split()[1] for line in status.splitlines() if line.startswith("Uid:")))
        if 61000 <= uid < 61100 or b"autograder.worker" in command:
            alive.append(f"{entry.name} uid={uid} {command[:80]!r}")
    return alive


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("attacks")
    submissions, out = root / "submissions", root / "out"
    submissions.mkdir()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    unix_path = str(root / "grader.sock")
    unix = socket.socket(socket.AF_UNIX)
    unix.bind(unix_path)
    unix.listen()
    unix.settimeout(0.2)
    connections: list[str] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            for server in (listener, unix):
                try:
                    connection, _ = server.accept()
                    connections.append(repr(connection.recv(100)))
                    connection.close()
                except OSError:
                    pass

    watcher = threading.Thread(target=accept, daemon=True)
    watcher.start()
    fill = {
        "@TARGETS@": repr([str(root), str(submissions), str(out), str(REPO), str(REPO / "solutions")]),
        "@MARK@": MARK,
        "@PORT@": str(listener.getsockname()[1]),
        "@UNIX@": repr(unix_path),
    }
    (submissions / "alice_martin.ipynb").write_bytes(HONEST.read_bytes())
    for name, attack in ATTACKS.items():
        nbformat.write(_build(attack, fill), submissions / f"{name}.ipynb")
    before = set(_our_processes())
    started = time.monotonic()
    process = subprocess.Popen(
        [str(VENV_BIN / "autograder"), "grade", str(submissions), "--out", str(out), "-j", "2", *LIMITS],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    seconds = time.monotonic() - started
    deadline = time.monotonic() + 5
    while set(_our_processes()) - before and time.monotonic() < deadline:
        time.sleep(0.1)
    survivors = sorted(set(_our_processes()) - before)
    stop.set()
    watcher.join()
    listener.close()
    unix.close()
    results = {p.stem: json.loads(p.read_text()) for p in (out / "results").glob("*.json")}
    return {
        "code": process.returncode,
        "stdout": stdout,
        "stderr": stderr,
        "results": results,
        "root": root,
        "out": out,
        "survivors": survivors,
        "connections": connections,
        "seconds": seconds,
    }


def test_the_batch_finishes_and_grades_everyone(batch):
    assert batch["code"] == 0, batch["stderr"][-2000:]
    assert set(batch["results"]) == {"alice_martin", *ATTACKS}
    assert all(r["status"] == "graded" for r in batch["results"].values())
    assert "protections off" not in batch["stderr"]  # as root on Linux, every wall is up


def test_the_honest_score_is_unchanged(batch):
    alone = grade_submission(Submission("alice_martin", HONEST), load_assignment())
    assert alone.score == TOTAL_POINTS
    assert batch["results"]["alice_martin"]["score"] == alone.score


def _scores(result: dict) -> dict[str, float]:
    return {q["id"]: q["score"] for q in result["questions"]}


def _max(result: dict) -> dict[str, float]:
    return {q["id"]: q["max_score"] for q in result["questions"]}


@pytest.mark.parametrize("name", list(ATTACKS))
def test_the_attack_gains_nothing(batch, name):
    attack, result = ATTACKS[name], batch["results"][name]
    scores, full = _scores(result), _max(result)
    cheated = set(scores) if attack.cheats == ("*",) else set(attack.cheats)
    assert {q: scores[q] for q in cheated} == dict.fromkeys(cheated, 0), result["output"]
    if attack.honest_rest:
        assert {q: scores[q] for q in scores if q not in cheated} == {q: full[q] for q in scores if q not in cheated}
    reported = {t["limit"] for t in result["tests"]} | {c["limit"] for c in result["cells"]}
    assert set(attack.limits) <= reported


def test_nothing_is_written_outside_the_scratch_folder(batch):
    """Every folder the attacks aimed at (absolute ones; relative ones land in scratch) has no mark."""
    root, out = batch["root"], batch["out"]
    aimed = [Path(p) for p in ("/", "/tmp", "/var/tmp", "/dev/shm", Path.home(), "/root", "/work")]
    aimed += [root, root / "submissions", out, REPO, REPO / "solutions", REPO / "autograder"]
    marked = [folder / MARK for folder in aimed if (folder / MARK).exists()]
    marked += [folder / "grades.csv" for folder in aimed if (folder / "grades.csv").exists() and folder != out]
    marked += [p for p in root.rglob("*") if MARK in p.name]
    written = [p for p in out.rglob("*") if p.is_file() and MARK in p.read_text(errors="replace")]
    assert marked + written == []
    csv = (out / "grades.csv").read_text()
    assert "attacker" not in csv
    assert all(f"\n{name}," in csv for name in ATTACKS)


def test_no_process_survives_the_run(batch):
    assert batch["survivors"] == []


def test_no_connection_leaves_the_sandbox(batch):
    assert batch["connections"] == []


def test_limits_are_reported_where_they_struck(batch):
    loops = batch["results"]["infinite_loops"]
    (cell,) = [c for c in loops["cells"] if c["limit"] == "cell_seconds"]
    assert "limite de temps" in cell["error"]["message"]
    hog = batch["results"]["memory_hog"]
    assert any(c["limit"] == "memory_mb" for c in hog["cells"])
    exits = batch["results"]["exits"]
    exited = [c for c in exits["cells"] if c["error"] and c["error"]["type"] == "ProcessExited"]
    assert len(exited) == 1
    assert "code 3" in exited[0]["error"]["message"]
    output = "".join(c["output"] for c in batch["results"]["big_output"]["cells"])
    assert len(output) < 70_000
    assert "non conservés" in output


def test_the_attacks_saw_no_secret(batch):
    steal = batch["results"]["steal_solutions"]
    assert steal["score"] == 0
