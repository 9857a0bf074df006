"""Batch: one `autograder grade` run, from a folder of submissions to the written reports.

What the command line asks for, done in the order that makes a run fast: the lanes' zygote (or the
Dask cluster's lanes) started first, so it warms up while this process imports torch, pytest and the
suites with the garbage collector off, then freezes all of it; the suites collected once; the
trusted files held still; the reference solution graded first in the same lanes; each student's
page rendered as the result arrives; then the reports written. The command line (:mod:`autograder.cli`)
parses, calls :func:`find`, :func:`grade` and :func:`write`, and prints.

Trusted side: imports the rest of :mod:`autograder.grading` and :mod:`autograder.reports`, each only
when it is needed (finding the submissions costs no torch).
"""

from __future__ import annotations

import contextlib
import gc
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from autograder import __version__
from autograder.assignment import BUNDLED_SUITE, Assignment, load_assignment, with_limits
from autograder.errors import AutograderError
from autograder.grading.discover import Submission
from autograder.results import StudentResult

if TYPE_CHECKING:
    from autograder.grading.cluster import ClusterRun
    from autograder.grading.zygote import Zygote
    from autograder.lms.archive import Unpacked


@dataclass(frozen=True)
class Found:
    """The submissions under the path the command line named, and the suite that grades them."""

    submissions: list[Submission]
    suite: Path  # the folder holding assignment.yaml and the hidden tests
    named_after_assignment: bool  # one notebook given, named as every student's is: graded as its folder's
    unpacked: Unpacked | None = None  # a zip given: what of it was unpacked into the output folder, and where

    @property
    def lms(self) -> str:
        """The LMS whose download this is ("moodle", "canvas"), or ""."""
        return next((s.handin.participant.lms for s in self.submissions if s.handin is not None), "")


@dataclass
class Run:
    """A graded batch: the students' results (the reference solution's apart) and the reports made so far."""

    assignment: Assignment
    results: list[StudentResult]
    seconds: float  # the grading's wall time, imports and start-up excluded
    canary: StudentResult | None = None  # the reference solution's result (None with --no-sandbox-check)
    pages: dict[str, str] = field(default_factory=dict)  # each student's feedback page, rendered as it arrived
    texts: dict[str, str] = field(default_factory=dict)  # each student's results JSON, made as it arrived

    @property
    def unprotected(self) -> list[str]:
        """The sandbox protections that were off for some student."""
        return sorted({name for result in self.results for name in result.unprotected})


def find(path: Path, out: Path, suite: Path | None, student: str | None) -> Found:
    """The submissions under ``path`` (a folder, or one notebook), leaving out the output folder ``out``."""
    from autograder.grading.discover import discover  # light: an empty folder is reported at once

    suite = suite or BUNDLED_SUITE
    nbgrader_path = _nbgrader_path(suite)
    unpacked = None
    if is_archive(path):  # an LMS's "download all" zip: unpacked into the output folder, then read as a folder
        from autograder.lms.archive import unpack_download

        unpacked = unpack_download(path, out)
        path = unpacked.root
    submissions = discover(path, exclude=out, nbgrader_path=nbgrader_path, student=student)
    named = student is None and not path.is_dir() and path.name == nbgrader_path.rpartition("/")[2]
    return Found(submissions, suite, named, unpacked)


def is_archive(path: Path) -> bool:
    """A zip file given as the submissions: an LMS's download."""
    return path.suffix.lower() == ".zip" and path.is_file()


def _nbgrader_path(suite: Path) -> str:
    """``<assignment>/<notebook>``, where nbgrader's layout puts a student's notebook, read from the
    suite's assignment.yaml without importing the suites; "" if it cannot be read (the suites' own
    loading says why, later)."""
    import yaml

    try:
        raw = yaml.safe_load((suite / "assignment.yaml").read_text(encoding="utf-8"))
        return f"{raw['assignment']}/{raw['notebook']}"
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return ""


def grade(
    found: Found,
    *,
    path: Path,
    out: Path,
    jobs: int,
    limits: Mapping[str, float],
    lang: str,
    scheduler: str | None,
    require_sandbox: bool,
    sandbox_check: bool,
) -> Run:
    """Grade ``found`` in ``jobs`` local lanes, or on the Dask cluster at ``scheduler`` (``"local"``: one of
    ``jobs`` worker processes started here); ``path`` and ``out`` are hidden from the student code."""
    submissions = found.submissions
    hide: tuple[Path, ...] = (path if path.is_dir() else path.parent, out)
    with contextlib.ExitStack() as stack:
        cluster, zygote = _start_lanes(stack, found, scheduler, limits, hide, jobs)
        assignment = _load_and_hold(stack, found.suite, limits, collect=zygote is not None)
        from autograder.grading import guard
        from autograder.grading.grade import grade_batch

        graded = list(submissions)
        if sandbox_check and any(s.problem is None for s in submissions):  # first, in the same lanes
            reference = guard.canary_submission(assignment.folder, assignment.id)
            assert reference.path is not None  # the canary grades the reference solution's notebook
            graded.insert(0, reference)
            hide = (*hide, reference.path.resolve().parent)  # the solution's own folder, out of the students' sight
        started = time.monotonic()
        arrived = _Arrivals(assignment, lang, require_sandbox, _progress(len(submissions), started))
        if cluster is not None:
            results = cluster.grade(graded, assignment, arrived)
        else:
            results = grade_batch(graded, assignment, on_result=arrived, jobs=jobs, hide=hide, zygote=zygote)
        guard.verify_trusted_files()
    seconds = time.monotonic() - started
    results = [result for result in results if result.student != guard.CANARY]
    canary = arrived.canary[0] if arrived.canary else None
    return Run(assignment, results, seconds, canary, arrived.pages, arrived.texts)


def _start_lanes(
    stack: contextlib.ExitStack,
    found: Found,
    scheduler: str | None,
    limits: Mapping[str, float],
    hide: tuple[Path, ...],
    jobs: int,
) -> tuple[ClusterRun | None, Zygote | None]:
    """Asked first, so that they warm up while this process imports torch and the suites: the Dask
    cluster's lanes, or the zygote the local lanes' workers are forked from (none when nothing is gradable)."""
    if scheduler is not None:
        from autograder.grading.cluster import ClusterRun

        return stack.enter_context(ClusterRun(scheduler, found.suite, dict(limits), hide, jobs)), None
    if any(s.problem is None for s in found.submissions):
        from autograder.grading.zygote import Zygote

        # One warm interpreter, started now: it imports torch on one core while this process imports
        # torch, pytest and the suites on another.
        zygote = Zygote()
        stack.callback(zygote.close)  # grade_batch closes it; this is for a failure before
        return None, zygote
    return None, None


def _load_and_hold(stack: contextlib.ExitStack, suite: Path, limits: Mapping[str, float], collect: bool) -> Assignment:
    """The trusted side imported and the assignment loaded, then held still for the run (until ``stack`` closes)."""
    # Imported here: torch, pytest and the suites are slow to import, which `--help` should not pay.
    # Without garbage collection until they are imported and collected: a full collection ran again
    # and again over the hundreds of thousands of objects they make and keep (docs/performance.md).
    gc.disable()
    try:
        assignment = import_and_load(suite, limits, collect)
    finally:
        gc.freeze()  # all of it kept for the run: never scanned again, here or in the lanes forked from here
        gc.enable()
    from autograder.grading import guard
    from autograder.grading.suites import hold_session
    from autograder.reports.pages import load_templates

    load_templates()  # read now, like every module of the trusted side: the snapshot below covers them
    hold_session(assignment)  # collected once, before any submission runs; never again in this run
    stack.callback(hold_session, None)
    sys.dont_write_bytecode = True  # from here on the grader writes nothing into the kit's folders
    # What the trusted side read (the suites, the kit's code) must stay as it was, student after student.
    guard.hold(guard.Snapshot([assignment.folder, guard.KIT_PACKAGE]))
    stack.callback(guard.hold, None)
    return assignment


class _Arrivals:
    """What is done with each result as it arrives: the trusted files checked, the protections required,
    the reference solution checked and kept apart; for a student, the page and the results JSON made now
    (the main process is idle while the lanes grade, and the end of the run is shorter), the progress shown."""

    def __init__(
        self, assignment: Assignment, lang: str, require_sandbox: bool, progress: Callable[[object], None] | None
    ) -> None:
        from autograder.grading import guard
        from autograder.reports.gradebook import result_text
        from autograder.reports.pages import render_feedback

        self._guard, self._render, self._text = guard, render_feedback, result_text
        self.assignment, self.lang, self.require_sandbox, self.progress = assignment, lang, require_sandbox, progress
        self.canary: list[StudentResult] = []
        self.pages: dict[str, str] = {}
        self.texts: dict[str, str] = {}

    def __call__(self, result: StudentResult) -> None:
        guard = self._guard
        guard.verify_trusted_files()
        if self.require_sandbox:
            guard.check_protections(result)
        if result.student == guard.CANARY:
            guard.check_canary(result)
            self.canary.append(result)
            return
        with contextlib.suppress(Exception):  # done again at the end, which reports what fails there
            self.pages[result.student] = self._render(result, self.assignment, self.lang)
            self.texts[result.student] = self._text(result)
        if self.progress is not None:
            self.progress(result)


def import_and_load(suite: Path, limits: Mapping[str, float], collect: bool) -> Assignment:
    """torch, the grader and the assignment with ``limits`` set (its suites collected too if ``collect``)."""
    import torch

    import autograder.grading.grade  # noqa: F401  (pytest, the lanes: imported here, without collections)
    from autograder.grading.suites import suite_session

    # One thread: the lab's tensors are tiny, and torch's thread pool competing with other work
    # on the machine made some calls far slower (docs/performance.md).
    torch.set_num_threads(1)
    assignment = with_limits(load_assignment(folder=suite), limits)
    if collect:
        suite_session(assignment)  # configured and collected here; grade_batch finds it open
    return assignment


def _progress(total: int, started: float) -> Callable[[object], None] | None:
    """A progress bar on a terminal's stderr while the batch is graded; nothing in logs and pipes."""
    if not sys.stderr.isatty():
        return None
    done = 0

    def show(result: object) -> None:
        nonlocal done
        done += 1
        elapsed = time.monotonic() - started
        width = 30
        filled = width * done // total
        eta = f", about {elapsed / done * (total - done):.0f} s left" if done < total else ""
        bar = "#" * filled + "-" * (width - filled)
        end = "\n" if done == total else ""
        line = f"\r  [{bar}] {done}/{total} graded in {elapsed:.1f} s{eta}"
        print(f"{line:<78}", end=end, file=sys.stderr, flush=True)

    return show


def write(run: Run, out: Path, *, submissions: Path, lang: str, jobs: int, scheduler: str | None) -> tuple[Path, Path]:
    """The reports in ``out``: grades.csv and each results JSON, then the feedback pages in ``lang`` and
    summary.html, which tells the run's settings; their two main files."""
    from autograder.reports.gradebook import write_reports
    from autograder.reports.pages import write_pages

    try:
        gradebook = write_reports(run.results, run.assignment, out, texts=run.texts)
        told = settings(run, submissions=submissions, jobs=jobs, scheduler=scheduler, lang=lang)
        summary = write_pages(run.results, run.assignment, out, lang, told, rendered=run.pages)
    except OSError as error:
        raise AutograderError(f"cannot write reports to {out}: {error.strerror or error}") from None
    return gradebook, summary


def settings(run: Run, *, submissions: Path, jobs: int, scheduler: str | None, lang: str) -> dict[str, str]:
    """What the summary page tells about the run."""
    assignment = run.assignment
    limits = ", ".join(f"{name} {value:g}" for name, value in vars(assignment.limits).items())
    check = "off (--no-sandbox-check)"
    canary = run.canary
    if canary is not None:
        got = f"{canary.score:g}/{canary.max_score:g}"
        check = f"the reference solution got {got} in {canary.seconds:.1f} s, graded first in the same sandbox"
    return {
        "sandbox check": check,
        "graded at": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "grading time": f"{run.seconds:.1f} s",
        "sandboxed lanes": str(jobs) if scheduler is None else f"Dask cluster ({scheduler})",
        "submissions": str(submissions),
        "hidden suites": str(assignment.folder),
        "limits": limits,
        "feedback language": lang,
        "autograder": __version__,
    }
