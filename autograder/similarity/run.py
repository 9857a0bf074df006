"""Run: copy detection over a grading run's output folder (`grade --similarity`, `autograder similarity`).

The students are the graded rows of ``grades.csv``; each one's notebook is read again where its
results file says it was graded from, the way the grader reads a submission (no link followed, the
size capped), and its cells parsed, never run. What everyone received is the reference notebook of
the suite: its code outside the solution regions (the lab's given code) and inside them (the
reference answers). ``similarity.html`` is written beside ``summary.html``, which links it.
"""

from __future__ import annotations

import csv
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

from autograder.assignment import Assignment
from autograder.errors import AutograderError
from autograder.reports.pages import SIMILARITY
from autograder.similarity.answers import Answer, answers, top_level
from autograder.similarity.compare import DEFAULT_THRESHOLD, Detection, Pair, SharedQuestion, detect

_SOLUTION_REGION = re.compile(r"^[ \t]*### BEGIN SOLUTION\n.*?^[ \t]*### END SOLUTION[^\n]*\n?", re.M | re.S)


class SimilarityError(AutograderError):
    """The output folder cannot be compared (not a run's output, no reference notebook)."""


@dataclass(frozen=True)
class Outcome:
    detection: Detection
    page: Path
    seconds: float
    not_read: tuple[tuple[str, str], ...]  # graded students whose notebook could not be read again, and why


def reference_code(assignment: Assignment) -> tuple[list[str], set[str]]:
    """The reference notebook's code cells, and the functions the lab itself gives (outside solutions)."""
    from autograder.grading.guard import reference_notebook
    from autograder.grading.load import load_notebook

    path = reference_notebook(assignment.folder, assignment.id)
    if path is None:
        raise SimilarityError(f"no reference notebook for {assignment.id} (solution.ipynb in {assignment.folder})")
    cells = [cell.source for cell in load_notebook(path.read_bytes()).cells]
    given = [_SOLUTION_REGION.sub("", source) for source in cells]
    functions, _ = top_level(given)
    return cells, set(functions)


def class_answers(out: Path, questions: list[str], given: set[str]) -> tuple[dict[str, dict[str, Answer]], list]:
    """Each graded student's answers, read from the notebook their results file names."""
    from autograder.grading.discover import read_submission
    from autograder.grading.load import NotebookLoadError, load_notebook
    from autograder.reports.gradebook import GRADEBOOK, RESULTS_DIR

    try:
        with (out / GRADEBOOK).open(newline="", encoding="utf-8") as stream:
            rows = [row for row in csv.DictReader(stream) if row.get("status") == "graded"]
    except OSError:
        raise SimilarityError(f"{out} is not an output folder of `autograder grade` (no {GRADEBOOK})") from None
    found: dict[str, dict[str, Answer]] = {}
    not_read = []
    for row in rows:
        student = row["student"]
        try:
            result = json.loads((out / RESULTS_DIR / f"{student}.json").read_text(encoding="utf-8"))
            notebook = load_notebook(read_submission(Path(result["source"])))
        except (OSError, ValueError, KeyError, TypeError, NotebookLoadError) as error:
            not_read.append((student, f"{type(error).__name__}: {error}"))
            continue
        found[student] = answers([cell.source for cell in notebook.cells], questions, given)
    return found, not_read


@dataclass(frozen=True)
class PairView:
    first: str
    second: str
    score: float
    questions_shared: int
    similarities: tuple[tuple[str, float], ...]
    questions: tuple[SharedQuestion, ...] = ()


@dataclass(frozen=True)
class PageView:
    """What ``similarity.html`` shows: plain values for the template."""

    assignment: str
    students: int
    threshold: float
    cutoff: int
    seconds: float
    flagged: tuple[PairView, ...]
    below: tuple[PairView, ...]  # the highest pairs under the threshold, for scale
    details: tuple[PairView, ...]  # the flagged pairs with their code side by side
    clusters: tuple[tuple[str, ...], ...]
    not_read: tuple[tuple[str, str], ...]


SHOWN_BELOW = 10


def page_view(assignment: Assignment, detection: Detection, seconds: float, not_read: list) -> PageView:
    def view(pair: Pair, details: bool = False) -> PairView:
        shared = tuple(detection.side_by_side(pair)) if details else ()
        return PairView(pair.first, pair.second, pair.score, pair.questions_shared, pair.similarities, shared)

    flagged = detection.flagged
    below = [pair for pair in detection.pairs if pair.score < detection.threshold][:SHOWN_BELOW]
    return PageView(
        assignment.id,
        detection.students,
        detection.threshold,
        detection.cutoff,
        seconds,
        tuple(view(pair) for pair in flagged),
        tuple(view(pair) for pair in below),
        tuple(view(pair, details=True) for pair in flagged),
        tuple(tuple(group) for group in detection.clusters),
        tuple(not_read),
    )


def run_similarity(out: Path, assignment: Assignment, threshold: float = DEFAULT_THRESHOLD) -> Outcome:
    """Compare the graded students of the run in ``out``; write ``similarity.html`` and link it from the summary."""
    from autograder.reports.gradebook import write_atomically
    from autograder.reports.pages import SUMMARY, link_similarity, render_similarity

    started = time.perf_counter()
    questions = [question.id for question in assignment.questions]
    reference, given = reference_code(assignment)
    found, not_read = class_answers(out, questions, given)
    detection = detect(found, questions, reference, threshold)
    view = page_view(assignment, detection, time.perf_counter() - started, not_read)
    page = out / SIMILARITY
    write_atomically(page, render_similarity(view))
    seconds = time.perf_counter() - started
    summary = out / SUMMARY
    if summary.is_file():
        text = summary.read_text(encoding="utf-8")
        flagged = len(detection.flagged)
        write_atomically(summary, link_similarity(text, flagged, detection.students, threshold, seconds))
    return Outcome(detection, page, seconds, tuple(not_read))
