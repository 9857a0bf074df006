"""LMS: a class graded from Moodle's "Download all submissions" zip against the same notebooks as a folder.

    .venv/bin/python benchmarks/lms.py              # 40 submissions
    .venv/bin/python benchmarks/lms.py --count 200

The class is the one benchmarks/throughput.py makes (right answers, typical mistakes, stubs). It is
packed as Moodle packs a download (one ``<Full name>_<id>_assignsubmission_file/`` folder per
participant), then graded by `autograder grade -j 2` from the plain folder and from the zip,
alternately, three times each; the medians are kept. The two must give every student the same
total (else exit 1). Then `autograder export --to moodle` (worksheet and feedback-files zip) and
`--to csv` are timed on the zip's output, and the zip is unpacked alone, in this process. Prints the
times and, last, one machine-readable line:

    zip_ratio=<zip / folder wall time> unpack_ms=<unpacking alone> export_moodle_s=<n> export_csv_s=<n>
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _throughput():
    spec = importlib.util.spec_from_file_location("throughput", REPO / "benchmarks" / "throughput.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pack(folder: Path, archive: Path) -> dict[str, str]:
    """The class in ``folder`` (``<student>.ipynb``) as a Moodle download; student -> participant id."""
    ids = {}
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as handle:
        for number, notebook in enumerate(sorted(folder.glob("*.ipynb")), start=100001):
            name = notebook.stem.replace("_", " ").title()
            ids[notebook.stem] = str(number)
            handle.write(notebook, f"{name}_{number}_assignsubmission_file/rnn_intro.ipynb")
    return ids


def worksheet(ids: dict[str, str]) -> str:
    lines = ['Identifier,"Full name",Status,Grade,"Maximum grade","Last modified (grade)","Feedback comments"']
    for student, number in ids.items():
        name = student.replace("_", " ").title()
        lines.append(f'"Participant {number}","{name}","Submitted for grading",,20.00,-,')
    return "\ufeff" + "\n".join(lines) + "\n"


def timed(*args: str) -> float:
    started = time.monotonic()
    result = subprocess.run([str(BIN / "autograder"), *args], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"autograder {' '.join(args)} failed:\n{result.stderr[-2000:]}")
    return time.monotonic() - started


def totals(out: Path, key) -> dict[str, str]:
    with (out / "grades.csv").open(encoding="utf-8") as stream:
        return {key(row["student"]): row["total"] for row in csv.DictReader(stream)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=40, help="students in the class (default: 40)")
    count = parser.parse_args().count
    with tempfile.TemporaryDirectory(prefix="autograder-lms-bench-") as temporary:
        work = Path(temporary)
        folder = work / "class"
        folder.mkdir()
        _throughput().make_submissions(folder, count)
        archive = work / "L3-RNN-42.zip"
        ids = pack(folder, archive)
        (work / "Grades.csv").write_text(worksheet(ids), encoding="utf-8")
        timed("grade", str(folder), "--out", str(work / "warm"), "-j", "2")  # caches warm, untimed
        folder_times, zip_times = [], []
        for _ in range(3):
            folder_times.append(timed("grade", str(folder), "--out", str(work / "folder-out"), "-j", "2"))
            zip_times.append(timed("grade", str(archive), "--out", str(work / "zip-out"), "-j", "2"))
        by_id = {number: student for student, number in ids.items()}
        from_zip = totals(work / "zip-out", lambda student: by_id[student.rsplit("_", 1)[1]])
        if from_zip != totals(work / "folder-out", str):
            print("the zip and the folder gave different totals", file=sys.stderr)
            return 1
        export_moodle = timed(
            "export", str(work / "zip-out"), "--to", "moodle", "--worksheet", str(work / "Grades.csv")
        )
        export_csv = timed("export", str(work / "zip-out"), "--to", "csv", "--scale", "20")
        sys.path.insert(0, str(REPO))
        from autograder.lms.archive import unpack

        started = time.monotonic()
        unpack(archive, work / "unpacked")
        unpack_ms = (time.monotonic() - started) * 1000
    folder_s, zip_s = statistics.median(folder_times), statistics.median(zip_times)
    print(f"{count} submissions, autograder grade -j 2, median of 3:")
    print(f"  from the folder: {folder_s:.2f} s   runs {', '.join(f'{t:.2f}' for t in folder_times)}")
    print(f"  from the zip:    {zip_s:.2f} s   runs {', '.join(f'{t:.2f}' for t in zip_times)}")
    print(f"unpacking the zip alone: {unpack_ms:.0f} ms")
    print(f"export --to moodle (worksheet and feedback zip): {export_moodle:.2f} s; --to csv: {export_csv:.2f} s")
    print(
        f"zip_ratio={zip_s / folder_s:.3f} unpack_ms={unpack_ms:.0f} "
        f"export_moodle_s={export_moodle:.2f} export_csv_s={export_csv:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
