"""Dask: throughput of a class graded by 2 local lanes against 2 Dask workers, in one run.

    .venv/bin/python benchmarks/dask_throughput.py [--copies 80] [--notebook PATH]

Grades N copies of a notebook (the solution by default) with `autograder grade -j 2`, then starts a
`dask scheduler` and two `dask worker --nthreads 1` processes on 127.0.0.1 and grades the same copies
twice with `--scheduler`: first on fresh worker processes (they import the grader when the run's
plugin arrives), then again on the same, warm, processes. Each time is the whole command (start-up,
lanes starting, reports included), as an instructor waits for it. The scheduling overhead per task is
the extra lane time a submission costs on the cluster: (cluster wall − local wall) × 2 lanes / N.
Prints one line per run, then a machine-readable last line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def grade(submissions: Path, out: Path, *options: str) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        [str(BIN / "autograder"), "grade", str(submissions), "--out", str(out), *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"grading failed ({result.returncode}): {result.stderr[-500:]}")
    return seconds


def in_lane_seconds(out: Path) -> float:
    """The grader's own time per submission (results/*.json), the same work wherever the lane is."""
    times = [json.loads(p.read_text())["execution_time"] for p in (out / "results").glob("*.json")]
    return sum(times) / len(times)


@contextlib.contextmanager
def dask_cluster(folder: Path, workers: int):
    """A scheduler and ``workers`` one-thread workers (each with its nanny), as `dask` starts them."""
    address_file = folder / "scheduler.json"
    processes = []

    def start(*args: str | Path) -> None:
        processes.append(
            subprocess.Popen(
                [BIN / "dask", *args],
                cwd=folder,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )

    try:
        start("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", address_file)
        for number in range(workers):
            start(
                "worker",
                "--scheduler-file",
                str(address_file),
                "--nthreads",
                "1",
                "--host",
                "127.0.0.1",
                "--no-dashboard",
                "--local-directory",
                str(folder / f"worker{number}"),
            )
        from distributed import Client

        deadline = time.monotonic() + 60
        while not address_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(address_file.read_text())["address"]
        with Client(address, timeout=30, set_as_default=False) as client:
            client.wait_for_workers(workers, timeout=60)
        yield address
    finally:
        for process in reversed(processes):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in reversed(processes):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=80)
    parser.add_argument("--notebook", type=Path, default=REPO / "solutions" / "rnn_intro" / "rnn_intro.ipynb")
    args = parser.parse_args()
    n = args.copies
    with tempfile.TemporaryDirectory(prefix="autograder-dask-bench-") as temp:
        folder = Path(temp)
        submissions = folder / "submissions"
        submissions.mkdir()
        for i in range(n):
            shutil.copy(args.notebook, submissions / f"student_{i:03d}.ipynb")
        runs = {"local": grade(submissions, folder / "local", "-j", "2")}
        with dask_cluster(folder, workers=2) as address:
            runs["dask_cold"] = grade(submissions, folder / "dask_cold", "--scheduler", address)
            runs["dask_warm"] = grade(submissions, folder / "dask_warm", "--scheduler", address)
        lanes = {name: in_lane_seconds(folder / name) for name in runs}
        grades = {(folder / name / "grades.csv").read_bytes() for name in runs}
    if len(grades) != 1:
        raise SystemExit("the runs' grades.csv differ")
    labels = {
        "local": "-j 2 (2 local lanes)",
        "dask_cold": "--scheduler, 2 fresh Dask workers",
        "dask_warm": "--scheduler, the same 2 workers again",
    }
    for name, seconds in runs.items():
        print(
            f"{labels[name]}: {seconds:.1f} s for {n} ({n / seconds * 60:.0f} submissions per minute, "
            f"start-up and reports included; {lanes[name] * 1000:.0f} ms each in its lane)"
        )
    overhead = {name: (runs[name] - runs["local"]) * 2 / n for name in ("dask_cold", "dask_warm")}
    print(
        f"scheduling overhead per task (extra lane time on the cluster): {overhead['dask_cold'] * 1000:.0f} ms "
        f"on fresh workers, {overhead['dask_warm'] * 1000:.0f} ms on warm ones; grades.csv identical"
    )
    print(
        " ".join(f"{name}_per_min={n / seconds * 60:.1f}" for name, seconds in runs.items())
        + f" overhead_ms_cold={overhead['dask_cold'] * 1000:.0f} overhead_ms_warm={overhead['dask_warm'] * 1000:.0f}"
    )


if __name__ == "__main__":
    main()
