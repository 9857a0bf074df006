"""Discover: which student each notebook under a folder belongs to, and what is wrong with the rest.

Layouts (the contract): ``submissions/<id>.ipynb``; ``submissions/<id>/<any>/.../<name>.ipynb``,
the one notebook anywhere inside the student's folder; and nbgrader's
``submitted/<id>/rnn_intro/rnn_intro.ipynb``, which is the one graded when the student's folder
holds other notebooks too (a ``-Copy1`` saved beside it), since nbgrader itself grades that one.
Hidden files and folders, ``.ipynb_checkpoints`` and ``__MACOSX`` are ignored.
Nothing else is dropped silently: an unknown file, an empty folder or two notebooks for one
student each become a :class:`Submission` whose ``problem`` says why it cannot be graded; the
notebooks left beside nbgrader's are named in the graded submission's ``message``.

Only regular files inside the submissions folder are ever read. Symbolic links are never
followed (an archive can carry a link to the instructor's solution, or to ``/dev/zero``): a link,
a named pipe, a socket or a device is its own ``not_a_notebook`` row. Discovery looks at entries
without opening them, so it cannot block; :func:`read_submission` opens a notebook without
following a link, without waiting on a pipe, and reads at most the size the grader accepts.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from autograder.errors import AutograderError
from autograder.grading.load import MAX_NOTEBOOK_BYTES, NotebookLoadError
from autograder.results import Status

NOTEBOOK_SUFFIX = ".ipynb"
_IGNORED_DIRS = {"__MACOSX", "__pycache__"}
_LINK = "a symbolic link, which the grader never follows"
_LISTED = 5  # paths named in a duplicate row's message; the rest are counted


class DiscoveryError(AutograderError):
    """The submissions folder itself cannot be listed."""


@dataclass(frozen=True)
class Submission:
    student: str
    path: Path | None  # the notebook to grade; None when there is none
    problem: Status | None = None  # set when it cannot be graded, with ``message`` saying why
    message: str = ""  # why not graded; for a graded one, the notebooks left beside it (nbgrader's layout)


def discover(
    root: Path, exclude: Path | None = None, nbgrader_path: str = "", student: str | None = None
) -> list[Submission]:
    """Every student under ``root`` (a folder, or a single notebook), sorted by student id.

    ``exclude`` is a folder never looked into (the output folder, when it lies inside ``root``).
    ``root`` itself may be reached through links (the instructor chose it); nothing under it is.
    ``nbgrader_path`` is ``<assignment>/<notebook>``: inside a student's folder, the notebook at that
    path is theirs even beside others, as for nbgrader. ``student`` names the student of a single
    notebook; without it, see :func:`single_student`.
    """
    root = Path(os.path.abspath(root))
    if root.is_dir():
        root = Path(os.path.realpath(root))
    else:  # a single file: the folders above it resolved, the file itself taken as it is
        root = Path(os.path.realpath(root.parent)) / root.name
        return [_file(student or single_student(root, nbgrader_path), root)]
    exclude = Path(os.path.realpath(exclude)) if exclude is not None else None
    try:
        with os.scandir(root) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError as error:
        raise DiscoveryError(f"cannot list the submissions folder {root}: {error.strerror}") from None
    found: dict[str, list[Submission]] = {}
    for entry in entries:
        path = root / entry.name
        if _ignored(entry.name) or (exclude is not None and os.path.realpath(path) == str(exclude)):
            continue
        if entry.is_dir(follow_symlinks=False):
            submission = _from_folder(path, exclude, nbgrader_path)
        else:
            submission = _file(path.stem if path.suffix == NOTEBOOK_SUFFIX else entry.name, path)
        found.setdefault(submission.student, []).append(submission)
    result = []
    for student, candidates in found.items():
        with_notebook = [c for c in candidates if c.path is not None and c.problem is None]
        if len(candidates) > 1 and len(with_notebook) == 1:
            candidates = with_notebook  # alice.ipynb beside an empty alice/ folder: the notebook is hers
        if len(candidates) == 1:
            result.append(candidates[0])
        else:
            paths = _listing([_relative(c.path, root) for c in candidates if c.path])
            result.append(Submission(student, None, Status.DUPLICATE, f"several submissions: {paths}"))
    return sorted(result, key=lambda s: (s.student.casefold(), s.student))


def single_student(path: Path, nbgrader_path: str = "") -> str:
    """The student id of a file graded alone: its name without ``.ipynb``, as in a folder of submissions,
    except for a notebook named after the assignment (``rnn_intro.ipynb``, every student's name for it),
    which takes its folder's name, the folder above when that one is named after the assignment too
    (nbgrader's ``<student>/rnn_intro/rnn_intro.ipynb``)."""
    assignment, _, notebook = nbgrader_path.rpartition("/")
    if not notebook or path.name != notebook:
        return path.stem if path.suffix == NOTEBOOK_SUFFIX else path.name
    folder = path.parent
    if folder.name == assignment and folder.parent.name:
        folder = folder.parent
    return folder.name or path.stem


def _file(student: str, path: Path) -> Submission:
    """A file that is not a folder: a notebook to grade, or a row saying why it is not one."""
    try:
        mode = os.lstat(path).st_mode
    except OSError as error:
        return Submission(student, path, Status.UNREADABLE, f"cannot read: {error.strerror}")
    problem = _not_a_file(mode)
    if problem:
        return Submission(student, path, Status.NOT_A_NOTEBOOK, problem)
    if path.suffix != NOTEBOOK_SUFFIX:
        return Submission(student, path, Status.NOT_A_NOTEBOOK, "not a .ipynb file")
    return Submission(student, path)


def _from_folder(folder: Path, exclude: Path | None, nbgrader_path: str = "") -> Submission:
    try:
        notebooks = _notebooks_in(folder, exclude)
    except OSError as error:
        where = _relative(Path(error.filename), folder.parent) if error.filename else folder.name
        return Submission(folder.name, None, Status.UNREADABLE, f"cannot list {where}: {error.strerror}")
    if not notebooks:
        return Submission(folder.name, None, Status.NO_NOTEBOOK, "no notebook in this student's folder")
    named = folder / nbgrader_path if nbgrader_path else None
    message = ""
    if len(notebooks) > 1 and named is not None and any(path == named for path, _mode in notebooks):
        # nbgrader's layout, where the released notebook's name says which one is graded: the others
        # are extra files to nbgrader, and are named here for the instructor.
        others = _listing([_relative(path, folder) for path, _mode in notebooks if path != named])
        message = f"graded {nbgrader_path}, as nbgrader does; also in the folder: {others}"
        notebooks = [(path, mode) for path, mode in notebooks if path == named]
    if len(notebooks) > 1:
        paths = _listing([_relative(path, folder.parent) for path, _mode in notebooks])
        return Submission(folder.name, None, Status.DUPLICATE, f"several notebooks: {paths}")
    path, mode = notebooks[0]
    problem = _not_a_file(mode)
    if problem:
        return Submission(folder.name, path, Status.NOT_A_NOTEBOOK, f"{_relative(path, folder.parent)}: {problem}")
    return Submission(folder.name, path, message=message)


def _notebooks_in(folder: Path, exclude: Path | None) -> list[tuple[Path, int]]:
    """Every ``.ipynb`` entry under ``folder`` that is not a folder, with its mode as ``lstat`` gives it.

    Links to folders are not followed; links named ``.ipynb`` are found, to be refused by name.
    Iterative: an archive's folders nested thousands deep cost no recursion.
    """
    found, pending = [], [folder]
    while pending:
        here = pending.pop()
        with os.scandir(here) as listing:
            entries = sorted(listing, key=lambda e: e.name)
        subfolders = []
        for entry in entries:
            if _ignored(entry.name):
                continue
            path = here / entry.name
            if entry.is_dir(follow_symlinks=False):
                if exclude is None or path != exclude:
                    subfolders.append(path)
            elif entry.name.endswith(NOTEBOOK_SUFFIX):
                found.append((path, entry.stat(follow_symlinks=False).st_mode))
        pending.extend(reversed(subfolders))
    return sorted(found)


def _not_a_file(mode: int) -> str:
    """Why an entry with this ``lstat`` mode is not a notebook file; "" for a regular file."""
    if stat.S_ISREG(mode):
        return ""
    if stat.S_ISLNK(mode):
        return _LINK
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO), not a notebook file"
    if stat.S_ISSOCK(mode):
        return "a socket, not a notebook file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device file, not a notebook file"
    return "not a regular file"


def read_submission(path: Path, max_bytes: int = MAX_NOTEBOOK_BYTES) -> bytes:
    """A notebook's bytes, read the one way the grader reads a submission.

    The file is opened without following a link (``O_NOFOLLOW``) and without waiting for a writer
    (``O_NONBLOCK``), must be a regular file on the descriptor it was opened as (whatever the path
    became since discovery), and at most ``max_bytes`` + 1 bytes are read from it, whatever size it
    reports. Raises :class:`NotebookLoadError` (``not_a_notebook``, ``too_large``) or ``OSError``.
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except OSError as error:
        if error.errno == errno.ELOOP:  # O_NOFOLLOW on a link
            raise NotebookLoadError(Status.NOT_A_NOTEBOOK, _LINK) from None
        if error.errno == errno.ENXIO:  # a socket
            raise NotebookLoadError(Status.NOT_A_NOTEBOOK, "a socket, not a notebook file") from None
        raise
    too_large = NotebookLoadError(Status.TOO_LARGE, f"file larger than {max_bytes / 2**20:g} MB")
    try:
        mode, size = (info := os.fstat(fd)).st_mode, info.st_size
        if not stat.S_ISREG(mode):
            raise NotebookLoadError(Status.NOT_A_NOTEBOOK, _not_a_file(mode))
        if size > max_bytes:
            raise too_large  # not even read
        chunks, total = [], 0
        want = size + 1  # the whole file and its end in one read, as a rule
        while total <= max_bytes:
            chunk = os.read(fd, min(want, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            want = 1 << 20  # it grew, or a short read: the rest in pieces
    finally:
        os.close(fd)
    if total > max_bytes:
        raise too_large
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _ignored(name: str) -> bool:
    return name.startswith(".") or name in _IGNORED_DIRS


def _listing(paths: list[str]) -> str:
    shown = ", ".join(paths[:_LISTED])
    return shown if len(paths) <= _LISTED else f"{shown} and {len(paths) - _LISTED} more"


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
