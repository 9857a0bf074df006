"""Attacks on the grader, each graded next to honest submissions in one sandboxed batch, as root and as
an ordinary user (an instructor without root, grading from their home folder, where the kit's clone is too).

Every attack notebook is the honest example (alice_martin, 26/26) or the released stubs, with
cells that try to cheat or to break out; an honest copy follows each attack. One `autograder grade
-j 2` run grades them all with tight limits; then, for each attack: the batch finished, the honest
scores are unchanged, the questions the attack tried to cheat on score 0, nothing was written
outside the sandbox's scratch, no secret was read, and no process of the run is left. A second,
one-lane batch shows that SysV and POSIX IPC objects never pass from one submission to the next.

The attacks are bounded by their own code, so that they cannot harm the machine even if the
sandbox were broken: loops stop after two minutes, the fork bomb forks at most 200 sleepers
that exit after 20 s, the memory hog asks for at most 8 GB (this machine has 24) and the shared
memory writer for 1.4 GB, the late writer stops after 20 s, the grader killer only aims at
processes whose command line names autograder, and each run is killed after 5 minutes.
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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from autograder.assignment import load_assignment
from autograder.grading.discover import Submission
from autograder.unsandboxed import grade_submission
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
from autograder.protocol import wire  # the worker's own modules are the student's to use

def _forged_relay(channel, namespace, call_seconds, *_):  # replaces the worker's loop after the cells
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

READ_SECRETS = """
_found = []
for _path in @SECRETS@:
    try:
        with open(_path, errors="replace") as _file:
            _found.append(_file.read(300))
    except Exception as error:
        print("cannot read", _path, type(error).__name__)
if _found:
    raise RuntimeError("LEAK " + " | ".join(_found))
"""

# Code the trusted side would run if it ever collected the suites again after a submission wrote them.
DROP_CONFTEST = """
import os
_code = "import pathlib\\npathlib.Path(@PWNED@).write_text('the trusted side ran student code')\\n"
for _name in ("conftest.py", "test_zz_extra.py", "test_task_types.py"):
    try:
        with open(os.path.join(@SUITES@, _name), "a") as _file:
            _file.write(_code)
        print("wrote", _name)
    except Exception as error:
        print("cannot write", _name, type(error).__name__)
"""

LATE_WRITER = """
import os, time
_pid = os.fork()
if _pid == 0:
    os.setsid()
    if os.fork() == 0:  # a daemon, out of the submission's process group, writing for 20 s
        for _ in range(40):
            time.sleep(0.5)
            for _folder in (".", "/tmp", @ROOT@):
                try:
                    with open(os.path.join(_folder, "late-@MARK@"), "w") as _file:
                        _file.write("still running")
                except Exception:
                    pass
    os._exit(0)
os.waitpid(_pid, 0)
"""

# Every kind of process-wide state a test's call can leave behind; gru_output_shapes answers wrong, naming
# what it saw, when its call finds any of it (each of its tests calls it once), and leaves all of it.
STATE_LEAKS = """
import os, signal, sys, warnings
import torch
_right_shapes = gru_output_shapes
with open("notebook_file.txt", "w") as _file:
    _file.write("as the notebook left it")
def _leaks_seen():
    seen = []
    if os.environ.get("AUTOGRADER_LEAK"):
        seen.append("environ")
    if getattr(sys, "autograder_leak", None):
        seen.append("sys")
    if getattr(__import__("json"), "autograder_leak", None):
        seen.append("another module's global")
    if os.path.exists("/dev/shm/autograder_leak") or os.path.exists("/tmp/autograder_leak"):
        seen.append("/dev/shm or /tmp")
    if torch.is_anomaly_enabled():
        seen.append("anomaly detection")
    if torch.get_float32_matmul_precision() != "highest":
        seen.append("matmul precision")
    with open("notebook_file.txt") as file:
        if file.read() != "as the notebook left it":
            seen.append("the notebook's file")
    if os.path.exists("test_file.txt"):
        seen.append("a test's file")
    if signal.getsignal(signal.SIGUSR1) == signal.SIG_IGN:
        seen.append("signal handler")
    if any(f[0] == "ignore" and f[1] is not None and "autograder" in f[1].pattern for f in warnings.filters):
        seen.append("warnings filter")
    return seen
def _leave_leaks():
    os.environ["AUTOGRADER_LEAK"] = "1"
    sys.autograder_leak = 1
    __import__("json").autograder_leak = 1
    for folder in ("/dev/shm", "/tmp"):
        try:
            open(os.path.join(folder, "autograder_leak"), "w").close()
        except OSError:
            pass
    torch.autograd.set_detect_anomaly(True)
    torch.set_float32_matmul_precision("medium")
    with open("notebook_file.txt", "w") as file:
        file.write("changed by a test")
    open("test_file.txt", "w").close()
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    warnings.filterwarnings("ignore", message="autograder leak")
def gru_output_shapes(*args, **kwargs):
    seen = _leaks_seen()
    _leave_leaks()
    if seen:
        return ("state left by an earlier test: " + ", ".join(seen),)
    return _right_shapes(*args, **kwargs)
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
    "read_secrets": Attack(HONEST, cells=((None, READ_SECRETS),), honest_rest=True),
    "drop_conftest": Attack(HONEST, cells=((None, DROP_CONFTEST),), honest_rest=True),
    "late_writer": Attack(HONEST, cells=(("rnn_cell_loop_solution", LATE_WRITER),), honest_rest=True),
    "state_leaks": Attack(HONEST, cells=(("gru_output_shapes_solution", STATE_LEAKS),), honest_rest=True),
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
    """Processes of a grading run as root still alive: its workers, or anything running as a lane's user."""
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
        if 61000 <= uid < 61100 or b"autograder.sandbox.worker" in command:
            alive.append(f"{entry.name} uid={uid} {command[:80]!r}")
    return alive


RUNNERS = ["root", "instructor"]
SECRET = f"secret-{TOKEN}"


class _Run:
    """Where a batch runs and as whom: root in a temporary folder, or the instructor in their home folder."""

    def __init__(self, runner: str, request, tmp_path_factory, name: str) -> None:
        self.person = request.getfixturevalue("instructor") if runner == "instructor" else None
        if self.person is not None:
            self.root = self.person.home / name
            self.root.mkdir()
            self.kit, self.bin = self.person.kit, self.person.bin
        else:
            self.root = tmp_path_factory.mktemp(name)
            self.kit, self.bin = REPO, VENV_BIN
        self.suites = self.kit / "autograder" / "assignments" / "rnn_intro"
        self.submissions, self.out = self.root / "submissions", self.root / "out"
        self.submissions.mkdir()
        self.secret = self.root / "secret.txt"  # the instructor's own file: readable by them, by nobody else
        self.secret.write_text(SECRET)
        self.secret.chmod(0o600)

    def processes(self) -> list[str]:
        return self.person.processes() if self.person is not None else _our_processes()

    def grade(self, *arguments: str) -> dict:
        """The batch graded as this runner; then (5 s at most) the run's processes gone."""
        return self.settle(self.run(*arguments))

    def run(self, *arguments: str) -> dict:
        """The batch graded as this runner: its exit code, output and results, and the processes alive before."""
        if self.person is not None:
            self.person.give(self.root)
        before = set(self.processes())
        started = time.monotonic()
        command = [str(self.bin / "autograder"), "grade", str(self.submissions), "--out", str(self.out), *arguments]
        options = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True, "start_new_session": True}
        if self.person is not None:
            process = self.person.popen(*command, **options)
        else:
            process = subprocess.Popen(command, **options)
        try:
            stdout, stderr = process.communicate(timeout=300)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        results = {p.stem: json.loads(p.read_text()) for p in (self.out / "results").glob("*.json")}
        return {
            "runner": "root" if self.person is None else "instructor",
            "code": process.returncode,
            "stdout": stdout,
            "stderr": stderr,
            "results": results,
            "seconds": time.monotonic() - started,
            "before": before,
        }

    def settle(self, graded: dict) -> dict:
        """Once the run has ended: (5 s at most) its processes gone; those still alive are its survivors."""
        before = graded.pop("before")
        deadline = time.monotonic() + 5
        while set(self.processes()) - before and time.monotonic() < deadline:
            time.sleep(0.1)
        return {**graded, "survivors": sorted(set(self.processes()) - before)}


class _AttackBatch:
    """A runner's batch: every attack and its honest copy in its folder, and a TCP and a Unix listener
    that record any connection the attacks make."""

    def __init__(self, run: _Run) -> None:
        self.run = run
        root, submissions = run.root, run.submissions
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        unix_path = str(root / "grader.sock")
        self.unix = socket.socket(socket.AF_UNIX)
        self.unix.bind(unix_path)
        os.chmod(unix_path, 0o777)  # anyone may connect, were the walls down
        self.unix.listen()
        self.unix.settimeout(0.2)
        self.connections: list[str] = []
        self.stop = threading.Event()
        self.watcher = threading.Thread(target=self._accept, daemon=True)
        self.watcher.start()
        home = run.person.home if run.person is not None else root
        solution = run.kit / "solutions" / "rnn_intro" / "rnn_intro.ipynb"
        fill = {
            "@TARGETS@": repr(
                [str(p) for p in (root, submissions, run.out, run.kit, solution.parent, run.suites, home)]
            ),
            "@SECRETS@": repr([str(run.secret), str(run.suites / "test_classify_hidden.py"), str(solution)]),
            "@SUITES@": repr(str(run.suites)),
            "@PWNED@": repr(str(root / f"pwned-{MARK}")),
            "@ROOT@": repr(str(root)),
            "@MARK@": MARK,
            "@PORT@": str(self.listener.getsockname()[1]),
            "@UNIX@": repr(unix_path),
        }
        (submissions / "alice_martin.ipynb").write_bytes(HONEST.read_bytes())
        for name, attack in ATTACKS.items():
            nbformat.write(_build(attack, fill), submissions / f"{name}.ipynb")
            (submissions / f"{name}_then_honest.ipynb").write_bytes(HONEST.read_bytes())
        self.suites_before = self._suites()

    def _accept(self) -> None:
        while not self.stop.is_set():
            for server in (self.listener, self.unix):
                try:
                    connection, _ = server.accept()
                    self.connections.append(repr(connection.recv(100)))
                    connection.close()
                except OSError:
                    pass

    def _suites(self) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in self.run.suites.iterdir() if p.is_file()}

    def finish(self, graded: dict) -> dict:
        """Once the run has ended: the listeners closed, what they and the suites' folder saw."""
        self.stop.set()
        self.watcher.join()
        self.listener.close()
        self.unix.close()
        return {
            **graded,
            "root": self.run.root,
            "out": self.run.out,
            "kit": self.run.kit,
            "suites_changed": self._suites() != self.suites_before,
            "connections": self.connections,
        }


def _graded_at_once(runs: list[_Run], *arguments: str) -> list[dict]:
    """Each run's batch graded with ``arguments``, then its survivors. When every runner is a user of its own,
    the batches are graded at the same time (a batch mostly waits on its time limits) and each run's
    processes are counted once all have ended, so that none is taken for another's still at work; when one
    user runs them all, one after the other, as each run's processes are then told apart by time alone."""
    if all(run.person is None or run.person.made for run in runs):
        with ThreadPoolExecutor(len(runs)) as pool:
            graded = list(pool.map(lambda run: run.run(*arguments), runs))
        return [run.settle(one) for run, one in zip(runs, graded, strict=True)]
    return [run.grade(*arguments) for run in runs]


@pytest.fixture(scope="module")
def batches(request, tmp_path_factory) -> dict[str, dict]:
    """Both runners' attack batches, by runner."""
    batches = [_AttackBatch(_Run(runner, request, tmp_path_factory, "attacks")) for runner in RUNNERS]
    graded = _graded_at_once([batch.run for batch in batches], "-j", "2", *LIMITS)
    return {runner: b.finish(g) for runner, b, g in zip(RUNNERS, batches, graded, strict=True)}


@pytest.fixture(scope="module", params=RUNNERS)
def batch(request, batches):
    return batches[request.param]


def test_the_batch_finishes_and_grades_everyone(batch):
    assert batch["code"] == 0, batch["stderr"][-2000:]
    assert set(batch["results"]) == {"alice_martin", *ATTACKS, *(f"{name}_then_honest" for name in ATTACKS)}
    assert all(r["status"] == "graded" for r in batch["results"].values())
    off = {entry["name"] for result in batch["results"].values() for entry in result["unprotected"]}
    # As root on Linux, every wall is up; without root, all but a second user id and the cgroups.
    assert off == (set() if batch["runner"] == "root" else {"user", "cgroup"})


def test_the_honest_scores_are_unchanged(batch):
    alone = grade_submission(Submission("alice_martin", HONEST), load_assignment())
    assert alone.score == TOTAL_POINTS
    honest = {name: r["score"] for name, r in batch["results"].items() if name.endswith("_then_honest")}
    assert honest == dict.fromkeys(honest, alone.score)  # whatever the attack before them did
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
    root, out, kit = batch["root"], batch["out"], batch["kit"]
    aimed = [Path(p) for p in ("/", "/tmp", "/var/tmp", "/dev/shm", Path.home(), "/root", "/work")]
    aimed += [root, root.parent, root / "submissions", out, kit, kit / "solutions", kit / "autograder"]
    aimed += [kit / "autograder" / "assignments" / "rnn_intro"]
    marked = [folder / MARK for folder in aimed if (folder / MARK).exists()]
    marked += [Path(p) / f"late-{MARK}" for p in ("/tmp", root) if (Path(p) / f"late-{MARK}").exists()]
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
    reader = json.dumps(batch["results"]["read_secrets"])
    assert "LEAK" not in reader  # not the instructor's file, nor a hidden suite, nor the solution
    written = [p for p in batch["out"].rglob("*") if p.is_file() and SECRET in p.read_text(errors="replace")]
    assert written == []


def test_the_trusted_side_never_runs_what_a_submission_wrote(batch):
    assert not batch["suites_changed"]  # the suites' folder is out of the sandbox's reach...
    assert not (batch["root"] / f"pwned-{MARK}").exists()  # ...and nothing dropped there ever ran


# -- IPC: nothing passes from one submission to the next, nothing outlives them -------------------
IPC_KEY = int(TOKEN[:7], 16)  # SysV keys of this run: the answer, then two large segments
IPC_COMMON = """
import ctypes, os
_libc = ctypes.CDLL(None, use_errno=True)
_libc.shmat.restype = ctypes.c_void_p
_libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
_libc.shmdt.argtypes = [ctypes.c_void_p]
_KEY, _CREATE, _NOWAIT = @KEY@, 0o1000 | 0o666, 0o4000
class _Message(ctypes.Structure):
    _fields_ = [("kind", ctypes.c_long), ("text", ctypes.c_char * 64)]
def _attached(segment):
    address = _libc.shmat(segment, None, 0)
    return None if address in (None, ctypes.c_void_p(-1).value) else address
"""
IPC_WRITER = (
    IPC_COMMON
    + """
_answer = b"ANSWER-@MARK@"
_segment = _libc.shmget(_KEY, 4096, _CREATE)
_address = _attached(_segment)
if _address:
    ctypes.memmove(_address, _answer, len(_answer))
    _libc.shmdt(_address)
_written = [bool(_address)]
for _i in (1, 2):  # 1.4 GB of shared memory left behind, touched: charged to the lane's memory
    _big = _libc.shmget(_KEY + _i, 700 * 2**20, _CREATE)
    _address = _attached(_big)
    _written.append(bool(_address))
    if _address:
        ctypes.memset(_address, 1, 700 * 2**20)
        _libc.shmdt(_address)
_queue = _libc.msgget(_KEY, _CREATE)
_written.append(_libc.msgsnd(_queue, ctypes.byref(_Message(1, _answer)), 64, _NOWAIT) == 0)
_written.append(_libc.semget(_KEY, 1, _CREATE) >= 0)
with open("/dev/shm/answer-@MARK@", "w") as _file:
    _file.write("ANSWER-@MARK@")
if not all(_written):
    raise RuntimeError(f"not written: {_written}")
"""
)
IPC_READER = (
    IPC_COMMON
    + """
_found = []
_segment = _libc.shmget(_KEY, 0, 0)
if _segment >= 0:
    _address = _attached(_segment)
    _found.append(ctypes.string_at(_address, 20) if _address else b"segment")
_queue = _libc.msgget(_KEY, 0)
if _queue >= 0:
    _message = _Message()
    _libc.msgrcv(_queue, ctypes.byref(_message), 64, 0, _NOWAIT)
    _found.append(_message.text or b"queue")
if _libc.semget(_KEY, 0, 0) >= 0:
    _found.append(b"semaphore")
if os.path.exists("/dev/shm/answer-@MARK@"):
    _found.append(b"posix shared memory")
if _found:
    raise RuntimeError("LEAK " + repr(_found))
"""
)


def _ipc_keys() -> set[int]:
    """The SysV IPC keys alive in this machine's (the grader's) IPC namespace."""
    keys = set()
    for kind in ("shm", "msg", "sem"):
        lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()[1:]
        keys |= {int(line.split()[0]) for line in lines if line.split()}
    return keys


@pytest.fixture(scope="module")
def ipc_batches(request, tmp_path_factory) -> dict[str, dict]:
    """Each runner's batch in one lane: a writer of SysV and POSIX IPC objects, then a reader, then an
    honest student; by runner."""
    runs = [_Run(runner, request, tmp_path_factory, "ipc") for runner in RUNNERS]
    fill = {"@KEY@": str(IPC_KEY), "@MARK@": MARK}
    for run in runs:
        for name, code in (("a_ipc_writer", IPC_WRITER), ("b_ipc_reader", IPC_READER)):
            notebook = nbformat.read(HONEST, as_version=4)
            notebook.cells.insert(0, nbformat.v4.new_code_cell(_fill(code, fill)))
            nbformat.write(notebook, run.submissions / f"{name}.ipynb")
        (run.submissions / "c_honest.ipynb").write_bytes(HONEST.read_bytes())
    # The lane's memory cap as in the attacks' batch; time enough to touch 1.4 GB on a loaded machine.
    graded = _graded_at_once(runs, "-j", "1", "--memory-mb", "768", "--call-seconds", "5")
    return {
        runner: {**one, "keys": _ipc_keys(), "shm": os.listdir("/dev/shm")}
        for runner, one in zip(RUNNERS, graded, strict=True)
    }


@pytest.fixture(scope="module", params=RUNNERS)
def ipc_batch(request, ipc_batches):
    return ipc_batches[request.param]


def test_no_ipc_object_passes_between_submissions_or_outlives_them(ipc_batch):
    assert ipc_batch["code"] == 0, ipc_batch["stderr"][-2000:]
    results = ipc_batch["results"]
    assert results["a_ipc_writer"]["cells"] == []  # no cell failed: it wrote every object
    assert "LEAK" not in json.dumps(results["b_ipc_reader"])  # the next submission found nothing of it
    assert results["b_ipc_reader"]["score"] == TOTAL_POINTS
    assert results["c_honest"]["score"] == TOTAL_POINTS  # the memory it held went with it
    assert not {IPC_KEY, IPC_KEY + 1, IPC_KEY + 2} & ipc_batch["keys"]  # nothing left on the machine
    assert [name for name in ipc_batch["shm"] if MARK in name] == []
    assert ipc_batch["survivors"] == []
