"""Forged frames on the worker's channel cost the grader a bounded memory (issue 18, point 4).

A notebook's code runs in the submission process, which holds the channel to the grader: it can
write anything there. Two notebooks do, each beside an honest copy, graded in one lane (the lane
is then the grader's own process, whose peak memory is read from /proc while it runs):

- a cell that sends a cell record of 45 MB of JSON (``[[],[],...]``, the costliest JSON per byte:
  it became 1 GB of Python objects when frames were only capped at 300 MiB): refused from its
  header, the cell is recorded as failed and the rest of the notebook graded;
- a function that, at each call, sends a reply of JSON exactly at the reply's cap
  (``wire.REPLY.json_bytes``), read and refused by the codec: the question scores 0;
- a cell that forges a record at every per-field cap for itself and each of the 1,000 cells after
  it: the grader keeps 2 million characters of cell text per submission in all.

The grader's peak memory grading them stays within 100 MB of its peak grading the honest copy
alone (the stated bound of one lane: 47 MB of objects for a frame's JSON at the cap, plus at most
64 MiB of tensor data). The forging code is bounded: it writes at most 45 MB and stops when the
grader stops reading.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from pathlib import Path

import nbformat
import pytest

from tests.conftest import REPO, TOTAL_POINTS, VENV_BIN

HONEST = REPO / "examples" / "submissions" / "alice_martin.ipynb"

FORGE = """
import os, stat, struct
def _channel():
    for fd in range(3, 256):
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                return fd
        except OSError:
            pass
def _forge(json_bytes):
    body = b"[" + b"[]," * ((json_bytes - 2) // 3)
    body = body[:-1] + b"]"
    fd = _channel()
    try:
        view = memoryview(struct.pack("<QI", len(body), 0) + body)
        while view:
            view = view[os.write(fd, view):]
    except (OSError, TypeError):
        pass
"""

FORGED_CELL = "_forge(45 * 2**20)  # a cell record of 45 MB\n"

FORGED_REPLY = """
from autograder.protocol import wire
def count_recurrent_parameters(kind, input_size, hidden_size, num_layers=1, bidirectional=False):
    _forge(wire.REPLY.json_bytes)  # a reply of the costliest JSON, at the cap
    return 0
"""


# The last cell of the notebook forges, for itself and the 1,000 cells after it, records with every field at
# the wire's per-field caps (80,000 characters each), then "ready", then serves the tests itself with the
# worker's own loop: without a budget across cells the grader kept 80 MB of them.
FORGED_RECORDS = """
import sys
from autograder.protocol import wire
from autograder.sandbox.isolation import ScratchFiles
_record = {
    "ok": False,
    "output": "o" * 64_000,
    "limit": "",
    "error": {"type": "E" * 200, "message": "m" * 2000, "frames": [[1, 1, "f" * 200, "t" * 500]] * 16,
              "types": ["T" * 200] * 16},
}
_channel_fd = _channel()
for _cell in range(@FIRST@, @FIRST@ + @COUNT@ + 1):
    wire.send(_channel_fd, {"op": "cell", "run": {**_record, "cell": _cell}})
wire.send(_channel_fd, {"op": "ready", "kinds": None})
sys.modules["__main__"]._watch_calls(_channel_fd, globals(), 10.0, ScratchFiles(["/tmp"]))
"""
FORGED_COUNT = 1000


def _forged_records() -> nbformat.NotebookNode:
    notebook = nbformat.read(HONEST, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(FORGE))
    first = len(notebook.cells) + 1
    source = FORGED_RECORDS.replace("@FIRST@", str(first)).replace("@COUNT@", str(FORGED_COUNT))
    notebook.cells.append(nbformat.v4.new_code_cell(source))
    notebook.cells += [nbformat.v4.new_code_cell("pass") for _ in range(FORGED_COUNT)]
    return notebook


def _notebook(after: str, *sources: str) -> nbformat.NotebookNode:
    notebook = nbformat.read(HONEST, as_version=4)
    ids = [cell.metadata.get("nbgrader", {}).get("grade_id") for cell in notebook.cells]
    position = ids.index(after) + 1
    for offset, source in enumerate(sources):
        notebook.cells.insert(position + offset, nbformat.v4.new_code_cell(source))
    return notebook


def _grade(submissions: Path, out: Path) -> tuple[subprocess.CompletedProcess, int]:
    """``autograder grade -j 1`` (the lane in the grader's process); its peak resident memory, in kB."""
    command = [str(VENV_BIN / "autograder"), "grade", str(submissions), "--out", str(out), "-j", "1"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]

    def watch() -> None:  # VmHWM only grows: its last reading is the peak
        status = Path(f"/proc/{process.pid}/status")
        while process.poll() is None:
            try:
                line = next(x for x in status.read_text().splitlines() if x.startswith("VmHWM:"))
                peak[0] = max(peak[0], int(line.split()[1]))
            except (OSError, StopIteration, ValueError):
                pass
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        stdout, stderr = process.communicate(timeout=240)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    watcher.join()
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr), peak[0]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("frames")
    honest_only, attacks = root / "honest", root / "attacks"
    honest_only.mkdir()
    attacks.mkdir()
    shutil.copy(HONEST, honest_only / "alice_martin.ipynb")
    shutil.copy(HONEST, attacks / "alice_martin.ipynb")
    nbformat.write(_notebook("rnn_cell_forward_solution", FORGE, FORGED_CELL), attacks / "forged_cell.ipynb")
    nbformat.write(
        _notebook("count_recurrent_parameters_solution", FORGE, FORGED_REPLY), attacks / "forged_reply.ipynb"
    )
    nbformat.write(_forged_records(), attacks / "forged_records.ipynb")
    alone, alone_peak = _grade(honest_only, root / "out-honest")
    run, peak = _grade(attacks, root / "out")
    results = {p.stem: json.loads(p.read_text()) for p in (root / "out" / "results").glob("*.json")}
    return {"alone": alone, "alone_peak": alone_peak, "run": run, "peak": peak, "results": results}


def test_the_batch_completes_and_the_honest_copy_keeps_every_point(graded):
    assert graded["alone"].returncode == 0, graded["alone"].stderr[-2000:]
    assert graded["run"].returncode == 0, graded["run"].stderr[-2000:]
    assert set(graded["results"]) == {"alice_martin", "forged_cell", "forged_reply", "forged_records"}
    assert graded["results"]["alice_martin"]["score"] == TOTAL_POINTS


def test_the_grader_memory_stays_within_the_frame_caps(graded):
    growth_mb = (graded["peak"] - graded["alone_peak"]) / 1024
    assert graded["alone_peak"] > 0
    assert growth_mb < 100, f"the grader's peak grew by {growth_mb:.0f} MB"


def test_a_forged_cell_record_costs_only_its_cell(graded):
    result = graded["results"]["forged_cell"]
    failed = [cell for cell in result["cells"] if not cell["ok"]]
    assert len(failed) == 1  # the forging cell; the notebook's other cells ran again without it
    assert result["score"] == TOTAL_POINTS  # its functions all graded


def test_a_forged_reply_is_the_students_unreadable_answer(graded):
    result = graded["results"]["forged_reply"]
    scores = {q["id"]: q["score"] for q in result["questions"]}
    assert scores["count_recurrent_parameters"] == 0
    assert result["status"] == "graded"


def test_forged_records_for_every_cell_are_kept_within_the_submissions_budget(graded):
    """1,001 records of 80,000 characters each: the grader keeps 2 million characters of them in all."""
    result = graded["results"]["forged_records"]
    assert result["score"] == TOTAL_POINTS  # the forger served the tests honestly
    forged = [cell for cell in result["cells"] if cell["error"] and cell["error"]["type"].startswith("EEEE")]
    assert len(forged) > 0
