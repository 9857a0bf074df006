"""Sandboxed lanes: time and memory per submission, one lane against two, in one run.

    .venv/bin/python benchmarks/lanes.py [--copies 40] [--notebook PATH]

Grades N copies of a notebook (the solution by default, every hidden test passing) with
`autograder grade -j 1` and then `-j 2`, and the same copies in-process with no sandbox as the
floor. While each run goes, a sampler reads every process of the run from /proc every 50 ms and
keeps, per lane, the peak (sampled every 0.5 s) of the summed proportional set size (PSS: shared pages split between
the processes that share them) of the lane's trusted process, its worker and the worker's
children. Prints one line per run, then a machine-readable last line.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def children(pid: int) -> list[int]:
    found = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(p) for p in (task / "children").read_text().split()]
    except OSError:
        pass
    return found


def tree(pid: int) -> list[int]:
    out, stack = [], [pid]
    while stack:
        current = stack.pop()
        out.append(current)
        stack += children(current)
    return out


def pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class Sampler(threading.Thread):
    """Peak PSS per lane: the grading process's children are the lanes (with -j 1, it is the lane)."""

    def __init__(self, root: int, jobs: int) -> None:
        super().__init__(daemon=True)
        self.root, self.jobs = root, jobs
        self.peaks: dict[int, int] = {}
        self.total_peak = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            lanes = [self.root] if self.jobs == 1 else [p for p in children(self.root) if _is_python(p)]
            total = 0
            for lane in lanes:
                members = (
                    tree(lane) if self.jobs > 1 else [self.root, *[p for c in children(self.root) for p in tree(c)]]
                )
                size = sum(pss_kb(p) for p in members)
                self.peaks[lane] = max(self.peaks.get(lane, 0), size)
                total += size
            if self.jobs > 1:
                total += pss_kb(self.root)
            self.total_peak = max(self.total_peak, total)
            time.sleep(0.5)  # smaps_rollup takes the mm lock: sampling often slows the forks it measures


def _is_python(pid: int) -> bool:
    try:
        return b"python" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def mean_seconds(out: Path) -> float:
    """The grader's own time per submission (results/*.json), start-up and reports excluded."""
    import json

    times = [json.loads(p.read_text())["execution_time"] for p in (out / "results").glob("*.json")]
    return sum(times) / len(times)


def grade(submissions: Path, out: Path, jobs: int) -> tuple[float, Sampler]:
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(BIN / "autograder"), "grade", str(submissions), "--out", str(out), "-j", str(jobs)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    sampler = Sampler(process.pid, jobs)
    sampler.start()
    _, stderr = process.communicate()
    sampler.stop.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"grading failed ({process.returncode}): {stderr[-500:]}")
    return time.perf_counter() - started, sampler


def floor(notebook: Path, copies: int) -> float:
    """The same grading in one warm process, no sandbox: notebook cells and hidden suites in-process."""
    code = (
        "import sys, time, torch; torch.set_num_threads(1)\n"
        "from pathlib import Path\n"
        "from autograder.discover import Submission\n"
        "from autograder.grade import grade_submission\n"
        "from autograder.suites import load_assignment\n"
        "a = load_assignment(); path = Path(sys.argv[1]); n = int(sys.argv[2])\n"
        "grade_submission(Submission('warm', path), a)\n"
        "t = time.perf_counter()\n"
        "for i in range(n): assert grade_submission(Submission(str(i), path), a).score == a.max_score\n"
        "print((time.perf_counter() - t) / n)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(notebook), str(copies)], capture_output=True, text=True, check=True
    )
    return float(result.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=40)
    parser.add_argument("--notebook", type=Path, default=REPO / "solutions" / "rnn_intro" / "rnn_intro.ipynb")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="autograder-bench-") as folder:
        submissions = Path(folder) / "submissions"
        submissions.mkdir()
        for i in range(args.copies):
            shutil.copy(args.notebook, submissions / f"student_{i:03d}.ipynb")
        per_floor = floor(args.notebook, min(args.copies, 10))
        print(f"floor (in-process, no sandbox, warm): {per_floor * 1000:.0f} ms per submission")
        line = {}
        for jobs in (1, 2):
            out = Path(folder) / f"out{jobs}"
            seconds, sampler = grade(submissions, out, jobs)
            per = seconds / args.copies
            own = mean_seconds(out)
            lanes = ", ".join(f"{kb / 1024:.0f}" for kb in sorted(sampler.peaks.values()))
            print(
                f"-j {jobs}: {seconds:.1f} s for {args.copies} ({per * 1000:.0f} ms per submission, "
                f"{60 / per:.0f} per minute, start-up and reports included; {own * 1000:.0f} ms each in its lane); "
                f"peak PSS per lane: {lanes} MB; "
                f"whole run: {sampler.total_peak / 1024:.0f} MB"
            )
            line[jobs] = (per, max(sampler.peaks.values()) / 1024, sampler.total_peak / 1024, own)
    print(
        f"per_submission_ms_j1={line[1][0] * 1000:.0f} per_submission_ms_j2={line[2][0] * 1000:.0f} "
        f"in_lane_ms_j1={line[1][3] * 1000:.0f} in_lane_ms_j2={line[2][3] * 1000:.0f} "
        f"floor_ms={per_floor * 1000:.0f} lane_peak_mb={max(line[1][1], line[2][1]):.0f} "
        f"run_peak_mb_j2={line[2][2]:.0f}"
    )


if __name__ == "__main__":
    main()
