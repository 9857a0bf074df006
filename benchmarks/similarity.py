"""Copy detection: `autograder similarity` on a graded class, against copydetect's own detector, in one run.

    .venv/bin/python benchmarks/similarity.py               # 300 students
    .venv/bin/python benchmarks/similarity.py --count 100

The class is tests/similarity_class.py's (independent students in their own styles, a few planted
copies), made with as many seeds as it takes to reach the count. It is graded once
(`autograder grade -j 2`); then, alternately, three times each:

1. ours: `autograder similarity OUT_DIR` (a new process: imports, reading every notebook again,
   parsing, fingerprinting, comparing, the page and the summary's link);
2. the peer: copydetect's ``CopyDetector`` (its command line's engine) on the same answers, written
   one file per student, all pairs compared, with its HTML report, in a new process.

Prints the medians and, last, one machine-readable line:

    similarity_s=<ours> copydetect_s=<peer> ratio=<ours / peer> students=<n> flagged=<pairs>
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

PEER = """
import sys
from copydetect import CopyDetector
detector = CopyDetector(
    test_dirs=[sys.argv[1]], extensions=["py"], display_t=0.5, silent=True, autoopen=False, out_file=sys.argv[2]
)
detector.run()
detector.generate_html_report(output_mode="save")
"""


def make(folder: Path, count: int) -> int:
    sys.path.insert(0, str(REPO / "tests"))
    from similarity_class import make_class

    made, seed = 0, 0
    while made < count:
        batch = folder.parent / f"seed-{seed}"
        make_class(batch, seed=seed)
        for notebook in sorted(batch.glob("*.ipynb")):
            if made < count:
                shutil.move(notebook, folder / f"s{seed:02d}_{notebook.name}")
                made += 1
        seed += 1
    return made


def answers_as_files(out: Path, target: Path) -> None:
    """Each graded student's answers, one .py file each, for the peer."""
    sys.path.insert(0, str(REPO))
    from autograder.assignment import load_assignment
    from autograder.similarity.run import class_answers, reference_code

    assignment = load_assignment()
    _, given = reference_code(assignment)
    found, _ = class_answers(out, [q.id for q in assignment.questions], given)
    target.mkdir()
    for student, theirs in found.items():
        text = "\n\n".join(answer.text for answer in theirs.values())
        (target / f"{student}.py").write_text(text, encoding="utf-8")


def timed(command: list[str], cwd: Path) -> float:
    started = time.monotonic()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300, help="students in the class (default: 300)")
    count = parser.parse_args().count
    with tempfile.TemporaryDirectory(prefix="autograder-similarity-bench-") as temporary:
        work = Path(temporary)
        folder = work / "class"
        folder.mkdir()
        made = make(folder, count)
        out = work / "out"
        timed([str(BIN / "autograder"), "grade", str(folder), "--out", str(out), "-j", "2"], work)
        files = work / "answers"
        answers_as_files(out, files)
        ours, peer = [], []
        for _ in range(3):
            ours.append(timed([str(BIN / "autograder"), "similarity", str(out)], work))
            peer.append(timed([sys.executable, "-c", PEER, str(files), str(work / "copydetect.html")], work))
        page = (out / "similarity.html").read_text(encoding="utf-8")
        flagged = page.count('<section class="pair"')
    ours_s, peer_s = statistics.median(ours), statistics.median(peer)
    print(f"{made} students, median of 3 (each in a new process):")
    print(f"  autograder similarity: {ours_s:.2f} s   runs {', '.join(f'{t:.2f}' for t in ours)}")
    print(f"  copydetect, all pairs: {peer_s:.2f} s   runs {', '.join(f'{t:.2f}' for t in peer)}")
    print(
        f"similarity_s={ours_s:.2f} copydetect_s={peer_s:.2f} ratio={ours_s / peer_s:.3f} "
        f"students={made} flagged={flagged}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
