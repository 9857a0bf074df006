"""Discover: which student each notebook under a folder belongs to, and what is wrong with the rest.

Layouts (the contract): ``submissions/<id>.ipynb``; ``submissions/<id>/<any>/.../<name>.ipynb``,
the one notebook anywhere inside the student's folder (nbgrader's ``submitted/<id>/rnn_intro/``
is this case). Hidden files and folders, ``.ipynb_checkpoints`` and ``__MACOSX`` are ignored.
Nothing else is dropped silently: an unknown file, an empty folder or two notebooks for one
student each become a :class:`Submission` whose ``problem`` says why it cannot be graded.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from autograder.results import Status

NOTEBOOK_SUFFIX = ".ipynb"
_IGNORED_DIRS = {"__MACOSX", "__pycache__"}


@dataclass(frozen=True)
class Submission:
    student: str
    path: Path | None  # the notebook to grade; None when there is none
    problem: Status | None = None  # set when it cannot be graded, with ``message`` saying why
    message: str = ""


def discover(root: Path, exclude: Path | None = None) -> list[Submission]:
    """Every student under ``root`` (a folder, or a single notebook), sorted by student id.

    ``exclude`` is a folder never looked into (the output folder, when it lies inside ``root``).
    """
    if root.is_file():
        return [Submission(root.stem if root.suffix == NOTEBOOK_SUFFIX else root.name, root)]
    found: dict[str, list[Submission]] = {}
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        if _ignored(entry.name) or (exclude is not None and _same(entry, exclude)):
            continue
        if entry.is_dir():
            submission = _from_folder(entry, exclude)
        elif entry.suffix == NOTEBOOK_SUFFIX:
            submission = Submission(entry.stem, entry)
        else:
            submission = Submission(entry.name, entry, Status.NOT_A_NOTEBOOK, "not a .ipynb file")
        found.setdefault(submission.student, []).append(submission)
    result = []
    for student, candidates in found.items():
        with_notebook = [c for c in candidates if c.path is not None and c.problem is None]
        if len(candidates) > 1 and len(with_notebook) == 1:
            candidates = with_notebook  # alice.ipynb beside an empty alice/ folder: the notebook is hers
        if len(candidates) == 1:
            result.append(candidates[0])
        else:
            paths = ", ".join(_relative(c.path, root) for c in candidates if c.path)
            result.append(Submission(student, None, Status.DUPLICATE, f"several submissions: {paths}"))
    return sorted(result, key=lambda s: (s.student.casefold(), s.student))


def _from_folder(folder: Path, exclude: Path | None) -> Submission:
    notebooks = sorted(_notebooks_in(folder, exclude))
    if not notebooks:
        return Submission(folder.name, None, Status.NO_NOTEBOOK, "no notebook in this student's folder")
    if len(notebooks) > 1:
        paths = ", ".join(_relative(p, folder.parent) for p in notebooks)
        return Submission(folder.name, None, Status.DUPLICATE, f"several notebooks: {paths}")
    return Submission(folder.name, notebooks[0])


def _notebooks_in(folder: Path, exclude: Path | None) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d for d in dirnames if not _ignored(d) and not (exclude is not None and _same(here / d, exclude))
        )
        for name in filenames:
            if not _ignored(name) and name.endswith(NOTEBOOK_SUFFIX):
                yield here / name


def _ignored(name: str) -> bool:
    return name.startswith(".") or name in _IGNORED_DIRS


def _same(path: Path, other: Path) -> bool:
    try:
        return path.resolve() == other.resolve()
    except OSError:
        return False


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
