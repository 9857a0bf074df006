"""What a run checks before it trusts its own results: the sandbox check, the snapshot of the trusted files,
``--require-sandbox``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import nbformat
import pytest
from conftest import LAYOUT, VENV_BIN

from autograder.assignment import ASSIGNMENTS_DIR
from autograder.grading import guard

ALICE = LAYOUT.root / "examples" / "submissions" / "alice_martin.ipynb"


def _grade(*arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(VENV_BIN / "autograder"), "grade", *arguments], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_a_snapshot_sees_a_file_changed_added_or_removed_even_with_its_old_times(tmp_path):
    (tmp_path / "sub").mkdir()
    kept, edited, removed = (tmp_path / "kept.py", tmp_path / "sub" / "edited.py", tmp_path / "removed.py")
    for path in (kept, edited, removed):
        path.write_text("x = 1\n")
    snapshot = guard.Snapshot([tmp_path, tmp_path / "sub"])
    assert snapshot.changes() == []
    times = edited.stat()
    edited.write_text("x = 2\n")  # same size, and its times put back as they were: the inode's ctime moves
    os.utime(edited, ns=(times.st_atime_ns, times.st_mtime_ns))
    (tmp_path / "sub" / "conftest.py").write_text("")
    removed.unlink()
    expected = [f"{removed} (removed)", f"{tmp_path / 'sub' / 'conftest.py'} (added)", f"{edited} (changed)"]
    assert snapshot.changes() == sorted(expected)
    with pytest.raises(guard.RunStopped, match="changed during grading"):
        snapshot.verify()


def test_the_snapshot_of_the_kits_code_covers_every_subpackage():
    """A run holds a snapshot of the kit's package: the worker's code (a fresh worker reads it from disk) included."""
    import autograder.grading.lane
    import autograder.protocol.wire
    import autograder.reports.pages
    import autograder.sandbox.worker

    files = guard.Snapshot([guard.KIT_PACKAGE]).files
    for module in (
        autograder,
        autograder.sandbox.worker,
        autograder.protocol.wire,
        autograder.grading.lane,
        autograder.reports.pages,
    ):
        assert str(Path(module.__file__).resolve()) in files, module.__name__
    assert guard.KIT_ROOT / "autograder" == guard.KIT_PACKAGE


def test_the_reference_is_the_suites_own_solution_else_the_kits(tmp_path, monkeypatch):
    assert guard.reference_notebook(ASSIGNMENTS_DIR / "rnn_intro", "rnn_intro") is not None
    suite = tmp_path / "suite"
    shutil.copytree(ASSIGNMENTS_DIR / "rnn_intro", suite, symlinks=True)
    own = suite / "solution.ipynb"
    if own.is_symlink() or own.exists():
        own.unlink()
    assert guard.reference_notebook(suite, "rnn_intro") == LAYOUT.solution_notebook  # the kit's, in its clone
    shutil.copy(LAYOUT.solution_notebook, own)
    assert guard.reference_notebook(suite, "rnn_intro") == own
    own.unlink()
    monkeypatch.setattr(guard, "KIT_ROOT", tmp_path / "not-a-clone")  # an installed kit without solutions/
    with pytest.raises(guard.RunStopped, match="--no-sandbox-check"):
        guard.canary_submission(suite, "rnn_intro")


def test_the_sandbox_check_stops_a_run_whose_limits_break_honest_code(tmp_path):
    """A limit too tight for the reference solution (one process: no call process can start) costs every
    student; the run stops before grading anyone, with one line naming what broke."""
    result = _grade(str(ALICE), "--out", str(tmp_path / "out"), "--processes", "1", cwd=tmp_path)
    assert result.returncode == 1
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("autograder: the sandbox check failed: the reference solution")
    assert "got 0/26" in line
    assert "nothing was graded" in line
    assert not (tmp_path / "out").exists()
    skipped = _grade(str(ALICE), "--out", str(tmp_path / "out"), "--processes", "1", "--no-sandbox-check", cwd=tmp_path)
    assert skipped.returncode == 0  # asked not to check: the class pays (alice gets 0 here)
    assert "alice_martin,0," in (tmp_path / "out" / "grades.csv").read_text()


def test_the_sandbox_check_names_a_wall_that_denies_what_the_reference_needs(tmp_path):
    """An instructor's own suite whose solution reads a file beside it: the sandbox hides the suite's folder
    from student code, so the solution fails there, and so would every student."""
    suite = tmp_path / "suite"
    shutil.copytree(ASSIGNMENTS_DIR / "rnn_intro", suite)
    (suite / "solution.ipynb").unlink(missing_ok=True)
    (suite / "data.txt").write_text("42")
    solution = nbformat.read(LAYOUT.solution_notebook, as_version=4)
    first = next(cell for cell in solution.cells if cell.cell_type == "code")
    first.source = f"DATA = open({str(suite / 'data.txt')!r}).read()\n" + first.source
    nbformat.write(solution, suite / "solution.ipynb")
    result = _grade(str(ALICE), "--out", str(tmp_path / "out"), "--suite", str(suite), cwd=tmp_path)
    assert result.returncode == 1
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("autograder: the sandbox check failed:")
    assert "failed" in line
    assert "PermissionError" in line or "FileNotFoundError" in line
    assert str(suite / "data.txt") in line
    assert not (tmp_path / "out").exists()


def test_a_suite_changed_during_the_run_stops_it(tmp_path):
    """A file added to the suites' folder while the class is graded (here by the test itself, as a submission
    could where no wall stands): the run stops with one line, writes nothing, and never collects it."""
    suite = tmp_path / "suite"
    shutil.copytree(ASSIGNMENTS_DIR / "rnn_intro", suite)
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    slow = nbformat.read(ALICE, as_version=4)
    slow.cells.insert(0, nbformat.v4.new_code_cell("import time\ntime.sleep(4)"))
    nbformat.write(slow, submissions / "a_slow.ipynb")
    for index in range(4):
        shutil.copy(ALICE, submissions / f"b_{index}.ipynb")
    pwned = tmp_path / "pwned"
    process = subprocess.Popen(
        [str(VENV_BIN / "autograder"), "grade", str(submissions), "--suite", str(suite), "-j", "1"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not _lane_started(process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.5)  # the reference solution graded, the slow student's cell sleeping
        (suite / "conftest.py").write_text(f"import pathlib\npathlib.Path({str(pwned)!r}).write_text('ran')\n")
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 1, stderr
    line = stderr.strip().splitlines()[-1]
    assert line.startswith("autograder: the hidden suites or the kit's code changed during grading:")
    assert f"{suite / 'conftest.py'} (added)" in line
    assert not pwned.exists()  # never collected
    assert not (tmp_path / "grading-output").exists()


def _lane_started(run: int) -> bool:
    """The run ``run`` (a pid) has a lane up: its zygote, the lane's keeper and its worker (all
    autograder.sandbox.worker, descendants of the run; another run on the machine does not count)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    count = 0
    for pid in parents:
        ancestor = parents.get(pid)
        while ancestor not in (None, 0, 1, run):
            ancestor = parents.get(ancestor)
        if ancestor == run:
            try:
                count += b"autograder.sandbox.worker" in Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
    return count >= 3


def test_the_summary_says_how_the_sandbox_check_went(tmp_path):
    result = _grade(str(ALICE), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    summary = (tmp_path / "out" / "summary.html").read_text()
    assert "the reference solution got 26/26 in" in summary
    assert json.loads((tmp_path / "out" / "results" / "alice_martin.json").read_text())["unprotected"] == []
    assert not (tmp_path / "out" / "results" / f"{guard.CANARY}.json").exists()
    assert sorted(p.name for p in (tmp_path / "out" / "results").iterdir()) == ["alice_martin.json"]
