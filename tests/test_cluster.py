"""`autograder grade --scheduler`: a class graded on a real Dask cluster (a `dask scheduler` and two
`dask worker` processes on 127.0.0.1) gives the local run's gradebook; a worker killed mid-batch loses
no submission and grades none twice; without Dask, or without a scheduler, one line says why."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import pty
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from conftest import CONTRACT, EXAMPLE_NOTEBOOKS, EXAMPLES, LAYOUT, TOTAL_POINTS, VENV_BIN, own_cgroups, run_cli
from distributed import Client, KilledWorker

from autograder.assignment import load_assignment
from autograder.grading import cluster, slots
from autograder.grading.discover import Submission
from autograder.results import Status


def _rows(out: Path) -> list[dict[str, str]]:
    with (out / "grades.csv").open(newline="") as stream:
        return list(csv.DictReader(stream))


def _without_times(result: dict) -> dict:
    return {key: value for key, value in result.items() if key != "execution_time"}


def _lanes_of(pid: int) -> list[int]:
    """The lane workers (`python -m autograder.sandbox.worker`) a Dask worker process started and still has."""
    found = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                with contextlib.suppress(OSError):
                    if b"autograder.sandbox.worker" in Path(f"/proc/{child}/cmdline").read_bytes():
                        found.append(int(child))
    return found


def _alive(pid: int) -> bool:
    try:
        return b"autograder.sandbox.worker" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


@dataclass
class DaskCluster:
    address: str
    client: Client
    logs: Path


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """`dask scheduler` and two `dask worker --nthreads 1` (each with its nanny) from the venv, on 127.0.0.1."""
    root = tmp_path_factory.mktemp("dask")
    address_file = root / "scheduler.json"
    processes: list[subprocess.Popen] = []
    client = None

    def start(name: str, *args: str) -> None:
        with (root / f"{name}.log").open("w") as log:
            processes.append(
                subprocess.Popen(
                    [str(VENV_BIN / "dask"), *args],
                    cwd=root,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # the nanny and its worker process in one group, killed together
                )
            )

    try:
        start(
            "scheduler",
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--scheduler-file",
            str(address_file),
        )
        deadline = time.monotonic() + 30
        while not address_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(address_file.read_text())["address"]
        for name in ("w1", "w2"):
            start(
                name,
                "worker",
                "--scheduler-file",
                str(address_file),
                "--nthreads",
                "1",
                "--host",
                "127.0.0.1",
                "--no-dashboard",
                "--local-directory",
                str(root / name),
                "--name",
                name,
            )
        client = Client(address, timeout=30, set_as_default=False)
        client.wait_for_workers(2, timeout=60)
        yield DaskCluster(address, client, root)
    finally:
        if client is not None:
            client.close()
        for process in reversed(processes):  # workers first: a worker's close tears its lanes down
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in reversed(processes):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture(scope="module")
def local_examples(tmp_path_factory):
    """The bundled examples graded locally in two lanes: what the cluster must reproduce."""
    out = tmp_path_factory.mktemp("local-examples")
    result = run_cli("grade", str(EXAMPLES), "--out", str(out), "-j", "2")
    assert result.returncode == 0, result.stderr
    return out


def test_examples_graded_on_the_cluster_give_the_local_gradebook(dask_cluster, local_examples, tmp_path):
    out = tmp_path / "out"
    result = run_cli("grade", str(EXAMPLES), "--out", str(out), "--scheduler", dask_cluster.address)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == (
        f"grading 6 submission(s) from {EXAMPLES} on the Dask cluster at {dask_cluster.address}, "
        "one sandboxed lane per worker"
    )
    assert (out / "grades.csv").read_bytes() == (local_examples / "grades.csv").read_bytes()
    # The typed results came back whole: every test's outcome, message, hint and cell, as locally.
    for local in sorted((local_examples / "results").glob("*.json")):
        remote = json.loads((out / "results" / local.name).read_text())
        assert _without_times(remote) == _without_times(json.loads(local.read_text())), local.stem
    assert "26 / 26" in result.stdout
    assert (out / "summary.html").is_file()
    assert len(list((out / "feedback").glob("*.html"))) == 6


def _batch_of_40(folder: Path) -> dict[str, str]:
    """40 notebooks, student name -> kind: the examples' four graded students, the solution, the
    stubs, and a solution whose last cell kills its own sandboxed process."""
    solution = nbformat.read(LAYOUT.solution_notebook, as_version=4)
    solution.cells.append(nbformat.v4.new_code_cell("import os\nos._exit(3)"))
    exits = folder.parent / "exits.ipynb"
    nbformat.write(solution, exits)
    sources = {
        **EXAMPLE_NOTEBOOKS,
        "solution": LAYOUT.solution_notebook,
        "stubs": LAYOUT.exercise_notebook,
        "exits": exits,
    }
    kinds = list(sources)
    students = {}
    for number in range(40):
        kind = kinds[number % len(kinds)]
        students[f"s{number:02d}_{kind}"] = kind
        shutil.copy(sources[kind], folder / f"s{number:02d}_{kind}.ipynb")
    return students


def _read_until(terminal: int, seen: bytearray, done, deadline: float) -> None:
    """Read the run's terminal until ``done(text)`` or its end (EIO) or the deadline."""
    while time.monotonic() < deadline and not done(seen.decode(errors="replace")):
        if select.select([terminal], [], [], 0.5)[0]:
            try:
                chunk = os.read(terminal, 4096)
            except OSError:  # the run closed its terminal
                return
            if not chunk:
                return
            seen += chunk


def test_a_worker_killed_mid_batch_loses_no_submission_and_grades_none_twice(dask_cluster, local_examples, tmp_path):
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    students = _batch_of_40(submissions)
    out = tmp_path / "out"
    terminal, stderr = pty.openpty()  # a terminal: the progress bar shows as tasks finish
    process = subprocess.Popen(
        [
            str(VENV_BIN / "autograder"),
            "grade",
            str(submissions),
            "--out",
            str(out),
            "--scheduler",
            dask_cluster.address,
        ],
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        start_new_session=True,
    )
    os.close(stderr)
    seen = bytearray()
    try:
        graded = lambda text: max(map(int, re.findall(r"(\d+)/40 graded", text)), default=0)  # noqa: E731
        _read_until(terminal, seen, lambda text: graded(text) >= 4, time.monotonic() + 90)
        assert graded(seen.decode(errors="replace")) >= 4, seen.decode(errors="replace")
        # The worker process (not its nanny, which starts a fresh one) dies as the OOM killer would
        # kill it, in the middle of a task: that task must be graded again elsewhere.
        busy = {worker: keys for worker, keys in dask_cluster.client.processing().items() if keys}
        worker, keys = next(iter(busy.items()))
        pid = dask_cluster.client.run(os.getpid, workers=[worker])[worker]
        orphans = _lanes_of(pid)  # must die with it (their parent-death signal)
        os.kill(pid, signal.SIGKILL)
        in_flight = {f"s{int(key.rsplit('-', 1)[1]):02d}" for key in keys}
        _read_until(terminal, seen, lambda text: False, time.monotonic() + 120)
        process.wait(timeout=60)
    finally:
        os.close(terminal)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    text = seen.decode(errors="replace")
    assert process.returncode == 0, text
    assert "] 40/40 graded in " in text
    assert "Traceback" not in text

    rows = _rows(out)
    assert len(rows) == 40
    assert sorted(row["student"] for row in rows) == sorted(students)  # each student exactly once
    assert in_flight
    assert {row["student"][:3] for row in rows if row["status"] == "graded"} >= in_flight
    local = {row["student"]: row for row in _rows(local_examples)}
    full = {"total": str(TOTAL_POINTS), **{q: str(points) for q, (_, points) in CONTRACT.items()}}
    expected = {
        **{kind: local[kind] for kind in EXAMPLE_NOTEBOOKS},
        "solution": full,
        "exits": full,  # the cell that ends its process costs nothing: the functions were defined before it
        "stubs": {"total": "0", **dict.fromkeys(CONTRACT, "0")},
    }
    for row in rows:
        want = expected[students[row["student"]]]
        assert row["status"] == "graded", row
        assert {key: row[key] for key in ("total", *CONTRACT)} == {key: want[key] for key in ("total", *CONTRACT)}, row
    exits = json.loads((out / "results" / "s06_exits.json").read_text())
    assert [cell["error"]["type"] for cell in exits["cells"] if cell.get("error")] == ["ProcessExited"]

    # The nanny replaced the worker (which took a lane for the run); the run's end closed every lane,
    # and the killed worker's lane died with it.
    assert len(orphans) == 1
    dask_cluster.client.wait_for_workers(2, timeout=30)
    workers = dask_cluster.client.run(os.getpid).values()
    assert pid not in workers
    deadline = time.monotonic() + 10
    while any(_lanes_of(worker) for worker in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [_lanes_of(worker) for worker in workers] == [[], []]
    assert not any(_alive(lane) for lane in orphans)


def test_a_local_dask_cluster_grades_a_notebook(tmp_path):
    notebook = tmp_path / "alice.ipynb"
    shutil.copy(LAYOUT.solution_notebook, notebook)
    result = run_cli("grade", str(notebook), "--out", str(tmp_path / "out"), "--scheduler", "local", "-j", "1")
    assert result.returncode == 0, result.stderr
    assert "on a local Dask cluster of 1 worker(s)" in result.stderr
    assert [(row["student"], row["total"]) for row in _rows(tmp_path / "out")] == [("alice", str(TOTAL_POINTS))]


def test_without_dask_the_flag_says_how_to_install_it(tmp_path):
    notebook = tmp_path / "alice.ipynb"
    shutil.copy(LAYOUT.solution_notebook, notebook)
    # Dask made impossible to import, as on an install without the [dask] extra.
    code = (
        "import sys; sys.modules['distributed'] = sys.modules['dask'] = None\n"
        "from autograder.cli import main\n"
        f"sys.exit(main(['grade', {str(notebook)!r}, '--scheduler', 'tcp://127.0.0.1:8786']))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "pip install 'autograder[dask]'" in result.stderr
    assert not (tmp_path / "grading-output").exists()


def test_a_scheduler_out_of_reach_is_one_line_and_exit_1(tmp_path):
    notebook = tmp_path / "alice.ipynb"
    shutil.copy(LAYOUT.solution_notebook, notebook)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    result = subprocess.run(
        [str(VENV_BIN / "autograder"), "grade", str(notebook), "--scheduler", f"tcp://127.0.0.1:{port}"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "1s"},  # Dask's own setting
    )
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].startswith(
        f"autograder: cannot reach the Dask scheduler at tcp://127.0.0.1:{port}"
    )
    assert len(result.stderr.splitlines()) == 2  # the "grading ..." line, then why it stopped
    assert time.monotonic() - started < 30
    assert not (tmp_path / "grading-output").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scheduler", "tcp://127.0.0.1"], "--scheduler wants tcp://HOST:PORT or local, not 'tcp://127.0.0.1'"),
        (["--scheduler", "127.0.0.1:99999"], "--scheduler wants tcp://HOST:PORT or local"),
        (["--scheduler", "tcp://127.0.0.1:8786", "-j", "2"], "-j/--jobs is for local lanes"),
    ],
)
def test_wrong_use_of_the_scheduler_is_one_line_and_exit_2(tmp_path, args, message):
    result = run_cli("grade", str(EXAMPLES), *args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert message in result.stderr


def test_a_submission_that_killed_its_workers_is_one_grader_error_row():
    assignment = load_assignment()
    died = KilledWorker("grade-run-3", SimpleNamespace(address="tcp://127.0.0.1:1"), 3)
    future = SimpleNamespace(result=lambda: (_ for _ in ()).throw(died))
    result = cluster.result_of(future, Submission("ana", Path("ana.ipynb")), assignment)
    assert (result.student, result.status, result.score) == ("ana", Status.GRADER_ERROR, 0)
    assert "4 Dask workers died while grading this submission" in result.message


def test_lane_slots_are_never_shared_while_held(tmp_path):
    first, second = slots.Slot(tmp_path), slots.Slot(tmp_path)
    assert (first.index, second.index) == (slots.FIRST, slots.FIRST + 1)
    # Held by another process: skipped; freed when that process ends, however it ends.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"from autograder.grading import slots; s = slots.Slot({str(tmp_path)!r}); "
            "print(s.index, flush=True); input()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == str(slots.FIRST + 2)
        assert slots.Slot(tmp_path).index == slots.FIRST + 3
        first.release()
        assert slots.Slot(tmp_path).index == slots.FIRST
    finally:
        holder.kill()
        holder.wait()
    assert slots.Slot(tmp_path).index == slots.FIRST + 2


def test_the_cli_ships_the_bundled_suite_the_grader_loads():
    from autograder.assignment import ASSIGNMENTS_DIR
    from autograder.cli import BUNDLED_SUITE

    assert BUNDLED_SUITE == ASSIGNMENTS_DIR / "rnn_intro"
    assert load_assignment().folder == BUNDLED_SUITE


def test_a_runs_cgroup_sweep_leaves_a_dask_lanes_cgroups_alone():
    """A local run removes its own lanes' cgroups (autograder-<its pid>-...) at its end, never those of a
    live Dask worker whose pid merely starts with the same digits."""
    from autograder.grading.lane import remove_cgroups

    run = os.getpid()
    own = own_cgroups()
    mine = [Path("/sys/fs/cgroup", c, path, f"autograder-{run}-0-1") for c, path in own.items()]
    dask_lane = [Path("/sys/fs/cgroup", c, path, f"autograder-{run}7-{slots.FIRST}-1") for c, path in own.items()]
    for folder in mine + dask_lane:
        folder.mkdir()
    try:
        remove_cgroups(run)
        assert [folder.exists() for folder in mine + dask_lane] == [False] * len(mine) + [True] * len(dask_lane)
    finally:
        for folder in mine + dask_lane:
            if folder.exists():
                folder.rmdir()
