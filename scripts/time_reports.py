"""Time the report writers for a class of 300 and print the pages' sizes.

    .venv/bin/python scripts/time_reports.py [STUDENTS]

Grades the bundled examples once, then writes the reports of a class made of STUDENTS (300 by
default) copies of those six results under new names, into a temporary folder: grades.csv and
results/*.json, the feedback pages and summary.html, and the terminal table, each timed.
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from autograder.assignment import load_assignment
from autograder.grading.discover import discover
from autograder.grading.grade import grade_batch
from autograder.reports.gradebook import terminal_table, write_reports
from autograder.reports.pages import write_pages

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    students = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    torch.set_num_threads(1)
    assignment = load_assignment()
    examples = grade_batch(discover(REPO / "examples" / "submissions"), assignment)
    results = [dataclasses.replace(examples[i % len(examples)], student=f"student_{i:03d}") for i in range(students)]
    with tempfile.TemporaryDirectory(prefix="autograder-timing-") as scratch:
        out = Path(scratch)
        timings = {}
        started = time.perf_counter()
        write_reports(results, assignment, out)
        timings["grades.csv + results/*.json"] = time.perf_counter() - started
        started = time.perf_counter()
        write_pages(results, assignment, out, "fr", {"grading time": "(not measured here)"})
        timings["feedback/*.html + summary.html"] = time.perf_counter() - started
        started = time.perf_counter()
        table = terminal_table(results, assignment)
        timings["terminal table"] = time.perf_counter() - started
        pages = sorted((out / "feedback").glob("*.html"), key=lambda p: p.stat().st_size)
        sizes = [p.stat().st_size for p in pages]
        summary = (out / "summary.html").stat().st_size
    print(f"{students} students (the {len(examples)} examples, repeated)")
    for what, seconds in timings.items():
        print(f"  {what:<32} {seconds:6.2f} s")
    low, high, median = min(sizes) / 1024, max(sizes) / 1024, statistics.median(sizes) / 1024
    print(f"  feedback pages: {low:.0f}-{high:.0f} KB, median {median:.0f} KB")
    print(f"  summary.html: {summary / 1024:.0f} KB")
    print(f"  terminal table: {len(table.splitlines())} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
