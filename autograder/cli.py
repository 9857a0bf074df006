"""Command line: parse arguments into one options object per verb, run it, map failures to exit codes."""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shlex
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from autograder import __version__
from autograder.assignment import BUNDLED_SUITE, AssignmentError, load_assignment
from autograder.errors import AutograderError
from autograder.nbgrader.layout import CourseLayout

if TYPE_CHECKING:
    from autograder.grading.batch import Found
    from autograder.similarity.run import Outcome as SimilarityOutcome

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


def _parse(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """The arguments; an option no command knows is reported against the command it was given to, whose
    ``--help`` lists the right ones (argparse itself would send the user to the top-level help)."""
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        command = " ".join(part for part in (args.verb, getattr(args, "nbgrader_verb", None)) if part)
        raise UsageError(f"unrecognized arguments: {' '.join(unknown)} (see `autograder {command} --help`)")
    return args


@dataclass(frozen=True)
class ReleaseOptions:
    course_dir: Path
    check: bool


@dataclass(frozen=True)
class GradeOptions:
    submissions: Path  # a folder of submissions, or one notebook
    out: Path
    suite: Path | None  # None: the bundled suites
    jobs: int = 1
    limits: dict = field(default_factory=dict)  # SubmissionLimits fields set on the command line
    nbgrader_course: Path | None = None  # an nbgrader course whose gradebook receives the scores
    lang: str = "fr"  # the language of the students' feedback pages
    scheduler: str | None = None  # a Dask scheduler's address, or "local": grade on that cluster (cluster.py)
    require_sandbox: bool = False  # a missing sandbox protection stops the run
    sandbox_check: bool = True  # the reference solution is graded first, and must get every point
    student: str | None = None  # the student id of a single notebook (default: from its name or folder)
    similarity: float | None = None  # copy detection after grading, with this threshold (None: not run)


# The limits an instructor may override for one run: option, SubmissionLimits field, type, help.
LIMIT_OPTIONS = (
    ("--cell-seconds", "cell_seconds", float, "wall time of one notebook cell, in seconds"),
    ("--call-seconds", "call_seconds", float, "wall time of one call of a student function, in seconds"),
    ("--submission-seconds", "submission_seconds", float, "wall time of one whole submission, in seconds"),
    ("--memory-mb", "memory_mb", int, "memory a submission may allocate, in MB"),
    ("--processes", "processes", int, "processes a submission may run at once"),
    ("--file-size-mb", "file_size_mb", int, "largest file a submission may write, in MB"),
    ("--output-kb", "output_kb", int, "output kept per submission, in kB; the rest is dropped with a note"),
)


@dataclass(frozen=True)
class NbgraderInitOptions:
    course_dir: Path
    kit_dir: Path  # holds solutions/<assignment>/<assignment>.ipynb
    exchange: Path | None  # None: the exchange nbgrader already uses here
    course_id: str | None  # None: the course folder's name
    in_kernel: bool = False  # nbgrader's own executor: the hidden suites in the student's kernel


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="autograder", description="Exercises and automated grading for the PyTorch RNN lab.")
    parser.add_argument("--version", action="version", version=f"autograder {__version__}")
    verbs = parser.add_subparsers(dest="verb", metavar="COMMAND", parser_class=_Parser)
    verbs.required = True
    _add_release_verb(verbs)
    _add_grade_verb(verbs)
    _add_export_verb(verbs)
    _add_similarity_verb(verbs)
    _add_nbgrader_verbs(verbs)
    return parser


@dataclass(frozen=True)
class ExportOptions:
    out: Path  # a run's output folder
    to: str  # "moodle", "canvas" or "csv"
    worksheet: Path | None = None  # Moodle's offline grading worksheet
    gradebook: Path | None = None  # Canvas's gradebook export
    column: str | None = None  # the gradebook's column for the assignment
    scale: Decimal | None = None  # points on the LMS's scale (default: the LMS file's own maximum)
    lang: str = "fr"  # the language of Moodle's feedback comments


def _add_export_verb(verbs: argparse._SubParsersAction[_Parser]) -> None:
    export = verbs.add_parser(
        "export",
        help="put a run's grades into the file Moodle or Canvas imports, or a per-question CSV",
        description="Read a grading run's output folder and write into OUT_DIR/export/: for Moodle, the offline "
        "grading worksheet you downloaded with Grade and Feedback comments filled in, and a zip of the feedback pages "
        "for 'Upload multiple feedback files in a zip'; for Canvas, your gradebook export with the assignment's "
        "column filled in; with --to csv, one row per student and a column per question. Grades are scaled to the "
        "LMS's maximum (or --scale) and rounded to 2 decimals, half up. Moodle and Canvas need a run that graded "
        "their download (zip or folder) as it is.",
    )
    export.add_argument("out", type=Path, metavar="OUT_DIR", help="the output folder of `autograder grade`")
    export.add_argument("--to", required=True, choices=("moodle", "canvas", "csv"), help="what to write")
    export.add_argument(
        "--worksheet",
        type=Path,
        metavar="FILE",
        help="Moodle: the assignment's grading worksheet (View all submissions > Grading action > "
        "Download grading worksheet)",
    )
    export.add_argument(
        "--gradebook", type=Path, metavar="FILE", help="Canvas: your gradebook export (Grades > Export > CSV)"
    )
    export.add_argument(
        "--column",
        metavar="TITLE",
        help="Canvas: the assignment's column, 'Title (id)', its title or its id (default: the column whose "
        "title holds the assignment's id, or the only assignment)",
    )
    export.add_argument(
        "--scale",
        metavar="N",
        help="grades out of N (French grades: 20); default: the worksheet's maximum grade or the column's points "
        "possible, which N must then equal; with --to csv, adds a grade column out of N",
    )
    _add_lang(export, "the feedback comments written into Moodle's worksheet")


@dataclass(frozen=True)
class SimilarityOptions:
    out: Path  # a run's output folder
    suite: Path | None  # None: the bundled suites
    threshold: float


SIMILARITY_HELP = (
    "a pair of students is flagged when its score, the questions' worth of rare code they share, reaches N "
    "(default: {default:g})"
)


def _add_similarity_verb(verbs: argparse._SubParsersAction[_Parser]) -> None:
    from autograder.similarity import DEFAULT_THRESHOLD

    similarity = verbs.add_parser(
        "similarity",
        help="copy detection across the graded students of a run: similarity.html, linked from summary.html",
        description="Compare, question by question, the code of every graded student of a run (read again from "
        "their notebooks), after taking out what everyone received and what hides a copy (names, comments, "
        "strings, layout, cell order), weighing shared fragments by their rarity in the class. Writes "
        "OUT_DIR/similarity.html (for you only) and links it from summary.html. `grade --similarity` does it "
        "right after grading.",
    )
    similarity.add_argument("out", type=Path, metavar="OUT_DIR", help="the output folder of `autograder grade`")
    similarity.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        metavar="N",
        help=SIMILARITY_HELP.format(default=DEFAULT_THRESHOLD),
    )
    similarity.add_argument(
        "--suite",
        type=Path,
        metavar="DIR",
        help="the suite the run was graded with, whose solution.ipynb holds what every student received "
        "(default: the bundled suites)",
    )


def _similarity_options(args: argparse.Namespace) -> SimilarityOptions:
    out = args.out.resolve()
    if not out.is_dir():
        raise UsageError(f"no such output folder: {args.out}")
    suite = args.suite.resolve() if args.suite else None
    if suite is not None and not (suite / "assignment.yaml").is_file():
        raise UsageError(f"no assignment.yaml in {args.suite}")
    return SimilarityOptions(out, suite, _threshold(args.threshold, "--threshold"))


def _threshold(value: float, option: str) -> float:
    if not 0 < value < float("inf"):  # NaN compares false too
        raise UsageError(f"{option} wants a positive number, not {value:g}")
    return value


def run_similarity(options: SimilarityOptions) -> int:
    from autograder.similarity.run import run_similarity as compare

    outcome = compare(options.out, load_assignment(folder=options.suite), options.threshold)
    _print_similarity(outcome)
    return EXIT_OK


def _print_similarity(outcome: SimilarityOutcome) -> None:
    detection = outcome.detection
    flagged = detection.flagged
    print(
        f"copy detection: {len(flagged)} pair(s) of {detection.students} students at or above "
        f"{detection.threshold:g}, in {outcome.seconds:.2f} s; wrote {outcome.page}"
    )
    for pair in flagged[:20]:
        print(f"  {pair.score:5.2f}  {pair.first} and {pair.second} ({pair.questions_shared} question(s) shared)")
    if len(flagged) > 20:
        print(f"  and {len(flagged) - 20} more in {outcome.page.name}")
    for student, why in outcome.not_read:
        print(f"  not compared: {student} ({why})")


def _add_lang(parser: argparse.ArgumentParser, what: str) -> None:
    """``--lang``: the language of what students read (French by default)."""
    parser.add_argument("--lang", choices=("fr", "en"), default="fr", help=f"language of {what} (default: fr)")


def _export_options(args: argparse.Namespace) -> ExportOptions:
    out = args.out.resolve()
    if not out.is_dir():
        raise UsageError(f"no such output folder: {args.out}")
    needed = {"moodle": ("--worksheet", args.worksheet), "canvas": ("--gradebook", args.gradebook)}
    for to, (option, value) in needed.items():
        if args.to == to and value is None:
            raise UsageError(f"--to {to} needs {option} FILE")
        if args.to != to and value is not None:
            raise UsageError(f"{option} is for --to {to}")
    if args.column is not None and args.to != "canvas":
        raise UsageError("--column is for --to canvas")
    for value in (args.worksheet, args.gradebook):
        if value is not None and not value.is_file():
            raise UsageError(f"no such file: {value}")
    scale = None
    if args.scale is not None:
        try:
            scale = Decimal(args.scale.replace(",", "."))
        except ArithmeticError:
            scale = None
        if scale is None or not scale.is_finite() or scale <= 0:
            raise UsageError(f"--scale wants a positive number, not {args.scale!r}")
    return ExportOptions(out, args.to, args.worksheet, args.gradebook, args.column, scale, args.lang)


def run_export(options: ExportOptions) -> int:
    from autograder.lms import export

    if options.to == "moodle":
        assert options.worksheet is not None  # _export_options requires it
        report = export.export_moodle(options.out, options.worksheet, options.scale, options.lang)
    elif options.to == "canvas":
        assert options.gradebook is not None
        report = export.export_canvas(options.out, options.gradebook, options.column, options.scale)
    else:
        report = export.export_table(options.out, options.scale)
    for line in report.lines:
        print(line)
    return EXIT_OK


def _add_release_verb(verbs: argparse._SubParsersAction[_Parser]) -> None:
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


def _add_grade_verb(verbs: argparse._SubParsersAction[_Parser]) -> None:
    grade = verbs.add_parser(
        "grade",
        help="grade a folder of submissions (or one notebook) with the hidden test suites",
        description="Grade every student notebook under PATH: flat PATH/<student>.ipynb files, one folder per "
        "student, nbgrader's submitted/<student>/<assignment>/ folders, or a Moodle or Canvas download (its zip, "
        "unpacked safely into the output folder, or its folder; lms.json keeps who each student is there, for "
        "`autograder export`). Writes grades.csv, "
        "results/<student>.json, feedback/<student>.html and summary.html into the output folder and prints "
        "the class table.",
    )
    grade.add_argument(
        "path", type=Path, metavar="PATH", help="folder of submissions, a single notebook, or a Moodle or Canvas zip"
    )
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
        "-j",
        "--jobs",
        type=int,
        metavar="N",
        help=f"grade N submissions at a time, each in its own sandboxed lane (default: all cores, {_cores()} here)",
    )
    grade.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="grade on the Dask cluster whose scheduler is at ADDRESS (tcp://HOST:PORT), one sandboxed lane per "
        "Dask worker process; `local` starts a local Dask cluster of -j worker processes to try it out "
        f"(needs {DASK_INSTALL}); with a remote scheduler, -j is not used: the cluster's workers set the pace",
    )
    grade.add_argument(
        "--nbgrader-course",
        type=Path,
        metavar="DIR",
        help="also store each graded student's question scores in the gradebook of the nbgrader course in DIR "
        "(as autograded scores: `nbgrader export` and formgrader show them)",
    )
    _add_lang(grade, "the students' feedback pages")
    from autograder.similarity import DEFAULT_THRESHOLD

    grade.add_argument(
        "--similarity",
        action="store_true",
        help="after grading, compare the students' code for copies: similarity.html, linked from summary.html "
        "(`autograder similarity OUT_DIR` does it later)",
    )
    grade.add_argument(
        "--similarity-threshold",
        type=float,
        metavar="N",
        help=SIMILARITY_HELP.format(default=DEFAULT_THRESHOLD) + "; implies --similarity",
    )
    grade.add_argument(
        "--require-sandbox",
        action="store_true",
        help="stop (exit 1) instead of grading when any sandbox protection is off on this machine "
        "(by default grading goes on and every report names the protections that were off)",
    )
    grade.add_argument(
        "--no-sandbox-check",
        dest="sandbox_check",
        action="store_false",
        help="do not grade the reference solution first (by default it is graded in the same sandbox and limits "
        "before the class, and the run stops if it does not get every point)",
    )
    grade.add_argument(
        "--student",
        metavar="NAME",
        help="the student id of a single notebook given as PATH (default: the file's name, or for a file named "
        "after the assignment, rnn_intro.ipynb, its folder's name)",
    )
    defaults = _bundled_limits()
    limits = grade.add_argument_group(
        "limits",
        "override assignment.yaml's limits for this run (the defaults shown are the bundled suite's; "
        "with --suite, that suite's assignment.yaml sets them)",
    )
    for option, name, kind, text in LIMIT_OPTIONS:
        default = f" (default: {defaults[name]:g})" if name in defaults else ""
        limits.add_argument(option, dest=f"limit_{name}", type=kind, metavar="N", help=text + default)


DASK_INSTALL = "pip install 'autograder[dask]'"
# A Dask scheduler's address as `dask scheduler` prints it (a bare HOST:PORT means tcp://).
_SCHEDULER_ADDRESS = re.compile(r"^(?:(?:tcp|tls)://)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.\-_]*):(\d{1,5})$")


def scheduler_address(text: str) -> str:
    """``--scheduler``'s value, checked: ``local``, or a scheme-qualified address (``tcp://`` when none)."""
    if text == "local":
        return text
    match = _SCHEDULER_ADDRESS.match(text)
    if match is None or not 0 < int(match.group(1)) < 65536:
        raise UsageError(f"--scheduler wants tcp://HOST:PORT or local, not {text!r}")
    return text if "://" in text else f"tcp://{text}"


def require_dask() -> None:
    """Dask is an optional extra: without it, `--scheduler` says how to install it."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise UsageError(f"--scheduler needs Dask distributed, which is not installed: {DASK_INSTALL}") from None


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _add_nbgrader_verbs(verbs: argparse._SubParsersAction[_Parser]) -> None:
    nbgrader = verbs.add_parser(
        "nbgrader",
        help="run the assignment in an nbgrader course",
        description="Set up an nbgrader course whose `nbgrader autograde` gives the points `autograder grade` gives.",
    )
    commands = nbgrader.add_subparsers(dest="nbgrader_verb", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    init = commands.add_parser(
        "init",
        help="create or refresh an nbgrader course for the assignment",
        description="Write COURSE_DIR/nbgrader_config.py (course id, exchange, sqlite gradebook), "
        "COURSE_DIR/source/rnn_intro/rnn_intro.ipynb from the solution notebook with hidden test cells that call "
        "the hidden suites, and register the assignment in the gradebook. Running it again refreshes the source "
        "notebook and keeps the grades.",
    )
    init.add_argument("course_dir", type=Path, metavar="COURSE_DIR", help="the course folder (created if missing)")
    init.add_argument(
        "--exchange",
        type=Path,
        metavar="DIR",
        help="nbgrader's exchange folder, created (writable by everyone) if missing (default: the one nbgrader "
        "already uses here, from Jupyter's config folders or nbgrader's own default, which init never creates: "
        "it says how when it is missing)",
    )
    init.add_argument("--course-id", metavar="ID", help="nbgrader course id (default: the course folder's name)")
    init.add_argument(
        "--in-kernel",
        action="store_true",
        help="keep nbgrader's own executor: the hidden tests run in the student's kernel, without the sandbox "
        "(for machines where it cannot run; a notebook can then fool them)",
    )
    init.add_argument(
        "--from",
        dest="kit_dir",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="folder holding solutions/rnn_intro/rnn_intro.ipynb (default: the current folder)",
    )


def _grade_options(args: argparse.Namespace) -> GradeOptions:
    path = args.path
    if not path.exists() and not path.is_symlink():
        raise UsageError(f"no such file or folder: {path}")
    # A folder is followed to where it lies; a file keeps its own name and is never followed (a link given
    # as the one notebook to grade becomes its row, as a link in a folder does).
    path = path.resolve() if path.is_dir() else path.parent.resolve() / path.name
    out = args.out.resolve() if args.out else path.parent / "grading-output"
    if out.exists() and not out.is_dir():
        raise UsageError(f"output path exists and is not a folder: {args.out}")
    suite = args.suite.resolve() if args.suite else None
    if suite is not None and not (suite / "assignment.yaml").is_file():
        raise UsageError(f"no assignment.yaml in {args.suite}")
    jobs = _cores() if args.jobs is None else args.jobs
    if jobs < 1:
        raise UsageError(f"--jobs must be at least 1, not {jobs}")
    scheduler = scheduler_address(args.scheduler) if args.scheduler is not None else None
    if scheduler not in (None, "local") and args.jobs is not None:
        raise UsageError("-j/--jobs is for local lanes; on a Dask cluster each worker process grades in one lane")
    limits = {}
    for option, name, _, _ in LIMIT_OPTIONS:
        value = getattr(args, f"limit_{name}")
        if value is not None:
            if value <= 0:
                raise UsageError(f"{option} must be positive, not {value:g}")
            limits[name] = value
    if args.student is not None:
        if path.is_dir() or path.suffix.lower() == ".zip":
            kind = "a folder" if path.is_dir() else "a zip, whose entries name their students"
            raise UsageError(f"--student names the student of a single notebook; PATH is {kind}")
        if not args.student.strip() or "/" in args.student or args.student.startswith("."):
            raise UsageError(f"--student wants a plain name, not {args.student!r}")
    course = args.nbgrader_course.resolve() if args.nbgrader_course else None
    if course is not None and not (course / "nbgrader_config.py").is_file():
        raise UsageError(f"not an nbgrader course (no nbgrader_config.py): {args.nbgrader_course}")
    return GradeOptions(
        submissions=path,
        out=out,
        suite=suite,
        jobs=jobs,
        limits=limits,
        nbgrader_course=course,
        lang=args.lang,
        scheduler=scheduler,
        require_sandbox=args.require_sandbox,
        sandbox_check=args.sandbox_check,
        student=args.student,
        similarity=_grade_similarity(args),
    )


def _grade_similarity(args: argparse.Namespace) -> float | None:
    from autograder.similarity import DEFAULT_THRESHOLD

    if args.similarity_threshold is not None:
        return _threshold(args.similarity_threshold, "--similarity-threshold")
    return DEFAULT_THRESHOLD if args.similarity else None


def run_grade(options: GradeOptions) -> int:
    if options.scheduler is not None:
        require_dask()
    from autograder.grading import batch

    found = batch.find(options.submissions, options.out, options.suite, options.student)
    submissions = found.submissions
    if found.unpacked is not None:
        unpacked = found.unpacked
        print(f"unpacked {unpacked.files} file(s) of {options.submissions.name} into {unpacked.root}", file=sys.stderr)
        for skipped in unpacked.skipped:
            print(f"{options.submissions.name}: not unpacked: {skipped.name}: {skipped.reason}", file=sys.stderr)
    if not submissions:
        raise UsageError(f"no submissions in {options.submissions}")
    if found.lms:
        from autograder.lms.download import LMS_NAMES

        handed = sum(s.handin is not None for s in submissions)
        print(f"read as a {LMS_NAMES[found.lms]} download: {handed} participant(s)", file=sys.stderr)
    jobs = min(options.jobs, len(submissions))
    where = _where(options, jobs)
    print(f"grading {len(submissions)} submission(s) from {options.submissions} {where}", file=sys.stderr)
    if found.named_after_assignment:
        # A notebook named after the assignment, as every student's is: its name says nothing of whose it is.
        print(
            f"{options.submissions.name} is graded as student {submissions[0].student!r}, its folder's name "
            "(--student NAME gives another)",
            file=sys.stderr,
        )
    for submission in submissions:
        if submission.problem is None and submission.message:  # other notebooks beside nbgrader's
            print(f"{submission.student}: {submission.message}", file=sys.stderr)
    from autograder.sandbox.malloc import retain_freed_memory

    retain_freed_memory()  # before torch allocates: the lanes forked from this process inherit it
    run = batch.grade(
        found,
        path=options.submissions,
        out=options.out,
        jobs=jobs,
        limits=options.limits,
        lang=options.lang,
        scheduler=options.scheduler,
        require_sandbox=options.require_sandbox,
        sandbox_check=options.sandbox_check,
    )
    if run.unprotected:
        print(protection_warning(run.unprotected), file=sys.stderr)
    gradebook, summary = batch.write(
        run,
        options.out,
        submissions=options.submissions,
        lang=options.lang,
        jobs=options.jobs,
        scheduler=options.scheduler,
    )
    from autograder.reports.gradebook import terminal_table, use_color

    results = run.results
    print(terminal_table(results, run.assignment, color=use_color(sys.stdout)))
    print(f"\nwrote {gradebook} and {len(results)} result file(s) in {gradebook.parent / 'results'}")
    print(f"wrote {summary} and {len(results)} feedback page(s) in {summary.parent / 'feedback'}")
    if found.lms:
        _write_roster(found, options, run.assignment.id)
    if options.similarity is not None:
        from autograder.similarity.run import run_similarity as compare

        _print_similarity(compare(options.out, run.assignment, options.similarity))
    return EXIT_OK


def _write_roster(found: Found, options: GradeOptions, assignment: str) -> None:
    """lms.json beside the reports: who each student is in the LMS, for `autograder export`."""
    from autograder.lms.download import LMS_NAMES
    from autograder.lms.roster import Roster, member, write_roster

    members = tuple(member(s.student, s.handin) for s in found.submissions if s.handin is not None)
    skipped = tuple((s.name, s.reason) for s in found.unpacked.skipped) if found.unpacked else ()
    path = write_roster(options.out, Roster(found.lms, assignment, str(options.submissions), members, skipped))
    where = shlex.quote(str(options.out))
    target = "--worksheet WORKSHEET.csv" if found.lms == "moodle" else "--gradebook GRADEBOOK.csv"
    print(f"wrote {path}: each student's {LMS_NAMES[found.lms]} identity")
    print(f"  next: autograder export {where} --to {found.lms} {target}")


def _bundled_limits() -> dict[str, float]:
    """The bundled suite's limits, for ``grade --help`` (assignment.yaml only: no suites, no torch); {} if
    it cannot be read."""
    try:
        return vars(load_assignment(folder=BUNDLED_SUITE).limits)
    except AssignmentError:
        return {}


def _where(options: GradeOptions, jobs: int) -> str:
    if options.scheduler == "local":
        return f"on a local Dask cluster of {jobs} worker(s), one sandboxed lane each"
    if options.scheduler is not None:
        return f"on the Dask cluster at {options.scheduler}, one sandboxed lane per worker"
    return f"in {jobs} sandboxed lane(s)"


def protection_warning(names: list[str]) -> str:
    """One line naming the sandbox protections this machine could not give (no user namespaces, no Landlock, macOS)."""
    from autograder.reports.wording import PROTECTIONS

    return (
        "autograder: warning: sandbox protections off on this machine: "
        + "; ".join(PROTECTIONS.get(name, name) for name in names)
        + " (see summary.html; --require-sandbox refuses to grade without them)"
    )


def _release_options(args: argparse.Namespace) -> ReleaseOptions:
    course_dir = args.course_dir.resolve()
    if not course_dir.is_dir():
        raise UsageError(f"course folder not found: {args.course_dir}")
    return ReleaseOptions(course_dir=course_dir, check=args.check)


def run_release(options: ReleaseOptions) -> int:
    layout = CourseLayout(options.course_dir)
    if not layout.solution_notebook.is_file():
        raise UsageError(
            f"no solution notebook at {layout.relative(layout.solution_notebook)} in {layout.root} "
            "(run it in the kit's folder, or name that folder with --course-dir DIR)"
        )
    # Imported here: nbgrader and nbformat are slow to import, which `--help` should not pay.
    from autograder.nbgrader.release import check_release, write_release

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


def run_grade_into_nbgrader(options: GradeOptions) -> int:
    """`grade --nbgrader-course`: the course is checked before grading, written after the reports."""
    from autograder.nbgrader import course as nbgrader_course
    from autograder.reports.gradebook import GRADEBOOK

    assert options.nbgrader_course is not None  # main calls this only with --nbgrader-course
    assignment = load_assignment(folder=options.suite)
    settings = nbgrader_course.check_gradebook(options.nbgrader_course, assignment)
    code = run_grade(options)
    if code != EXIT_OK:
        return code
    written = nbgrader_course.write_scores(settings, options.out / GRADEBOOK, assignment)
    print(f"stored the scores of {len(written.students)} student(s) in the nbgrader gradebook {settings.db_url}")
    for student, status in written.skipped:
        print(f"  not stored: {student} ({status})")
    return EXIT_OK


def _nbgrader_init_options(args: argparse.Namespace) -> NbgraderInitOptions:
    course_dir = args.course_dir.resolve()
    if course_dir.exists() and not course_dir.is_dir():
        raise UsageError(f"course path exists and is not a folder: {args.course_dir}")
    kit_dir = args.kit_dir.resolve()
    if not CourseLayout(kit_dir).solution_notebook.is_file():
        raise UsageError(f"no solutions/ notebook in {args.kit_dir} (use --from DIR, the kit's folder)")
    exchange = args.exchange.resolve() if args.exchange else None
    if exchange is not None and exchange.exists() and not exchange.is_dir():
        raise UsageError(f"exchange path exists and is not a folder: {args.exchange}")
    return NbgraderInitOptions(course_dir, kit_dir, exchange, args.course_id, args.in_kernel)


def run_nbgrader_init(options: NbgraderInitOptions) -> int:
    # Imported here: nbgrader takes seconds to import, which `--help` should not pay.
    from autograder.nbgrader.course import init_course

    assignment = load_assignment()
    report = init_course(
        options.course_dir,
        CourseLayout(options.kit_dir),
        assignment,
        options.exchange,
        options.course_id,
        in_kernel=options.in_kernel,
    )
    settings = report.settings
    config = settings.root / "nbgrader_config.py"
    print(f"{'wrote' if report.config_written else 'kept (edited by hand)'} {config}")
    if report.executor_renamed:
        print(
            "  updated in it: the kit's executor is now autograder.nbgrader.executor (was autograder.nbgrader_executor)"
        )
    if report.executor_added:
        print("  added to it: nbgrader autograde through the kit's sandbox (autograder.nbgrader.executor)")
    if options.in_kernel:
        print(
            "  --in-kernel: nbgrader autograde runs the hidden tests in the student's kernel, with no sandbox: "
            "a notebook can patch them or read the course folder"
        )
    else:
        print("  nbgrader autograde grades through the kit's sandbox (autograder.nbgrader.executor)")
    print(f"  course id {settings.course_id}, gradebook {settings.db_url}")
    print(f"  exchange {settings.exchange}{' (created)' if report.exchange_created else ''}")
    if report.exchange_missing:
        # Never made unasked: it lies outside the course, and nbgrader wants it writable by everyone.
        where = shlex.quote(str(settings.exchange))
        print(
            f"  the exchange does not exist yet: create it with `mkdir -p {where} && chmod ugo+rw {where}` "
            "(as root on a shared server), or run init again with --exchange DIR to have it created"
        )
    print(f"wrote {report.source}")
    if report.kernel_problem:
        # Not fatal (the course is written), but nbgrader autograde would score every question 0.
        print(f"autograder: warning: {report.kernel_problem}: nbgrader autograde would give 0 points", file=sys.stderr)
        print("  (put the kit's venv bin folder first on PATH, see the README)", file=sys.stderr)
    print(f"registered {assignment.id}; next, in {settings.root}: nbgrader generate_assignment {assignment.id}")
    return EXIT_OK


def console_main() -> None:
    """The `autograder` command: :func:`main`, then out without Python's own teardown once every file
    is written and closed and the output flushed. With torch and pytest loaded, that
    teardown costs every `autograder grade` run time for nothing (docs/performance.md)."""
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # a closed pipe: nothing more can be said anyway
        pass
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parse(_parser(), argv)
        if args.verb == "grade":
            options = _grade_options(args)
            return run_grade_into_nbgrader(options) if options.nbgrader_course else run_grade(options)
        if args.verb == "nbgrader":
            return run_nbgrader_init(_nbgrader_init_options(args))
        if args.verb == "export":
            return run_export(_export_options(args))
        if args.verb == "similarity":
            return run_similarity(_similarity_options(args))
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
    except BrokenPipeError:  # the reader went away (`autograder ... | head`): nothing more to say
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
