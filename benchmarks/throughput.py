"""Throughput: `autograder grade -j 2` against nbgrader's `nbgrader autograde`, in one run.

    .venv/bin/python benchmarks/throughput.py                  # 40 submissions, both graders
    .venv/bin/python benchmarks/throughput.py --sizes 10,40,160  # and how our cost grows with the class
    .venv/bin/python benchmarks/throughput.py --make DIR --count 40   # only write the submissions

The submissions are the student notebook (same cells) filled in by a class: a quarter of them
right everywhere, the others with one to three of the typical mistakes the hidden suites know
(tests/wrong_answers/), and some questions left as the stub. They are graded:

1. by `autograder grade -j 2` (sandboxed lanes, everything a real run does, reports included);
2. by stock nbgrader 0.9's `nbgrader autograde`, in a temporary course made by `autograder nbgrader
   init --in-kernel` (the same hidden suites, run by each check cell in nbgrader's kernel);
3. by `nbgrader autograde` in a course made by `autograder nbgrader init` (its default: the kit's
   executor runs the cells in the sandbox, one lane for the whole run, and the hidden suites in
   nbgrader's process);
4. as the floor: the same cells and the same hidden tests, one submission after another in one
   warm process, with no sandbox, no worker and no reports.

Ours is timed four times (after one untimed run of two notebooks), two runs before nbgrader's and
two after, since this VM's speed drifts within minutes, and the median is kept.
The per-student totals of 1, 2 and 3 must agree (to 0.01 point), else the script exits 1. It prints
submissions per minute for each grader and the ratios (ours over stock nbgrader; nbgrader with the
kit's executor over stock nbgrader), the floor, our overhead over the floor, and the peak memory of
our run; with --sizes, our time per submission at each size. The last two lines are machine-readable:

    nbgrader_executor_ratio=<nbgrader with the kit's executor / stock nbgrader>
    throughput_ratio=<ours/nbgrader> overhead_ms=<per submission> peak_rss_mb=<n>

Overhead is our wall time per submission (start-up and reports included) minus the floor's time per
submission; it is printed in core time too (wall time times lanes, per submission, minus the
floor). Peak memory is the highest sum, over
every process of our run, of the proportional set size (shared pages split between the processes
that share them; the sum of plain RSS would count torch's pages once per forked process).
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
EXERCISE = REPO / "exercises" / "rnn_intro" / "rnn_intro.ipynb"


def _module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- the class -----------------------------------------------------------------------------------


def make_submissions(folder: Path, count: int, seed: int = 7) -> list[str]:
    """``count`` notebooks ``<student>.ipynb`` in ``folder``; returns the students' names."""
    return _module(REPO / "scripts" / "make_examples.py", "make_examples").mixed_class(folder, count, seed)


# -- measuring -----------------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(p) for p in (task / "children").read_text().split()]
    except OSError:
        pass
    return found


def _tree(pid: int) -> list[int]:
    out, stack = [], [pid]
    while stack:
        current = stack.pop()
        out.append(current)
        stack += _children(current)
    return out


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class PeakMemory(threading.Thread):
    """The highest summed PSS of a process and all its descendants, sampled every half second."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.peak_kb = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak_kb = max(self.peak_kb, sum(_pss_kb(p) for p in _tree(self.root)))
            self.stop.wait(0.5)  # smaps_rollup takes each process's mm lock: sampling often slows forks


def run_measured(command: list[str], cwd: Path | None = None) -> tuple[float, int, str]:
    """Wall seconds, peak memory (MB) and stderr of ``command``, which must succeed."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    sampler = PeakMemory(process.pid)
    sampler.start()
    _, stderr = process.communicate()
    seconds = time.perf_counter() - started
    sampler.stop.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command[:3])} failed ({process.returncode}):\n{stderr[-2000:]}")
    return seconds, sampler.peak_kb // 1024, stderr


def ours(submissions: Path, out: Path, jobs: int) -> tuple[float, int, dict[str, float]]:
    """`autograder grade -j JOBS`: wall seconds, peak memory (MB), totals by student."""
    command = [str(BIN / "autograder"), "grade", str(submissions), "--out", str(out), "-j", str(jobs)]
    seconds, peak_mb, _ = run_measured(command)
    with (out / "grades.csv").open(encoding="utf-8", newline="") as handle:
        totals = {row["student"]: float(row["total"]) for row in csv.DictReader(handle)}
    return seconds, peak_mb, totals


def nbgrader(submissions: Path, students: list[str], work: Path, in_kernel: bool) -> tuple[float, dict[str, float]]:
    """`nbgrader autograde` on a fresh course made by `autograder nbgrader init`: seconds, totals.

    ``in_kernel``: stock nbgrader, its own executor and the hidden suites in the student's kernel (the
    peer we are measured against); else the course's default, the kit's sandboxed executor."""
    from autograder.assignment import load_assignment
    from autograder.nbgrader.course import gradebook, init_course, read_settings
    from autograder.nbgrader.layout import CourseLayout

    assignment = load_assignment()
    course = work / "course"
    init_course(
        course, CourseLayout(REPO), assignment, exchange=work / "exchange", course_id="throughput", in_kernel=in_kernel
    )
    for student in students:
        folder = course / "submitted" / student / assignment.id
        folder.mkdir(parents=True)
        shutil.copy(submissions / f"{student}.ipynb", folder / assignment.notebook)
    environment = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    generate = [str(BIN / "nbgrader"), "generate_assignment", assignment.id]  # the instructor's step before autograde
    made = subprocess.run(generate, cwd=course, env=environment, capture_output=True, text=True)
    if made.returncode != 0:
        raise SystemExit(f"nbgrader generate_assignment failed ({made.returncode}):\n{made.stderr[-2000:]}")
    started = time.perf_counter()
    result = subprocess.run(
        [str(BIN / "nbgrader"), "autograde", assignment.id], cwd=course, env=environment, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"nbgrader autograde failed ({result.returncode}):\n{result.stderr[-2000:]}")
    with gradebook(read_settings(course)) as book:
        totals = {s: float(book.find_submission(assignment.id, s).score) for s in students}
    return seconds, totals


FLOOR = """
import sys, time
from pathlib import Path
import torch
torch.set_num_threads(1)
from autograder.unsandboxed import grade_notebook
from autograder.grading.load import load_notebook
from autograder.assignment import load_assignment
from autograder.grading.suites import suite_session
assignment = load_assignment()
suite_session(assignment)
paths = sorted(Path(sys.argv[1]).glob("*.ipynb"))
grade_notebook("warm", load_notebook(paths[0].read_bytes()), assignment)
started = time.perf_counter()
for path in paths:
    grade_notebook(path.stem, load_notebook(path.read_bytes()), assignment)
print((time.perf_counter() - started) / len(paths))
"""


def floor(submissions: Path) -> float:
    """Seconds per submission with no isolation: each notebook's cells and the same hidden tests,
    one after another in one warm process (torch, pytest and the suites' session ready)."""
    result = subprocess.run([sys.executable, "-c", FLOOR, str(submissions)], capture_output=True, text=True, cwd=REPO)
    if result.returncode != 0:
        raise SystemExit(f"the floor run failed:\n{result.stderr[-2000:]}")
    return float(result.stdout.strip().splitlines()[-1])


def machine() -> str:
    import platform

    import torch

    lines = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((line.split(":", 1)[1].strip() for line in lines if "model name" in line), platform.processor())
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{len(os.sched_getaffinity(0))} cores ({model}), {memory_gb:.0f} GiB, Linux {platform.release()}, "
        f"Python {platform.python_version()}, torch {torch.__version__}"
    )


# -- the run -------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=40, help="submissions graded by both graders (default 40)")
    parser.add_argument("--sizes", default="", help="also time ours at these class sizes, e.g. 10,40,160")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="our lanes (default 2)")
    parser.add_argument(
        "--repeat",
        type=int,
        default=4,
        help="our timed runs of the class, half before nbgrader's and half after; median kept (default 4)",
    )
    parser.add_argument("--no-nbgrader", action="store_true", help="skip nbgrader (no ratio in the last line)")
    parser.add_argument("--make", type=Path, help="only write the submissions to this folder")
    args = parser.parse_args()
    sizes = sorted({int(n) for n in args.sizes.split(",") if n.strip()})
    if args.make:
        make_submissions(args.make, args.count)
        print(f"wrote {args.count} submissions to {args.make}")
        return 0

    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="autograder-throughput-") as temporary:
        work = Path(temporary)
        every = work / "all"
        students = make_submissions(every, max([args.count, *sizes]))
        right = sum(1 for number in range(len(students)) if number % 4 == 0)
        cells = len(nbformat.read(EXERCISE, as_version=4).cells)
        print(f"class: {len(students)} notebooks of {cells} cells, {right} right everywhere, the others with mistakes")

        def subset(count: int) -> Path:
            folder = work / f"class-{count}"
            if folder.exists():
                return folder
            folder.mkdir()
            for student in students[:count]:
                os.link(every / f"{student}.ipynb", folder / f"{student}.ipynb")
            return folder

        compared = subset(args.count)
        # One untimed run first: on this machine the kernel reclaims idle page cache (DAMON), and the
        # first run after a pause read torch's libraries from disk again (docs/performance.md).
        ours(subset(2), work / "warm-up", args.jobs)
        # This VM's speed drifts by 20% and more within minutes: half our runs are made before nbgrader's
        # and half after, so that both graders are timed across the same stretch of time.
        before = (args.repeat + 1) // 2 if not args.no_nbgrader else args.repeat
        runs = [ours(compared, work / f"ours-{args.count}-{n}", args.jobs) for n in range(before)]
        ratio = kit_ratio = nb_seconds = nb_totals = kit_seconds = kit_totals = None
        if not args.no_nbgrader:
            nb_seconds, nb_totals = nbgrader(compared, students[: args.count], work / "nbgrader", in_kernel=True)
            kit_seconds, kit_totals = nbgrader(compared, students[: args.count], work / "nbgrader-kit", in_kernel=False)
            runs += [ours(compared, work / f"ours-{args.count}-{n}", args.jobs) for n in range(before, args.repeat)]
        seconds = statistics.median(run[0] for run in runs)
        peak_mb = max(run[1] for run in runs)
        our_totals = runs[0][2]
        if any(run[2] != our_totals for run in runs):
            print("DISAGREE: our own runs gave different totals")
            return 1
        rate = 60 * args.count / seconds
        times = ", ".join(f"{run[0]:.1f}" for run in runs[:before])
        if len(runs) > before:
            times += " before nbgrader's run; " + ", ".join(f"{run[0]:.1f}" for run in runs[before:]) + " after"
        print(
            f"autograder grade -j {args.jobs}: {args.count} in {seconds:.1f} s = {rate:.1f}/min "
            f"({1000 * seconds / args.count:.0f} ms each), peak memory {peak_mb} MB "
            f"(median of {len(runs)} runs: {times})"
        )
        if nb_seconds is not None:
            nb_rate = 60 * args.count / nb_seconds
            ratio = rate / nb_rate
            print(
                f"nbgrader autograde: {args.count} in {nb_seconds:.1f} s = {nb_rate:.2f}/min "
                f"({nb_seconds / args.count:.2f} s each)"
            )
            kit_rate = 60 * args.count / kit_seconds
            kit_ratio = kit_rate / nb_rate
            print(
                f"nbgrader autograde with the kit's executor: {args.count} in {kit_seconds:.1f} s = {kit_rate:.1f}/min "
                f"({kit_seconds / args.count:.2f} s each)"
            )
            differences = {
                s: max(abs(our_totals[s] - nb_totals[s]), abs(our_totals[s] - kit_totals[s]))
                for s in students[: args.count]
            }
            disagree = {s: (our_totals[s], nb_totals[s], kit_totals[s]) for s, d in differences.items() if d > 0.01}
            print(
                f"totals agree in all three: {args.count - len(disagree)}/{args.count} students "
                f"(largest difference {max(differences.values()):.3f} point)"
            )
            if disagree:
                print(f"DISAGREE (ours, stock nbgrader, nbgrader with the kit's executor): {disagree}")
                return 1
            print(f"throughput ratio (ours / nbgrader): {ratio:.1f}")
            print(f"throughput ratio (nbgrader with the kit's executor / stock nbgrader): {kit_ratio:.1f}")
        floor_seconds = floor(compared)
        overhead_ms = 1000 * (seconds / args.count - floor_seconds)
        core_ms = 1000 * (seconds * args.jobs / args.count - floor_seconds)
        print(f"floor (one warm process, no isolation, no reports): {1000 * floor_seconds:.0f} ms per submission")
        print(
            f"overhead over the floor: {overhead_ms:.0f} ms per submission "
            f"(our wall time per submission with {args.jobs} lanes, start-up and reports included, minus the floor); "
            f"in core time (wall x lanes per submission, minus the floor): {core_ms:.0f} ms"
        )
        peak_for_line = peak_mb
        if sizes:
            print(f"how our time grows (-j {args.jobs}, start-up and reports included):")
            for count in sizes:
                folder = subset(count)
                size_seconds, size_peak, _ = ours(folder, work / f"ours-size-{count}", args.jobs)
                print(
                    f"  {count:4d} submissions: {size_seconds:6.1f} s, {1000 * size_seconds / count:4.0f} ms each, "
                    f"peak memory {size_peak} MB"
                )
                peak_for_line = max(peak_for_line, size_peak)
    ratio_text = f"{ratio:.1f}" if ratio is not None else "nan"
    print(f"nbgrader_executor_ratio={kit_ratio:.1f}" if ratio is not None else "nbgrader_executor_ratio=nan")
    print(f"throughput_ratio={ratio_text} overhead_ms={overhead_ms:.0f} peak_rss_mb={peak_for_line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
