"""The attacks on an nbgrader course, against stock nbgrader and against the kit's executor.

    .venv/bin/python scripts/nbgrader_attack_table.py

Makes two courses under a temporary folder with `autograder nbgrader init`: one with `--in-kernel`
(stock nbgrader: its own executor, the hidden suites in the student's kernel) and one with the
default (the kit's sandboxed executor). Each gets the same students from tests/nbgrader_attacks.py
(an honest one, the stubs, and each attack in its own notebook made from the released one), then
`nbgrader autograde` runs once per course. Prints a Markdown table: each student's score out of
26 in both courses, and what the attack reached (a secret printed in its graded notebook, a
marker file written in the course, bytes appended to the gradebook, a connection to the listener).

Both courses use nbgrader's and the kit's default limits. Takes about three minutes: stock
nbgrader starts a kernel per notebook, and the loop runs until a timeout stops it (nbgrader's
`Execute.timeout`, or the sandbox's cell limit).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO / "tests"))

from nbgrader_attacks import MARK, SECRETS, STUDENTS, WHAT, Listener, submit_all  # noqa: E402

from autograder.assignment import load_assignment  # noqa: E402
from autograder.nbgrader.course import gradebook, init_course, read_settings  # noqa: E402
from autograder.nbgrader.layout import CourseLayout  # noqa: E402


def run_course(work: Path, in_kernel: bool) -> tuple[dict[str, str], float]:
    """One course, autograded: what each student got and reached, and the autograde's seconds."""
    assignment = load_assignment()
    course = work / ("in-kernel" if in_kernel else "sandboxed") / "course"
    init_course(
        course,
        CourseLayout(REPO),
        assignment,
        exchange=course.parent / "exchange",
        course_id="attacks",
        in_kernel=in_kernel,
    )
    environment = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    for home in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        environment[home] = str(work / "jupyter" / home.lower())  # nothing read from or left in the user's own
    generate = [str(BIN / "nbgrader"), "generate_assignment", assignment.id]
    subprocess.run(generate, cwd=course, env=environment, check=True, capture_output=True)
    listener = Listener()
    submit_all(course, assignment.id, assignment.notebook, listener.port)
    started = time.perf_counter()
    try:
        autograde = [str(BIN / "nbgrader"), "autograde", assignment.id]
        subprocess.run(autograde, cwd=course, env=environment, capture_output=True, timeout=1800)
    finally:
        listener.close()
    seconds = time.perf_counter() - started
    marks = list(course.rglob(f"*{MARK}*"))
    gradebook_bytes = (course / "gradebook.db").read_bytes()
    outcome: dict[str, str] = {}
    try:
        with gradebook(read_settings(course)) as book:
            scores = {}
            for student in STUDENTS:
                try:
                    scores[student] = f"{book.find_submission(assignment.id, student).score:g}"
                except Exception as error:  # no submission in the gradebook: autograde failed for it
                    scores[student] = f"not graded ({type(error).__name__})"
    except Exception as error:  # the gradebook itself no longer opens
        scores = dict.fromkeys(STUDENTS, f"gradebook unreadable ({type(error).__name__})")
    for student in STUDENTS:
        reached = []
        graded = course / "autograded" / student / assignment.id / assignment.notebook
        text = graded.read_text(errors="replace") if graded.is_file() else ""
        reached += [f"printed `{secret}`" for secret in SECRETS if secret in text]
        if student == "mallory_writer":
            reached += [f"wrote {p.relative_to(course)}" for p in marks]
            if MARK.encode() in gradebook_bytes:
                reached.append("appended to gradebook.db")
        if student == "mallory_network" and listener.received:
            reached.append(f"connected ({len(listener.received)} connection(s))")
        outcome[student] = f"{scores[student]}" + (f" ({'; '.join(reached)})" if reached else "")
    return outcome, seconds


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="autograder-attacks-") as temporary:
        work = Path(temporary)
        stock, stock_seconds = run_course(work, in_kernel=True)
        kit, kit_seconds = run_course(work, in_kernel=False)
    print("| student | what it does | stock nbgrader (`--in-kernel`) | nbgrader with the kit's executor |")
    print("|---|---|---|---|")
    for student in STUDENTS:
        print(f"| {student} | {WHAT[student]} | {stock[student]} | {kit[student]} |")
    print(f"\nnbgrader autograde: stock {stock_seconds:.0f} s, with the kit's executor {kit_seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
