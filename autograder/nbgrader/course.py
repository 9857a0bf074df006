"""nbgrader bridge, instructor side: an nbgrader course for the assignment, and our scores in its gradebook.

``init_course`` makes (or refreshes) a course folder that nbgrader's own CLI runs as it is: its
``nbgrader_config.py``, the source notebook under ``source/<assignment>/`` and the assignment in
the course's sqlite gradebook. The source notebook is the solution notebook plus, in each check
cell, a hidden test region that hands the question to the hidden pytest suites
(``autograder.nbgrader.cell``), so that ``nbgrader autograde`` gives the points ``autograder
grade`` gives. ``write_scores`` stores the rows of our ``grades.csv`` in the course's gradebook as
autograded scores, where ``nbgrader export`` and formgrader read them.
"""

from __future__ import annotations

import ast
import copy
import csv
import hashlib
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
from nbformat import NotebookNode

from autograder.assignment import Assignment
from autograder.errors import AutograderError, one_line
from autograder.nbgrader.layout import CourseLayout
from autograder.nbgrader.release import CODE_STUB, read_solution, release_notebook, render_notebook

if TYPE_CHECKING:
    from nbgrader.api import Gradebook
    from traitlets.config import Config

CONFIG_FILE = "nbgrader_config.py"
GRADEBOOK_FILE = "gradebook.db"
_CHECKSUM_PREFIX = "# autograder-checksum: "

# The hidden test region put around a check cell's visible code in the course's source notebook.
# nbgrader removes both regions from the student release, leaving the visible code exactly as it
# was. In autograde the visible code sits inside a string and does not run (as in `autograder
# grade`, which never runs check cells): a failed visible assertion would be an error, and nbgrader
# scores a cell with an error 0, whatever partial credit the hidden suite gave. Students read these
# lines in their feedback, hence French.
_BEGIN = "### BEGIN HIDDEN TESTS"
_END = "### END HIDDEN TESTS"
_HEAD = (
    _BEGIN,
    "# Correction : les tests cachés d'autograder notent cette question, comme `autograder grade`.",
    "# La vérification visible ci-dessous n'est pas exécutée ici (elle est gardée dans cette chaîne).",
    "from autograder.nbgrader.cell import hidden_tests as _tests_caches",
    "_verification_visible = r{quote}",
    _END,
)
_TAIL = (_BEGIN, "{quote}", "_tests_caches({question!r}, globals())", _END)


class CourseError(AutograderError):
    """An nbgrader course folder that cannot be set up or written to."""


@dataclass(frozen=True)
class CourseSettings:
    """What ``nbgrader_config.py`` says about a course, as far as the kit needs it."""

    root: Path
    course_id: str
    exchange: Path
    db_url: str


@dataclass(frozen=True)
class InitReport:
    """What ``init_course`` did, for the instructor to read."""

    settings: CourseSettings
    config_written: bool  # False: an nbgrader_config.py edited by hand was kept as it was
    source: Path
    exchange_created: bool
    kernel_problem: str  # why nbgrader's python3 kernel cannot run the hidden tests here ("" when it can)
    executor_added: bool = False  # the sandboxed executor appended to a config edited by hand
    executor_renamed: bool = False  # an edited config's import of the executor moved to its module's new name
    exchange_missing: bool = False  # not named with --exchange and not there: left for the instructor to create


@dataclass(frozen=True)
class ScoresWritten:
    students: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]  # (student, status) rows that were not graded, left alone


# --- the source notebook -------------------------------------------------------------------------


def nbgrader_source(solution: NotebookNode, assignment: Assignment) -> NotebookNode:
    """The course's source notebook: the solution, each check cell calling its hidden suite (pure)."""
    notebook = copy.deepcopy(solution)
    found: dict[str, float] = {}
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade") or meta.get("solution"):
            continue
        question = meta.get("grade_id", "")
        try:
            points = assignment.question(question).points
        except KeyError:
            raise CourseError(f"check cell {question!r} of the solution is not a question of assignment.yaml") from None
        if float(meta.get("points") or 0) != points:
            raise CourseError(
                f"check cell {question!r} is worth {meta.get('points')} points, assignment.yaml {points:g}"
            )
        cell.source = with_hidden_tests(cell.source, question)
        found[question] = points
    missing = [q.id for q in assignment.questions if q.id not in found]
    if missing:
        raise CourseError(f"the solution notebook has no check cell for: {', '.join(missing)}")
    return notebook


def with_hidden_tests(visible: str, question: str) -> str:
    """A check cell's code with the hidden test region around it (see ``_HEAD``)."""
    quote = next((q for q in ("'''", '"""') if q not in visible), None)
    if quote is None or _BEGIN in visible or _END in visible:
        raise CourseError(
            f"cannot put hidden tests around check cell {question!r}: "
            "it holds hidden-test markers, or both kinds of triple quote"
        )
    head = "\n".join(_HEAD).format(quote=quote)
    tail = "\n".join(_TAIL).format(quote=quote, question=question)
    source = f"{head}\n{visible}\n{tail}"
    # The visible code must be the string's content, character for character, or the cell would
    # run something else than what the instructor wrote (a trailing backslash, say).
    keeps_it = False
    try:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Constant) and node.value == f"\n{_END}\n{visible}\n{_BEGIN}\n":
                keeps_it = True
    except SyntaxError:
        pass
    if not keeps_it:
        raise CourseError(f"cannot put hidden tests around check cell {question!r}: its code does not fit in a string")
    return source


# --- the course folder ---------------------------------------------------------------------------


def init_course(
    course_dir: Path,
    layout: CourseLayout,
    assignment: Assignment,
    exchange: Path | None = None,
    course_id: str | None = None,
    in_kernel: bool = False,
) -> InitReport:
    """Make or refresh the nbgrader course in ``course_dir``; grades already in its gradebook stay.

    Nothing is written outside ``course_dir`` unless asked: the exchange folder is created only when it is
    named (``exchange``); otherwise a missing one is reported (``exchange_missing``) for the instructor to
    create, as nbgrader's docs say, writable by everyone.

    By default ``nbgrader autograde`` grades through the kit's sandbox (:mod:`autograder.nbgrader.executor`);
    ``in_kernel`` keeps nbgrader's own executor, the hidden suites running in the student's kernel. A
    config edited by hand is kept, with the sandboxed executor's lines appended when it lacks them.
    """
    course_dir = course_dir.resolve()
    solution = read_solution(layout)
    source_nb = nbgrader_source(solution, assignment)
    # Our release and nbgrader's own must still give students the published notebook.
    if release_notebook(source_nb) != release_notebook(solution):
        raise CourseError("the hidden test regions would change the student notebook")
    executor_renamed = _rename_former_executor(course_dir / CONFIG_FILE)  # else the config cannot even be read
    previous = read_settings(course_dir) if (course_dir / CONFIG_FILE).is_file() else None
    settings = CourseSettings(
        root=course_dir,
        course_id=course_id or (previous.course_id if previous else course_dir.name),
        exchange=(exchange or (previous.exchange if previous else default_exchange())).resolve(),
        db_url=previous.db_url if previous else f"sqlite:///{course_dir / GRADEBOOK_FILE}",
    )
    exchange_created = _ensure_exchange(settings.exchange) if exchange is not None else False
    exchange_missing = not settings.exchange.is_dir()
    course_dir.mkdir(parents=True, exist_ok=True)
    config_written = _write_config(course_dir / CONFIG_FILE, config_text(settings, in_kernel))
    executor_added = False
    if not config_written:
        settings = read_settings(course_dir)
        edited = (course_dir / CONFIG_FILE).read_text(encoding="utf-8")
        if not in_kernel and EXECUTOR_MARK not in edited:
            with (course_dir / CONFIG_FILE).open("a", encoding="utf-8") as config:
                config.write(("" if edited.endswith("\n") else "\n") + EXECUTOR_LINES)
            executor_added = True
    source = course_dir / "source" / assignment.id / assignment.notebook
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text(render_notebook(source_nb), encoding="utf-8")
    with gradebook(settings) as book:
        book.update_or_create_assignment(assignment.id)
    problem = kernel_problem() if in_kernel else ""  # sandboxed, autograde starts no kernel
    return InitReport(
        settings, config_written, source, exchange_created, problem, executor_added, executor_renamed, exchange_missing
    )


def kernel_problem(kernel: str = "python3") -> str:
    """Why the kernel nbgrader autograde starts could not import autograder, or "" when it can.

    The source notebook asks for ``python3``; Jupyter finds its kernelspec in the user's, the
    environment's or the system's kernel folders, and the venv's own spec runs ``python`` from PATH.
    """
    import shutil
    import subprocess

    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(kernel)
    except NoSuchKernel:
        return f"no {kernel} kernel is installed"
    program = shutil.which(spec.argv[0]) or spec.argv[0]
    try:
        subprocess.run([program, "-c", "import autograder"], check=True, capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return f"the {kernel} kernel ({program}, from {spec.resource_dir}) cannot import autograder"
    return ""


EXECUTOR_MARK = "autograder.nbgrader.executor"
FORMER_EXECUTOR_MARK = "autograder.nbgrader_executor"  # its name before the package had subpackages (0.1)
EXECUTOR_LINES = (
    "# nbgrader autograde runs each notebook in the kit's sandbox and its hidden tests in nbgrader's own\n"
    "# process (`autograder nbgrader init --in-kernel` leaves these lines out: the student's kernel then).\n"
    f"from {EXECUTOR_MARK} import AUTOGRADE_PREPROCESSORS\n"
    "c.Autograde.autograde_preprocessors = AUTOGRADE_PREPROCESSORS\n"
)


def config_text(settings: CourseSettings, in_kernel: bool = False) -> str:
    """``nbgrader_config.py`` for the course, ending with a checksum of itself (see ``_write_config``)."""
    body = (
        "# nbgrader settings of this course, written by `autograder nbgrader init`. Running it again\n"
        "# rewrites this file, unless you edited it (then it is kept as it is).\n"
        "c = get_config()\n"
        f"c.CourseDirectory.course_id = {settings.course_id!r}\n"
        f"c.CourseDirectory.root = {str(settings.root)!r}\n"
        f"c.CourseDirectory.db_url = {settings.db_url!r}\n"
        f"c.Exchange.root = {str(settings.exchange)!r}\n"
        "# The stub students read in place of each solution; `autograder release` writes the same.\n"
        f'c.ClearSolutions.code_stub = {{"python": {CODE_STUB!r}}}\n'
    )
    body += "" if in_kernel else EXECUTOR_LINES
    return _stamped(body)


def _rename_former_executor(path: Path) -> bool:
    """A config an init of autograder 0.1 wrote imports the executor from its former module: the name is
    changed in place (an unedited config keeps a valid checksum, so init still rewrites it). True if changed."""
    if not path.is_file():
        return False
    text = path.read_text(encoding="utf-8")
    if FORMER_EXECUTOR_MARK not in text:
        return False
    body = _unedited_body(text)
    if body is not None:
        text = _stamped(body.replace(FORMER_EXECUTOR_MARK, EXECUTOR_MARK))
    else:
        text = text.replace(FORMER_EXECUTOR_MARK, EXECUTOR_MARK)
    path.write_text(text, encoding="utf-8")
    return True


def _stamped(body: str) -> str:
    """``body`` (ending with a newline) and the checksum line that marks it as init's own."""
    return body + _CHECKSUM_PREFIX + _checksum(body) + "\n"


def _unedited_body(text: str) -> str | None:
    """The config's body, if its last line is the checksum of the rest (as init wrote it); None once edited."""
    body, _, last = text.rstrip("\n").rpartition("\n")
    body += "\n"
    return body if last.startswith(_CHECKSUM_PREFIX) and last[len(_CHECKSUM_PREFIX) :] == _checksum(body) else None


def _checksum(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _write_config(path: Path, text: str) -> bool:
    """Write the config unless an instructor edited the one there (its checksum line no longer matches)."""
    if path.is_file() and _unedited_body(path.read_text(encoding="utf-8")) is None:
        return False
    path.write_text(text, encoding="utf-8")
    return True


def _ensure_exchange(exchange: Path) -> bool:
    """nbgrader wants the exchange to exist and be writable by everyone (its docs: chmod ugo+rw)."""
    if exchange.is_dir():
        return False
    try:
        exchange.mkdir(parents=True)
        exchange.chmod(0o777)
    except OSError as error:
        raise CourseError(
            f"cannot create the exchange folder {exchange} ({error.strerror}): create it "
            "writable by everyone, or choose another with --exchange DIR"
        ) from None
    return True


def default_exchange() -> Path:
    """The exchange nbgrader already uses on this machine: Jupyter's config folders, else its default."""
    from jupyter_core.paths import jupyter_config_path
    from nbgrader.exchange.default.exchange import Exchange

    config = _load_config([Path(p) for p in reversed(jupyter_config_path())])
    return Path(Exchange(config=config).root)


def read_settings(course_dir: Path) -> CourseSettings:
    """The course's settings as nbgrader reads them from ``course_dir/nbgrader_config.py``."""
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange.default.exchange import Exchange

    course_dir = course_dir.resolve()
    if not (course_dir / CONFIG_FILE).is_file():
        raise CourseError(f"no {CONFIG_FILE} in {course_dir}: run `autograder nbgrader init {course_dir}` first")
    config = _load_config([course_dir])
    directory = CourseDirectory(config=config)
    root = Path(directory.root or course_dir)
    if not directory.root:
        directory.root = str(root)
    return CourseSettings(root, directory.course_id, Path(Exchange(config=config).root), directory.db_url)


def _load_config(folders: Sequence[Path]) -> Config:
    """nbgrader's config files in ``folders``, later ones winning, as traitlets loads them."""
    from traitlets.config import Config, PyFileConfigLoader

    config = Config()
    for folder in folders:
        if (folder / CONFIG_FILE).is_file():
            try:
                config.merge(PyFileConfigLoader(CONFIG_FILE, path=str(folder)).load_config())
            except Exception as error:  # a config file is Python: it can fail in any way
                raise CourseError(f"cannot read {folder / CONFIG_FILE}: {one_line(error)}") from None
    return config


@contextmanager
def gradebook(settings: CourseSettings) -> Iterator[Gradebook]:
    """The course's nbgrader ``Gradebook``, closed afterwards."""
    from nbgrader.api import Gradebook

    # nbgrader creates a new database by running `alembic heads` by name: the alembic beside this
    # Python must be found even when the venv's bin folder is not on PATH.
    path = os.environ.get("PATH", "")
    bin_dir = str(Path(sys.executable).parent)
    os.environ["PATH"] = os.pathsep.join([bin_dir, path]) if path else bin_dir
    try:
        book = Gradebook(settings.db_url, course_id=settings.course_id)
    except Exception as error:  # sqlalchemy and subprocess failures alike
        raise CourseError(f"cannot open the gradebook {settings.db_url}: {one_line(error)}") from None
    finally:
        os.environ["PATH"] = path
    try:
        yield book
    finally:
        book.close()


# --- our scores in the course's gradebook --------------------------------------------------------


def check_gradebook(course_dir: Path, assignment: Assignment) -> CourseSettings:
    """Fail early, before a batch is graded, when the course cannot take the scores."""
    settings = read_settings(course_dir)
    with gradebook(settings) as book:
        _grade_cells(book, assignment)
    return settings


def _grade_cells(book: Gradebook, assignment: Assignment) -> str:
    """The notebook name under which nbgrader knows the assignment's questions (its grade cells)."""
    from nbgrader.api import MissingEntry

    notebook = Path(assignment.notebook).stem
    try:
        cells = {cell.name for cell in book.find_notebook(notebook, assignment.id).grade_cells}
    except MissingEntry:
        cells = set()
    missing = [q.id for q in assignment.questions if q.id not in cells]
    if missing:
        raise CourseError(
            f"the gradebook has no grade cell for {', '.join(missing)} in {assignment.id}/{notebook}: "
            f"run `nbgrader generate_assignment {assignment.id}` in the course folder first"
        )
    return notebook


def write_scores(settings: CourseSettings, grades_csv: Path, assignment: Assignment) -> ScoresWritten:
    """Store each graded row of ``grades.csv`` as nbgrader autograded scores, one per question.

    As nbgrader's own autograde does (``SaveAutoGrades``): ``auto_score`` is set, a manual score an
    instructor gave in formgrader is kept (and takes precedence, as in nbgrader), and the cell needs
    manual grading only when such a manual score exists.
    """
    with grades_csv.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    written, skipped = [], []
    with gradebook(settings) as book:
        notebook = _grade_cells(book, assignment)
        for row in rows:
            student = row["student"]
            if row["status"] != "graded":
                skipped.append((student, row["status"]))
                continue
            book.update_or_create_student(student)
            timestamp = _submission_timestamp(settings.root, student, assignment.id)
            book.update_or_create_submission(assignment.id, student, **({"timestamp": timestamp} if timestamp else {}))
            for question in assignment.questions:
                grade = book.find_grade(question.id, notebook, assignment.id, student)
                grade.auto_score = float(row[question.id])
                grade.needs_manual_grade = grade.manual_score is not None
            book.db.commit()
            written.append(student)
    return ScoresWritten(tuple(written), tuple(skipped))


def _submission_timestamp(root: Path, student: str, assignment_id: str) -> str | None:
    """When the student submitted, as nbgrader's ``submit`` recorded it beside the notebook."""
    path = root / "submitted" / student / assignment_id / "timestamp.txt"
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def read_source(course_dir: Path, assignment: Assignment) -> NotebookNode:
    """The course's source notebook (for tests and tools)."""
    return nbformat.read(course_dir / "source" / assignment.id / assignment.notebook, as_version=4)
