"""The sandboxed worker, driven through a real lane: isolation between tests, limits, and its walls."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import pytest

from autograder.assignment import SubmissionLimits
from autograder.cli import protection_warning
from autograder.grading.lane import Lane
from autograder.grading.notebook import SandboxedNotebook
from autograder.grading.student import Student, StudentError
from autograder.grading.zygote import Zygote, worker_environment
from autograder.protocol.codec import Codec
from autograder.results import CodeCell
from autograder.sandbox import walls as sandbox
from tests.conftest import REPO, own_cgroups

LIMITS = dataclasses.replace(SubmissionLimits(), cell_seconds=2, call_seconds=1, memory_mb=512, processes=8)

CELLS = (
    "import os, signal, sys, time, torch\nstate = {'n': 0}\nT = torch.zeros(2)",
    "def bump():\n    state['n'] += 1\n    return state['n']\n\ndef grow():\n    T.add_(1)\n    return T.clone()",
    "def rebind():\n    global T\n    T = torch.ones(3)\n    return T\n\n"
    "def draw():\n    return torch.rand(1).item()\n\n"
    "def patch():\n    torch.tanh = lambda x: x\n    return 0\n\n"
    "def squash():\n    return torch.tanh(torch.tensor([10.0])).item()\n\n"
    "def write():\n    open('cache.txt', 'w').write('x')\n    return os.listdir('.')\n\n"
    "def files():\n    return sorted(os.listdir('.'))",
    "def die():\n    os._exit(5)\n\ndef spin():\n    while True:\n        pass",
    "def stubborn():\n    signal.signal(signal.SIGALRM, signal.SIG_IGN)\n    while True:\n        pass",
    "signal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n    pass",  # hangs, signals ignored
    "def after_the_hang():\n    return 'still here'",
    "import autograder  # what the worker has loaded\n"
    "def loaded():\n"
    "    return sorted(m for m in sys.modules if m.split('.')[0] in ('autograder', 'pytest', '_pytest'))\n"
    "def environment():\n    return dict(os.environ)\n"
    "def probe(path):\n"
    "    try:\n        open(path).read(1)\n        return 'read'\n"
    "    except OSError as e:\n        return type(e).__name__\n"
    "def importable(*names):\n"
    "    import importlib\n"
    "    return [importlib.import_module(n) is not None for n in names]\n"
    "def identity():\n"
    "    return [os.getuid(), os.getpid(), os.getcwd(), sorted(p for p in os.listdir('/proc') if p.isdigit())]",
)


@pytest.fixture(scope="module")
def notebook():
    os.environ["AUTOGRADER_TEST_SECRET"] = "do-not-leak"
    try:
        zygote = Zygote()  # as a grading run does: the lane's worker is forked from the zygote
    finally:
        del os.environ["AUTOGRADER_TEST_SECRET"]
    try:
        lane = Lane(0, LIMITS, worker=zygote.fork_worker(0))
        cells = tuple(CodeCell(i + 1, s) for i, s in enumerate(CELLS))
        sandboxed = SandboxedNotebook(lane, cells, time.monotonic() + 300)
        runs = sandboxed.run()
        yield sandboxed, runs
        sandboxed.close()
        lane.close()
    finally:
        zygote.close()


def _test(sandboxed) -> Student:
    """What the `student` fixture does at the start of each hidden test."""
    return Student(sandboxed, Codec())


def test_state_a_call_mutates_does_not_reach_the_next_test(notebook):
    sandboxed, _ = notebook
    student = _test(sandboxed)
    assert [student.bump(), student.bump()] == [1, 2]  # one test: one process, its calls share state
    assert _test(sandboxed).bump() == 1  # the next test starts from the notebook's state again
    assert _test(sandboxed).grow().tolist() == [1.0, 1.0]  # in-place change of a global tensor, undone
    assert _test(sandboxed).grow().tolist() == [1.0, 1.0]
    assert _test(sandboxed).rebind().tolist() == [1.0, 1.0, 1.0]
    assert _test(sandboxed).grow().tolist() == [1.0, 1.0]


def test_random_draws_monkeypatches_and_files_do_not_reach_the_next_test(notebook):
    sandboxed, _ = notebook
    student = _test(sandboxed)
    first, second = student.draw(), student.draw()
    assert first != second
    assert _test(sandboxed).draw() == first  # the generator is back where the notebook left it
    assert _test(sandboxed).patch() == 0
    assert _test(sandboxed).squash() == 1.0  # torch.tanh is torch's again
    assert "cache.txt" in _test(sandboxed).write()
    assert "cache.txt" not in _test(sandboxed).files()


def test_a_crash_in_one_test_leaves_the_next_one_alone(notebook):
    sandboxed, _ = notebook
    with pytest.raises(StudentError) as caught:
        _test(sandboxed).die()
    assert caught.value.type_name == "ProcessExited"
    assert "code 5" in caught.value.info.message
    assert _test(sandboxed).bump() == 1


def test_a_runaway_call_is_stopped_and_named(notebook):
    sandboxed, _ = notebook
    student = _test(sandboxed)
    started = time.monotonic()
    with pytest.raises(StudentError) as caught:
        student.spin()  # stopped by the call process's own timer: the traceback points at the loop
    assert caught.value.type_name == "TimeLimitExceeded"
    assert caught.value.info.frames[-1].cell == 4
    assert student.limit_struck == "call_seconds"
    student = _test(sandboxed)
    with pytest.raises(StudentError) as caught:
        student.stubborn()  # ignores the timer: the worker kills its process
    assert caught.value.type_name == "TimeLimitExceeded"
    assert student.limit_struck == "call_seconds"
    assert time.monotonic() - started < 3 * (LIMITS.call_seconds + 2) + 2
    assert _test(sandboxed).bump() == 1


def test_a_hanging_cell_costs_only_itself(notebook):
    _, runs = notebook
    assert [run.ok for run in runs] == [True] * 5 + [False] + [True] * 2
    assert runs[5].limit == "cell_seconds"
    assert "limite de temps par cellule" in runs[5].error.message
    sandboxed, _ = notebook
    assert _test(sandboxed).after_the_hang() == "still here"  # the cells after it ran
    assert _test(sandboxed).bump() == 1  # and the ones before it, run again in a fresh process


def test_the_worker_holds_nothing_secret(notebook):
    sandboxed, _ = notebook
    loaded = _test(sandboxed).loaded()
    trusted = {"suites", "checks", "grade", "lane", "cli", "reports", "scoring", "discover", "load", "assignments"}
    assert [m for m in loaded if m.split(".")[0] != "autograder"] == []  # no pytest
    assert [m for m in loaded if set(m.split(".")[1:]) & trusted] == []
    assert "autograder.protocol.codec" in loaded  # the worker itself runs as __main__
    environment = _test(sandboxed).environment()
    assert "AUTOGRADER_TEST_SECRET" not in environment
    assert set(environment) <= {*worker_environment(), "HOME", "TMPDIR"}


def test_each_wall_holds(notebook):
    sandboxed, _ = notebook
    assert sandboxed.off == {}  # as root on Linux, every protection is on
    uid, pid, cwd, pids = _test(sandboxed).identity()
    assert uid >= 61000
    assert pid != 1  # a call process, in the submission's own PID namespace...
    assert "1" in pids
    assert len(pids) <= 3  # ...which shows nothing of the grader: itself, the submission, a call ending
    assert cwd == "/tmp/work"
    probe = _test(sandboxed).probe
    denied = ("PermissionError", "FileNotFoundError")  # outside Landlock's list, or under a covering tmpfs
    assert probe(str(REPO / "solutions" / "rnn_intro" / "rnn_intro.ipynb")) in denied
    assert probe(str(REPO / "autograder" / "assignments" / "rnn_intro" / "assignment.yaml")) in denied
    assert _test(sandboxed).importable("json", "matplotlib") == [True, True]  # Python's files are readable
    assert probe("/etc/shadow") == "PermissionError"
    assert probe("/etc/hostname") == "read"  # the system's own files stay readable


def test_the_kinds_of_the_notebooks_names_come_with_ready(notebook, monkeypatch):
    """Every public name's kind arrives with "ready": no round trip per name, and a name the notebook never
    defined is missing at once. A malformed list (the worker is untrusted) is only partly believed."""
    from autograder.protocol.messages import kinds_complete, kinds_from_wire

    sandboxed, _ = notebook
    asked = []
    original = SandboxedNotebook.ask

    def counted(self, request, timeout):
        asked.append(request)
        return original(self, request, timeout)

    monkeypatch.setattr(SandboxedNotebook, "ask", counted)
    names = ("bump", "state", "after_the_hang", "never_defined")
    assert [sandboxed.kind(name) for name in names] == ["callable", "value", "callable", "missing"]
    assert asked == []
    forged = {"f": "callable", "g": "weird", "h": ["value"]}
    assert kinds_from_wire(forged) == {"f": "callable"}
    assert not kinds_complete(forged, kinds_from_wire(forged))  # then a name not listed is asked, as before
    assert kinds_from_wire(["f"]) == {}
    assert not kinds_complete(None, {})


def test_student_code_reads_installed_packages_but_never_the_kits_folder(tmp_path, monkeypatch):
    """Landlock's read rules: a site-packages folder whole when the kit is installed elsewhere (editable, as
    here: one rule, not one per package), else each package in it but the kit, whose folder holds the suites."""
    site = tmp_path / "lib" / "site-packages"
    for name in ("numpy", "torch", "autograder", "autograder-0.1.0.dist-info"):
        (site / name).mkdir(parents=True)
    monkeypatch.setattr(sys, "path", [*sys.path, str(site)])
    assert str(site) in sandbox.read_paths(sandbox.Policy())  # the kit is in the repository, not there
    monkeypatch.setattr(sandbox, "KIT_SUITES", site / "autograder" / "assignments")  # a regular install
    paths = sandbox.read_paths(sandbox.Policy())
    assert {str(site / "numpy"), str(site / "torch")} <= set(paths)
    assert not {str(site), str(site / "autograder"), str(site / "autograder-0.1.0.dist-info")} & set(paths)


def test_without_namespaces_grading_goes_on_in_a_private_folder_and_says_what_is_off(tmp_path):
    """Not root, and no user namespace to be had (a container whose seccomp profile denies them, as Docker's
    does): isolate() applies what it can, works in the private folder the lane made (never the working
    directory), and names the rest."""
    import pyseccomp

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (runs in the child)
        code = 1
        try:
            os.close(read)
            os.setresgid(65534, 65534, 65534)
            os.setresuid(65534, 65534, 65534)
            os.chdir("/")
            no_namespaces = pyseccomp.SyscallFilter(defaction=pyseccomp.ALLOW)
            no_namespaces.add_rule(pyseccomp.ERRNO(1), "unshare")
            no_namespaces.load()
            report = sandbox.Report()
            own_user_namespace = sandbox.isolate_lane(report)
            scratch = tempfile.mkdtemp(prefix="autograder-lane-test-")
            workdir = sandbox.isolate(sandbox.Policy(), report, own_user_namespace, scratch)
            open("written", "w").close()  # the scratch is writable...
            try:
                open("/tmp/autograder-outside-scratch", "w").close()  # ...and nothing else
                outside = "written"
            except OSError:
                outside = "denied"
            answer = [sorted(report.off), sorted(report.on), own_user_namespace, workdir, scratch, outside]
            os.write(write, json.dumps(answer).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    off, on, own_user_namespace, workdir, scratch, outside = json.loads(os.read(read, 10_000).decode())
    os.waitpid(pid, 0)
    os.close(read)
    shutil.rmtree(scratch)
    Path("/tmp/autograder-outside-scratch").unlink(missing_ok=True)
    assert not own_user_namespace
    assert set(off) == {"network", "filesystem", "ipc", "user"}
    assert set(on) == {"landlock", "seccomp", "rlimits"}  # TCP is still denied by Landlock, files by it too
    assert workdir == scratch
    assert outside == "denied"
    line = protection_warning(["filesystem", "user"])
    assert line.count("\n") == 0
    assert "private file-system view" in line
    assert "unprivileged user id" in line


def test_a_lane_sweeps_the_cgroups_of_runs_killed_outright():
    """A run killed with SIGKILL cannot remove its lanes' cgroups; the next lane does."""
    dead = 4_000_000  # above any pid_max: a run that is surely gone
    while Path("/proc", str(dead)).exists():
        dead += 1
    own = own_cgroups()
    stale = [Path("/sys/fs/cgroup", c, path, f"autograder-{dead}-0-1") for c, path in own.items()]
    for folder in stale:
        folder.mkdir()
    try:
        with Lane(0, LIMITS) as lane:
            assert lane.off.get("cgroup") is None
        assert [folder for folder in stale if folder.exists()] == []
    finally:
        for folder in stale:
            if folder.exists():
                folder.rmdir()


@pytest.mark.parametrize("reader", ["version tags", "identities"])
def test_the_state_fingerprint_sees_what_a_call_can_change(reader, monkeypatch):
    import numpy as np
    import torch

    from autograder.sandbox import fingerprint
    from autograder.sandbox.fingerprint import state_fingerprint

    assert fingerprint.read_dict_version is not None  # CPython 3.11: modules are summarised by their dict's version
    if reader == "identities":  # what another interpreter gets
        monkeypatch.setattr(fingerprint, "read_dict_version", None)

    class Loud(dict):
        def __len__(self):  # student code: the fingerprint must not run it
            raise RuntimeError("ran")

    class Box:
        pass

    class Disguised:
        @property
        def __class__(self):  # student code that isinstance() would run: the fingerprint reads types only
            raise RuntimeError("ran")

    box, disguised = Box(), Disguised()
    box.items = [1]
    namespace = {"xs": [1, 2], "t": torch.zeros(2), "loud": Loud(a=1), "box": box, "f": lambda x=[]: x, "d": disguised}
    before = state_fingerprint(namespace)
    assert before == state_fingerprint(namespace)
    changes = [
        lambda: namespace["xs"].append(3),
        lambda: namespace["t"].add_(1),
        lambda: namespace["loud"].update(b=2),
        lambda: box.items.append(2),
        lambda: setattr(disguised, "seen", True),
        lambda: namespace["f"].__defaults__[0].append(1),
        lambda: torch.rand(1),
        lambda: setattr(torch.nn.functional, "relu", torch.tanh),
        lambda: setattr(torch.Tensor, "sum", torch.Tensor.mean),  # a method of a class patched
        lambda: setattr(torch.nn.Module, "_autograder_probe", 1),
    ]
    original_relu, original_sum = torch.nn.functional.relu, torch.Tensor.sum
    try:
        for change in changes:
            state = state_fingerprint(namespace)
            change()
            assert state_fingerprint(namespace) != state, change
    finally:
        torch.nn.functional.relu, torch.Tensor.sum = original_relu, original_sum
        del torch.nn.Module._autograder_probe
    assert state_fingerprint({"a": np.zeros(3)}) is None  # not summarised: always a fresh process


def test_the_state_fingerprint_sees_the_process_wide_state_a_call_can_leave(monkeypatch):
    """Outside the namespace: what a test could leave behind for the next one (each change put back)."""
    import json
    import random
    import warnings

    import numpy as np
    import torch

    from autograder.sandbox.fingerprint import state_fingerprint

    namespace = {"xs": [1]}
    assert state_fingerprint(namespace) == state_fingerprint(namespace)
    monkeypatch.delenv("AUTOGRADER_PROBE", raising=False)
    saved_filters, saved_handler = list(warnings.filters), signal.getsignal(signal.SIGUSR2)
    saved_random, saved_numpy, saved_torch = random.getstate(), np.random.get_state(), torch.get_rng_state()
    hooks = []
    changes = {
        "environment": lambda: os.environ.__setitem__("AUTOGRADER_PROBE", "1"),
        "sys attribute": lambda: setattr(sys, "autograder_probe", 1),
        "another module's global": lambda: setattr(json, "autograder_probe", 1),
        "a module's global deleted": lambda: delattr(json, "autograder_probe"),
        "a module imported": lambda: __import__("tabnanny"),
        "anomaly detection": lambda: torch.autograd.set_detect_anomaly(True),
        "matmul precision": lambda: torch.set_float32_matmul_precision("medium"),
        "default dtype": lambda: torch.set_default_dtype(torch.float64),
        "autocast": lambda: torch.set_autocast_enabled("cpu", True),
        "global module hook": lambda: hooks.append(torch.nn.modules.module.register_module_forward_hook(print)),
        "Python's random": lambda: random.seed(1),
        "NumPy's random": lambda: np.random.seed(1),
        "torch's random": lambda: torch.manual_seed(1),
        "warnings filter": lambda: warnings.filterwarnings("ignore", message="autograder probe"),
        "signal handler": lambda: signal.signal(signal.SIGUSR2, signal.SIG_IGN),
        "sys.path": lambda: sys.path.append("/nonexistent/autograder-probe"),
        "working folder": lambda: os.chdir("/"),
    }
    cwd = os.getcwd()
    try:
        for what, change in changes.items():
            state = state_fingerprint(namespace)
            change()
            assert state_fingerprint(namespace) != state, what
        # Putting a global back to the very object it held is no change (sys.stdout around a captured call).
        state = state_fingerprint(namespace)
        sys.stdout = sys.stdout
        warnings.filters = warnings.filters
        assert state_fingerprint(namespace) == state
    finally:
        os.chdir(cwd)
        sys.path.remove("/nonexistent/autograder-probe")
        del sys.autograder_probe
        torch.autograd.set_detect_anomaly(False)
        torch.set_float32_matmul_precision("highest")
        torch.set_default_dtype(torch.float32)
        torch.set_autocast_enabled("cpu", False)
        for hook in hooks:
            hook.remove()
        random.setstate(saved_random)
        np.random.set_state(saved_numpy)
        torch.set_rng_state(saved_torch)
        warnings.filters[:] = saved_filters
        signal.signal(signal.SIGUSR2, saved_handler)


def test_the_notebooks_files_are_put_back_after_a_test(tmp_path):
    """What a test adds, changes or removes in the writable folders; the notebook's files come back as they were."""
    from autograder.sandbox.isolation import ScratchFiles

    (tmp_path / "model.txt").write_text("weights")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.csv").write_text("1,2")
    (tmp_path / "link").symlink_to("model.txt")
    files = ScratchFiles([str(tmp_path)])
    before, state = files.entries, files.state()
    assert not files.restore()  # nothing changed: nothing done

    (tmp_path / "model.txt").write_text("changed by a test")
    (tmp_path / "data" / "a.csv").unlink()
    (tmp_path / "data" / "new.csv").write_text("3")
    (tmp_path / "link").unlink()
    (tmp_path / "link").mkdir()  # a folder where a link was
    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "deep.txt").write_text("x")
    os.mkfifo(tmp_path / "fifo")
    assert files.state() != state
    assert files.restore()
    assert (tmp_path / "model.txt").read_text() == "weights"
    assert (tmp_path / "data" / "a.csv").read_text() == "1,2"
    assert os.readlink(tmp_path / "link") == "model.txt"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.csv", "data", "link", "model.txt"]
    assert {path: entry[:4] for path, entry in files.entries.items()} == {p: e[:4] for p, e in before.items()}
    state = files.state()
    assert not files.restore()  # the new baseline: the files as put back
    assert files.state() == state

    # Each kind of change, alone, is seen by the summary a call process compares at the end of each test.
    changes = [
        lambda: (tmp_path / "model.txt").write_text("weighs"),  # same size
        lambda: (tmp_path / "data" / "new.csv").write_text(""),
        lambda: (tmp_path / "data" / "a.csv").unlink(),
        lambda: (tmp_path / "data" / "a.csv").chmod(0o600),
        lambda: (tmp_path / "link").unlink(),
        lambda: os.rename(tmp_path / "model.txt", tmp_path / "data" / "model.txt"),
    ]
    for change in changes:
        state = files.state()
        change()
        assert files.state() != state, change
        assert files.restore()
    assert (tmp_path / "model.txt").read_text() == "weights"

    over = ScratchFiles([str(tmp_path)], budget=3)  # too large to keep: changed, it is removed, not kept wrong
    (tmp_path / "model.txt").write_text("changed")
    over.restore()
    assert not (tmp_path / "model.txt").exists()
    assert (tmp_path / "data" / "a.csv").read_text() == "1,2"


def test_a_worker_that_dies_costs_one_submission_and_is_replaced():
    from autograder.assignment import load_assignment
    from autograder.grading.discover import Submission
    from autograder.grading.grade import grade_submission
    from autograder.results import Status

    assignment = load_assignment()
    honest = Submission("alice", REPO / "examples" / "submissions" / "alice_martin.ipynb")
    with Lane(0, assignment.limits) as lane:
        assert grade_submission(honest, assignment, lane).score == 26
        lane.kill_worker()  # the worker dies between two submissions (a bug, the OOM killer...)
        lost = grade_submission(honest, assignment, lane)
        assert lost.status is Status.GRADER_ERROR
        assert "grading worker" in lost.message
        assert grade_submission(honest, assignment, lane).score == 26  # a fresh worker took over


def _parent_and_state(pid: int) -> tuple[int, str]:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[1]), fields[0]


def _gone(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if _parent_and_state(pid)[1] in ("Z", "X"):
                return True
        except OSError:
            return True
        time.sleep(0.05)
    return False


def test_the_lanes_workers_are_forks_of_one_zygote_and_die_with_it():
    zygote = Zygote()
    try:
        first, second = zygote.fork_worker(0), zygote.fork_worker(1)
        zygote_pid = _parent_and_state(first[0])[0]
        assert _parent_and_state(second[0])[0] == zygote_pid != os.getpid()
        # that parent is the zygote this test started: our child, running the worker's `--zygote` mode
        assert _parent_and_state(zygote_pid)[0] == os.getpid()
        assert b"--zygote" in Path(f"/proc/{zygote_pid}/cmdline").read_bytes().split(b"\0")
        with Lane(0, LIMITS, worker=first) as lane:  # a forked worker serves a lane as a started one does
            cells = (CodeCell(1, "def f(x):\n    return 2 * x"),)
            sandboxed = SandboxedNotebook(lane, cells, time.monotonic() + 60)
            assert [run.ok for run in sandboxed.run()] == [True]
            assert Student(sandboxed, Codec()).f(21) == 42
            sandboxed.close()
        assert _gone(first[0])  # closed by its lane
        assert not _gone(second[0], seconds=0.2)
    finally:
        zygote.close()
    assert _gone(second[0])  # a worker no lane closed dies with the zygote
    second[1].close()
