"""Discover: which student each notebook under a folder belongs to, and what is wrong with the rest.

Layouts (the contract): ``submissions/<id>.ipynb``; ``submissions/<id>/<any>/.../<name>.ipynb``,
the one notebook anywhere inside the student's folder; and nbgrader's
``submitted/<id>/rnn_intro/rnn_intro.ipynb``, which is the one graded when the student's folder
holds other notebooks too (a ``-Copy1`` saved beside it), since nbgrader itself grades that one.
Hidden files and folders, ``.ipynb_checkpoints`` and ``__MACOSX`` are ignored. A Moodle or Canvas
download (its folder, or one folder holding it, as an unzipping tool makes) is read by the names
those LMSs give (:mod:`autograder.lms.download`): each participant is one student, whose files may be
spread over several entries; a Canvas file uploaded again (``-N``) counts in its latest upload.
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

import dataclasses
import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from autograder.errors import AutograderError
from autograder.grading.load import MAX_NOTEBOOK_BYTES, NotebookLoadError
from autograder.lms.download import CANVAS, Handin, Piece, recognise, resubmission
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
    handin: Handin | None = None  # from an LMS's download: who handed it in, as the LMS names them

    @property
    def source(self) -> str:
        """The notebook's path as the reports show it (text, whatever bytes its name holds); "" when none."""
        return readable(str(self.path)) if self.path is not None else ""


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
    entries = [
        entry
        for entry in entries
        if not _ignored(entry.name) and (exclude is None or os.path.realpath(root / entry.name) != str(exclude))
    ]
    root, entries, download = _download(root, entries)
    found: dict[str, list[Submission]] = {}
    if download is not None:
        lms, pieces = download
        originals = {readable(entry.name): entry.name for entry in entries}
        entries = [entry for entry in entries if readable(entry.name) not in pieces]
        for submission in _from_download(root, lms, pieces, originals):
            found[submission.student] = [submission]
    for entry in entries:
        path = root / entry.name
        if entry.is_dir(follow_symlinks=False):
            submission = _from_folder(path, exclude, nbgrader_path)
        else:
            submission = _file(readable(path.stem if path.suffix == NOTEBOOK_SUFFIX else entry.name), path)
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


def _download(
    root: Path, entries: list[os.DirEntry[str]]
) -> tuple[Path, list[os.DirEntry[str]], tuple[str, dict[str, Piece]] | None]:
    """The folder's entries read as an LMS's download, when they are one: ``(root, entries, (lms, pieces))``.
    A folder holding nothing but one folder that is a download (an unzipped ``Course-Lab-42/``) is
    read as that folder."""
    download = recognise((readable(entry.name), entry.is_dir(follow_symlinks=False)) for entry in entries)
    if download is None and len(entries) == 1 and entries[0].is_dir(follow_symlinks=False):
        inner = root / entries[0].name
        try:
            with os.scandir(inner) as listing:
                inside = sorted((e for e in listing if not _ignored(e.name)), key=lambda e: e.name)
        except OSError:
            return root, entries, None
        download = recognise((readable(entry.name), entry.is_dir(follow_symlinks=False)) for entry in inside)
        if download is not None:
            return inner, inside, download
    return root, entries, download


def _from_download(root: Path, lms: str, pieces: dict[str, Piece], originals: dict[str, str]) -> list[Submission]:
    """One submission per participant of an LMS download, from all the entries that are theirs
    (``originals``: each entry's name on disk, by its name as text)."""
    theirs: dict[str, list[Piece]] = {}
    for piece in pieces.values():
        theirs.setdefault(piece.participant.student, []).append(piece)
    return [_handed_in(root, lms, group, originals) for group in theirs.values()]


def _handed_in(root: Path, lms: str, group: list[Piece], originals: dict[str, str]) -> Submission:
    participant = group[0].participant
    student = participant.student
    files: list[tuple[Path, str, int, Piece]] = []  # path, the file's own name, lstat mode, the entry it is in
    try:
        for piece in sorted(group, key=lambda p: p.entry):
            path = root / originals.get(piece.entry, piece.entry)
            if piece.folder:
                files += [(found, readable(found.name), mode, piece) for found, mode in _files_in(path)]
            else:
                own = piece.file_name or f"{piece.plugin}.html"  # a Canvas text or link entry has no file name
                files.append((path, own, os.lstat(path).st_mode, piece))
    except OSError as error:
        return Submission(student, None, Status.UNREADABLE, f"cannot list {error.filename}: {error.strerror}")
    handin = Handin(
        participant,
        tuple(sorted(piece.entry for piece in group)),
        tuple(_relative(path, root) for path, *_ in files),
        any(piece.late for piece in group),
    )
    notebooks = [item for item in files if item[1].endswith(NOTEBOOK_SUFFIX)]
    others = [own for _, own, _, _ in files if not own.endswith(NOTEBOOK_SUFFIX)]
    if not notebooks:
        why = f"no notebook among the files handed in: {_listing(others)}" if others else "no file handed in"
        return Submission(student, None, Status.NO_NOTEBOOK, why, handin)
    message = ""
    if len(notebooks) > 1 and lms == CANVAS and len({resubmission(own)[0] for _, own, _, _ in notebooks}) == 1:
        # One file uploaded again under the same name: Canvas renamed the later ones -1, -2...
        notebooks.sort(key=lambda item: (item[3].attachment, resubmission(item[1])[1]))
        left = _listing([own for _, own, _, _ in notebooks[:-1]])
        message = f"graded {notebooks[-1][1]}, the latest upload; also in the download: {left}"
        notebooks = notebooks[-1:]
    if len(notebooks) > 1:
        listing = _listing([_relative(path, root) for path, *_ in notebooks])
        return Submission(student, None, Status.DUPLICATE, f"several notebooks: {listing}", handin)
    path, own, mode, _ = notebooks[0]
    problem = _not_a_file(mode)
    if problem:
        return Submission(student, path, Status.NOT_A_NOTEBOOK, f"{_relative(path, root)}: {problem}", handin)
    if others and not message:
        message = f"graded {own}; also handed in, not graded: {_listing(others)}"
    return Submission(student, path, message=message, handin=dataclasses.replace(handin, graded=_relative(path, root)))


def _files_in(folder: Path) -> list[tuple[Path, int]]:
    """Every entry under ``folder`` that is not a folder (links included, never followed), with its ``lstat`` mode."""
    found, pending = [], [folder]
    while pending:
        here = pending.pop()
        with os.scandir(here) as listing:
            entries = sorted(listing, key=lambda e: e.name)
        for entry in entries:
            if _ignored(entry.name):
                continue
            if entry.is_dir(follow_symlinks=False):
                pending.append(here / entry.name)
            else:
                found.append((here / entry.name, entry.stat(follow_symlinks=False).st_mode))
    return sorted(found)


def single_student(path: Path, nbgrader_path: str = "") -> str:
    """The student id of a file graded alone: its name without ``.ipynb``, as in a folder of submissions,
    except for a notebook named after the assignment (``rnn_intro.ipynb``, every student's name for it),
    which takes its folder's name, the folder above when that one is named after the assignment too
    (nbgrader's ``<student>/rnn_intro/rnn_intro.ipynb``)."""
    assignment, _, notebook = nbgrader_path.rpartition("/")
    if not notebook or path.name != notebook:
        return readable(path.stem if path.suffix == NOTEBOOK_SUFFIX else path.name)
    folder = path.parent
    if folder.name == assignment and folder.parent.name:
        folder = folder.parent
    return readable(folder.name or path.stem)


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
    student = readable(folder.name)
    try:
        notebooks = _notebooks_in(folder, exclude)
    except OSError as error:
        where = _relative(Path(error.filename), folder.parent) if error.filename else student
        return Submission(student, None, Status.UNREADABLE, f"cannot list {where}: {error.strerror}")
    if not notebooks:
        return Submission(student, None, Status.NO_NOTEBOOK, "no notebook in this student's folder")
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
        return Submission(student, None, Status.DUPLICATE, f"several notebooks: {paths}")
    path, mode = notebooks[0]
    problem = _not_a_file(mode)
    if problem:
        return Submission(student, path, Status.NOT_A_NOTEBOOK, f"{_relative(path, folder.parent)}: {problem}")
    return Submission(student, path, message=message)


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
        return readable(str(path.relative_to(root)))
    except ValueError:
        return readable(str(path))


def readable(name: str) -> str:
    """A file name as text. Linux names are bytes: one that is not UTF-8 (Python holds its other bytes
    as surrogates) is decoded as code page 437 when it holds a byte 0x80-0x9F, where that code page has
    its accented letters (names that `unzip` wrote from a zip made on Windows), else as Windows-1252
    (a file copied from a Western European Windows). Student ids and messages are made of these."""
    if not any("\udc80" <= char <= "\udcff" for char in name):
        return name
    raw = os.fsencode(name)
    if any(0x80 <= byte <= 0x9F for byte in raw):
        return raw.decode("cp437")
    return raw.decode("cp1252", errors="replace")
