"""Load: a submitted file's bytes become the code cells to run, their source as the student wrote it.

Pure: bytes in, a :class:`LoadedNotebook` out, or a :class:`NotebookLoadError` whose status says
why the file cannot be graded. nbformat v3 is upgraded; older notebooks are unreadable.

This runs in the trusted grader, outside every limit of the submission, so it does only work that
grows linearly with the file: JSON, the cells' metadata. IPython syntax (magics, ``!`` lines) is
translated by the cell runner (:func:`autograder.sandbox.execute.inert_magics`), in the sandboxed worker,
within the cell's own time.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from autograder.errors import AutograderError
from autograder.reports.wording import FILE_KINDS, TRUNCATED
from autograder.results import CodeCell, Status

MAX_NOTEBOOK_BYTES = 64 * 2**20  # a lab notebook with plots is a few MB; this is far beyond


class NotebookLoadError(AutograderError):
    """A submission that cannot be graded; ``status`` is the gradebook's word for why."""

    def __init__(self, status: Status, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class LoadedNotebook:
    cells: tuple[CodeCell, ...]  # the cells to run, in order
    skipped: tuple[int, ...]  # the visible check cells, which the hidden suites replace
    nbformat: int  # the version the file was written in (3 is upgraded)


def load_notebook(data: bytes, max_bytes: int = MAX_NOTEBOOK_BYTES) -> LoadedNotebook:
    """Parse a submission; raise :class:`NotebookLoadError` with the right status when it cannot be graded.

    The message is the instructor's, in English; its first words name the cause for the student's
    page (:mod:`autograder.reports.feedback`): ``truncated`` for a notebook cut short, or one of
    :data:`FILE_KINDS`' names for a file of another kind."""
    if len(data) > max_bytes:
        raise NotebookLoadError(Status.TOO_LARGE, f"file larger than {max_bytes / 2**20:g} MB")
    if not data.strip():
        raise NotebookLoadError(Status.EMPTY, "empty file")
    kind = file_kind(data)
    if kind:
        raise NotebookLoadError(Status.UNREADABLE, f"{FILE_KINDS[kind][0]}, not a notebook")
    if not data.strip(b"\x00 \t\r\n"):
        raise NotebookLoadError(Status.UNREADABLE, f"{TRUNCATED}: the file holds only zero bytes")
    try:
        text = data.decode("utf-8-sig").rstrip("\x00")  # an interrupted copy may leave zero bytes at its end
        raw = json.loads(text)
    except UnicodeDecodeError as error:
        if error.reason == "unexpected end of data" and error.end >= len(data.rstrip(b"\x00")):
            raise NotebookLoadError(Status.UNREADABLE, f"{TRUNCATED}: the file ends inside a character") from None
        raise NotebookLoadError(Status.UNREADABLE, "not UTF-8 text") from None
    except json.JSONDecodeError as error:
        # json's message may end with its own "at" ("Unterminated string starting at"): one "at" only.
        at = " " if error.msg.endswith(" at") else " at "
        where = f"{error.msg}{at}line {error.lineno}, column {error.colno}"
        if _cut_short(text, error):
            message = f"{TRUNCATED}: not valid JSON, it ends too early ({where})"
            raise NotebookLoadError(Status.UNREADABLE, message) from None
        raise NotebookLoadError(Status.UNREADABLE, f"not valid JSON ({where})") from None
    except RecursionError:
        raise NotebookLoadError(Status.UNREADABLE, "not valid JSON (nested too deeply)") from None
    if not isinstance(raw, dict) or not ({"cells", "worksheets"} & raw.keys()) or "nbformat" not in raw:
        raise NotebookLoadError(Status.NOT_A_NOTEBOOK, "JSON, but not a Jupyter notebook")
    version = raw.get("nbformat")
    if type(version) is not int or version < 3:
        raise NotebookLoadError(Status.UNREADABLE, f"nbformat {version!r} is too old (3 or later is needed)")
    if version > 4:
        raise NotebookLoadError(Status.UNREADABLE, f"nbformat {version} is newer than this grader reads")
    try:
        # v4 is read as it is (only the code cells matter, and the grade path then never imports
        # nbformat, whose schema validator is slow to import); v3 goes through nbformat's upgrade.
        cells = raw.get("cells") if version == 4 else _cells_read_by_nbformat(text)
        if not isinstance(cells, list):
            raise TypeError("'cells' is not a list")
    except Exception as error:  # nbformat's reader on damaged input raises anything, asserts included
        raise NotebookLoadError(Status.NOT_A_NOTEBOOK, f"notebook structure not understood ({error})") from None
    to_run, skipped = [], []
    for position, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            source = "".join(source)
        elif not isinstance(source, str):
            message = f"notebook structure not understood (cell {position}'s source)"
            raise NotebookLoadError(Status.NOT_A_NOTEBOOK, message)
        metadata = cell.get("metadata")
        meta = (metadata.get("nbgrader") if isinstance(metadata, dict) else None) or {}
        if isinstance(meta, dict) and meta.get("grade") and not meta.get("solution"):
            skipped.append(position)  # a visible check: the hidden suite decides, not this cell
            continue
        to_run.append(CodeCell(position, source))
    return LoadedNotebook(tuple(to_run), tuple(skipped), version)


def file_kind(data: bytes) -> str:
    """The :data:`FILE_KINDS` key of a file that is plainly something else than a notebook, from its first bytes."""
    head = data[:64]
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()  # an HTML page may start with a BOM and blank lines
    for kind, (_name, magics, _suffixes) in FILE_KINDS.items():
        if any(text.startswith(magic) if kind == "html" else head.startswith(magic) for magic in magics):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1"):
        return "heic"
    return ""


def _cut_short(text: str, error: json.JSONDecodeError) -> bool:
    """Whether a JSON document fails only because it stops early (the rest of a notebook is missing)."""
    if not text.lstrip().startswith("{") or error.msg == "Extra data" or "control character" in error.msg:
        return False
    end = len(text.rstrip(" \t\r\n"))
    return error.msg.startswith("Unterminated string") or error.pos >= end - 5


def _cells_read_by_nbformat(text: str) -> list:
    """The cells as nbformat reads them, upgraded to v4, schema problems tolerated and not logged.

    Students' notebooks often break the schema in ways that do not matter here (a stray output
    field, a missing cell id); only the code cells are read, so validation errors are captured
    and ignored rather than refusing the notebook or writing to stderr.
    """
    import nbformat

    logger = logging.getLogger("traitlets")  # where nbformat's upgrade logs schema warnings
    previous = logger.disabled
    logger.disabled = True
    try:
        return list(nbformat.reads(text, as_version=4, capture_validation_error={}).cells)
    finally:
        logger.disabled = previous
