"""Command line: parse arguments into one options object per verb, run it, map failures to exit codes."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from autograder import __version__
from autograder.course import CourseLayout
from autograder.errors import AutograderError

EXIT_OK = 0
EXIT_FAILED = 1  # the command ran and found a problem (for example a stale release)
EXIT_USAGE = 2  # wrong use: unknown option, missing folder or file
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report it


class UsageError(Exception):
    """Wrong use of the command line; reported in one line with exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but wrong use is one line on stderr (no usage dump) and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see `{self.prog} --help`)")


@dataclass(frozen=True)
class ReleaseOptions:
    course_dir: Path
    check: bool


@dataclass(frozen=True)
class GradeOptions:
    submissions: Path  # a folder of submissions, or one notebook
    out: Path
    suite: Path | None  # None: the bundled suites
    lang: str = "fr"  # the language of the students' feedback pages


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="autograder", description="Exercises and automated grading for the PyTorch RNN lab.")
    parser.add_argument("--version", action="version", version=f"autograder {__version__}")
    verbs = parser.add_subparsers(dest="verb", metavar="COMMAND", parser_class=_Parser)
    verbs.required = True

    release = verbs.add_parser(
        "release",
        help="regenerate the student notebook from the solution notebook",
        description="Write exercises/<assignment>/<assignment>.ipynb from solutions/<assignment>/<assignment>.ipynb "
        "with nbgrader's own preprocessors (solutions replaced by stubs, hidden tests and outputs removed).",
    )
    release.add_argument(
        "--course-dir",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="folder holding solutions/ and exercises/ (default: the current folder)",
    )
    release.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if the student notebook differs from a fresh release",
    )

    grade = verbs.add_parser(
        "grade",
        help="grade a folder of submissions (or one notebook) with the hidden test suites",
        description="Grade every student notebook under PATH: flat PATH/<student>.ipynb files, one folder per "
        "student, or nbgrader's submitted/<student>/<assignment>/ folders. Writes grades.csv, "
        "results/<student>.json, feedback/<student>.html and summary.html into the output folder and prints "
        "the class table.",
    )
    grade.add_argument("path", type=Path, metavar="PATH", help="folder of submissions, or a single notebook")
    grade.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="output folder (default: grading-output/ beside the submissions)",
    )
    grade.add_argument(
        "--suite",
        type=Path,
        metavar="DIR",
        help="folder holding assignment.yaml and the hidden tests (default: the suites bundled with autograder)",
    )
    grade.add_argument(
        "--lang",
        choices=("fr", "en"),
        default="fr",
        help="language of the students' feedback pages (default: fr)",
    )
    return parser


def _grade_options(args: argparse.Namespace) -> GradeOptions:
    path = args.path
    if not path.exists():
        raise UsageError(f"no such file or folder: {path}")
    path = path.resolve()
    out = args.out.resolve() if args.out else path.parent / "grading-output"
    if out.exists() and not out.is_dir():
        raise UsageError(f"output path exists and is not a folder: {args.out}")
    suite = args.suite.resolve() if args.suite else None
    if suite is not None and not (suite / "assignment.yaml").is_file():
        raise UsageError(f"no assignment.yaml in {args.suite}")
    return GradeOptions(submissions=path, out=out, suite=suite, lang=args.lang)


def run_grade(options: GradeOptions) -> int:
    # Imported here: torch, pytest and the suites take seconds to import, which `--help` should not pay.
    import torch

    from autograder.discover import discover
    from autograder.grade import grade_batch
    from autograder.pages import write_pages
    from autograder.reports import terminal_table, use_color, write_reports
    from autograder.suites import load_assignment

    # One thread: the lab's tensors are tiny, and torch's thread pool competing with other work
    # on the machine made some calls 10-100x slower when measured on 2 cores.
    torch.set_num_threads(1)
    assignment = load_assignment(folder=options.suite)
    submissions = discover(options.submissions, exclude=options.out)
    if not submissions:
        raise UsageError(f"no submissions in {options.submissions}")
    print(f"grading {len(submissions)} submission(s) from {options.submissions}", file=sys.stderr)
    started = time.perf_counter()
    results = grade_batch(submissions, assignment, on_result=_progress(len(submissions)))
    seconds = time.perf_counter() - started
    try:
        gradebook = write_reports(results, assignment, options.out)
        summary = write_pages(results, assignment, options.out, options.lang, _settings(options, assignment, seconds))
    except OSError as error:
        raise AutograderError(f"cannot write reports to {options.out}: {error.strerror or error}") from None
    print(terminal_table(results, assignment, color=use_color(sys.stdout)))
    print(f"\nwrote {gradebook} and {len(results)} result file(s) in {gradebook.parent / 'results'}")
    print(f"wrote {summary} and {len(results)} feedback page(s) in {summary.parent / 'feedback'}")
    return EXIT_OK


def _settings(options: GradeOptions, assignment, seconds: float) -> dict[str, str]:
    """What the summary page tells about the run."""
    limits = ", ".join(f"{name} {value:g}" for name, value in vars(assignment.limits).items())
    return {
        "graded at": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "grading time": f"{seconds:.1f} s",
        "submissions": str(options.submissions),
        "hidden suites": str(assignment.folder),
        "limits": limits,
        "feedback language": options.lang,
        "autograder": __version__,
    }


def _progress(total: int):
    """A one-line counter on a terminal's stderr while the batch is graded; nothing in logs and pipes."""
    if not sys.stderr.isatty():
        return None
    done = 0

    def show(result: object) -> None:
        nonlocal done
        done += 1
        end = "\n" if done == total else ""
        print(f"\r  {done}/{total} graded", end=end, file=sys.stderr, flush=True)

    return show


def _release_options(args: argparse.Namespace) -> ReleaseOptions:
    course_dir = args.course_dir.resolve()
    if not course_dir.is_dir():
        raise UsageError(f"course folder not found: {args.course_dir}")
    return ReleaseOptions(course_dir=course_dir, check=args.check)


def run_release(options: ReleaseOptions) -> int:
    layout = CourseLayout(options.course_dir)
    if not layout.solution_notebook.is_file():
        raise UsageError(f"no solution notebook at {layout.relative(layout.solution_notebook)}")
    # Imported here: nbgrader and nbformat take about 2 s to import, which `--help` should not pay.
    from autograder.release import check_release, write_release

    if options.check:
        result = check_release(layout)
        if result.up_to_date:
            print(result.reason)
            return EXIT_OK
        print(f"autograder: {result.reason}", file=sys.stderr)
        return EXIT_FAILED
    target = write_release(layout)
    print(f"wrote {layout.relative(target)}")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        if args.verb == "grade":
            return run_grade(_grade_options(args))
        return run_release(_release_options(args))
    except UsageError as error:
        print(f"autograder: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except AutograderError as error:
        print(f"autograder: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("\nautograder: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
