"""The kit as an instructor without root uses it: set up with Debian's Python, grading from the home folder.

The attacks run as this user too (tests/test_sandbox_attacks.py); here, what an honest class gets.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time

from tests.conftest import REPO, VENV_BIN
from tests.lms_fixtures import hostile_download
from tests.unprivileged import DEBIAN_PYTHON

EXAMPLES = REPO / "examples" / "submissions"
# What this machine cannot give a user without root: no second user id (no newuidmap, no root), and
# cgroups that only root may write (none delegated). Every other wall must hold for them too.
OFF_WITHOUT_ROOT = {"user", "cgroup"}


def test_the_readme_set_up_works_as_the_user_with_debians_python(instructor):
    setup = instructor.setup
    assert setup.returncode == 0, setup.stderr[-3000:]
    version = instructor.run(str(instructor.bin / "python"), "-c", "import sys; print(sys.version.split()[0])")
    debian = subprocess.run([str(DEBIAN_PYTHON), "--version"], capture_output=True, text=True)
    assert f"Python {version.stdout.strip()}" == debian.stdout.strip()  # the venv is Debian's Python (3.11.2 here)
    assert instructor.run(str(instructor.bin / "autograder"), "--version").returncode == 0
    torch = instructor.run(str(instructor.bin / "python"), "-c", "import torch; print(torch.__version__)")
    assert torch.stdout.strip() == "2.13.0+cpu"  # the pinned CPU build, never a CUDA one


def test_the_examples_grade_the_same_as_root_from_the_home_folder_beside_40_processes(instructor, tmp_path):
    """From the home folder (where the kit's clone is too), with 40 other processes of the user alive."""
    root = subprocess.run(
        [str(VENV_BIN / "autograder"), "grade", str(EXAMPLES), "--out", str(tmp_path / "root")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert root.returncode == 0, root.stderr[-2000:]
    submissions = instructor.home / "submissions"
    shutil.copytree(EXAMPLES, submissions)
    instructor.give(submissions)
    sleepers = instructor.popen("bash", "-c", "for i in $(seq 40); do sleep 600 & done; wait", start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while sum("sleep" in p for p in instructor.processes()) < 40 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sum("sleep" in p for p in instructor.processes()) >= 40
        graded = instructor.run(str(instructor.bin / "autograder"), "grade", "submissions")
    finally:
        sleepers.send_signal(signal.SIGKILL)
        instructor.kill_all()
        sleepers.wait()
    assert graded.returncode == 0, graded.stderr[-2000:]
    out = instructor.home / "grading-output"
    assert (out / "grades.csv").read_text() == (tmp_path / "root" / "grades.csv").read_text()
    for result in (out / "results").glob("*.json"):
        walls_off = {entry["name"] for entry in json.loads(result.read_text())["unprotected"]}
        assert walls_off <= OFF_WITHOUT_ROOT, (result.name, walls_off)
    assert "sandbox protections off" in graded.stderr  # and named, on the terminal as on the pages
    assert "sandbox protections off in this run" in (out / "summary.html").read_text().lower()


def test_require_sandbox_refuses_to_grade_without_every_wall(instructor, tmp_path):
    submissions = instructor.home / "one"
    submissions.mkdir()
    shutil.copy(EXAMPLES / "alice_martin.ipynb", submissions / "alice.ipynb")
    instructor.give(submissions)
    refused = instructor.run(str(instructor.bin / "autograder"), "grade", "one", "--out", "out", "--require-sandbox")
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines()[-1].startswith("autograder: --require-sandbox:")
    assert "unprivileged user id" in refused.stderr  # the wall it names
    assert not (instructor.home / "out").exists()  # nothing written


def test_the_user_runs_every_wall_but_the_user_id_and_cgroups(instructor, tmp_path):
    """The walls seen from inside, as the user: the student code's identity, view and reach."""
    probe = instructor.home / "probe"
    probe.mkdir()
    secret = instructor.home / "secret.txt"
    secret.write_text("instructor-secret")
    secret.chmod(0o600)
    instructor.give(secret)
    source = json.loads((EXAMPLES / "alice_martin.ipynb").read_text())
    hidden = [secret, instructor.kit / "autograder/assignments/rnn_intro/assignment.yaml"]
    hidden += [instructor.kit / "solutions/rnn_intro/rnn_intro.ipynb", instructor.kit / "examples"]
    cell = {
        "cell_type": "code",
        "metadata": {},
        "outputs": [],
        "execution_count": None,
        "source": (
            "import os, json, socket\n"
            "_seen = {'uid': os.getuid(), 'pid': os.getpid(), 'cwd': os.getcwd(), 'proc': sorted(p for p in "
            "os.listdir('/proc') if p.isdigit())}\n"
            f"for _path in {[str(path) for path in hidden]!r}:\n"
            "    try:\n        os.listdir(_path) if os.path.isdir(_path) else open(_path).read(1)\n"
            "        _seen[_path] = 'read'\n"
            "    except OSError as _e:\n        _seen[_path] = type(_e).__name__\n"
            "try:\n    socket.create_connection(('127.0.0.1', 22), timeout=1); _seen['net'] = 'connected'\n"
            "except OSError as _e:\n    _seen['net'] = type(_e).__name__\n"
            "raise RuntimeError('SEEN ' + json.dumps(_seen))\n"
        ),
    }
    source["cells"].insert(1, cell)
    (probe / "probe.ipynb").write_text(json.dumps(source))
    instructor.give(probe)
    graded = instructor.run(str(instructor.bin / "autograder"), "grade", "probe", "--out", "probe-out")
    assert graded.returncode == 0, graded.stderr[-2000:]
    result = json.loads((instructor.home / "probe-out" / "results" / "probe.json").read_text())
    assert result["score"] == 26  # the probe's error costs nothing: the cell defines nothing graded
    (failed,) = [c for c in result["cells"] if c["error"] and "SEEN" in c["error"]["message"]]
    seen = json.loads(failed["error"]["message"].split("SEEN ", 1)[1])
    assert seen["uid"] == instructor.uid  # the user's own id: no second one without root
    assert seen["pid"] == 1  # PID 1 of its own namespace...
    assert seen["proc"] == ["1"]  # ...which shows nothing of the grader or the user's other processes
    assert seen["cwd"] == "/tmp/work"  # a private scratch folder, not the home folder it was run from
    assert {seen[p] for p in seen if p.startswith("/")} <= {"PermissionError", "FileNotFoundError"}
    assert seen["net"] != "connected"


def test_a_hostile_lms_download_grades_the_same_as_the_user_and_nothing_lands_outside(instructor):
    """The zip's attacks (../, an absolute path into the user's home, a link, a bomb) as the user, from home:
    the grades root gets in tests/test_lms_archive.py, and nothing written outside the output folder."""
    target = instructor.home / "absolute.ipynb"
    downloads = instructor.home / "Téléchargements"
    downloads.mkdir()
    (downloads / "download.zip").write_bytes(hostile_download(target))
    instructor.give(downloads)

    def tree() -> set[str]:
        return {str(path) for path in instructor.home.rglob("*") if not {".venv", "kit"} & set(path.parts)}

    before = tree()
    try:
        graded = instructor.run(str(instructor.bin / "autograder"), "grade", "Téléchargements/download.zip")
    finally:
        instructor.kill_all()
    assert graded.returncode == 0, graded.stderr[-2000:]
    out = downloads / "grading-output"
    rows = (out / "grades.csv").read_text(encoding="utf-8").splitlines()[1:]
    assert [row.split(",")[:4] for row in rows] == [
        ["Alice Martin_100001", "26", "26", "graded"],
        ["Chloé Lefèvre_100005", "0", "26", "graded"],
    ]
    assert [path for path in tree() - before if path != str(out) and not path.startswith(f"{out}/")] == []
    assert not target.exists()
    assert sum("not unpacked" in line for line in graded.stderr.splitlines()) == 5
