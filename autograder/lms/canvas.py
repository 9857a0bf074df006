"""Canvas: the instructor's gradebook export with one assignment's column filled in.

The gradebook CSV is Canvas's "Export Entire Gradebook": a header ``Student, ID, [SIS User ID],
SIS Login ID, ..., Section``, then one ``Title (assignment id)`` column per assignment, then totals;
a ``    Points Possible`` row (and sometimes a ``Manual Posting`` row) before the students. Its
importer (``GradebookImporter``) matches a student by the ``ID`` column (the Canvas user id), an
assignment column by ``Title (id)``, skips the Points Possible, Muted and Manual Posting rows and any
column whose Points Possible reads ``(read only)``, takes a value equal at two decimals as unchanged,
and reads an empty cell as "remove this grade". So only the chosen column's cells of graded students
are written, with two decimals, and every other byte stays as Canvas wrote it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from autograder.errors import AutograderError
from autograder.lms import cells

_ASSIGNMENT = re.compile(r"\A(.*)\s\((\d+)\)\Z", re.S)
_NOT_A_STUDENT = re.compile(r"^\s*(Muted|Manual Posting.*)?\s*$", re.I)


class GradebookError(AutograderError):
    """The file is not a Canvas gradebook the kit can fill, or the assignment's column cannot be chosen."""


@dataclass
class Gradebook:
    path: Path
    text: str
    delimiter: str
    rows: list[cells.Row]
    column: int  # the assignment's column
    title: str  # its header, "Title (id)"
    points: Decimal | None  # its Points Possible (None when the file has no such row)
    decimal: str  # the decimal separator of the Points Possible row, "." or ","
    students: dict[str, int]  # Canvas user id -> row index

    def fill(self, scores: dict[str, Decimal]) -> str:
        """The gradebook's text with ``scores`` (user id -> points) in the assignment's column; nothing else changed."""
        changes = {
            (self.students[user], self.column): f"{score:.2f}".replace(".", self.decimal)
            for user, score in scores.items()
        }
        return cells.splice(self.text, self.rows, changes, self.delimiter, spaces=False)


def assignment_columns(header: list[str]) -> dict[int, tuple[str, str]]:
    """Every ``Title (id)`` column: index -> (title, id)."""
    return {
        index: (match.group(1), match.group(2))
        for index, cell in enumerate(header)
        if (match := _ASSIGNMENT.match(cell.strip())) is not None
    }


def read_gradebook(path: Path, column: str | None, assignment: str) -> Gradebook:
    """The gradebook at ``path``, its column for the assignment chosen by ``column`` (a whole header, a
    title or an assignment id), or else found by the assignment's id (``rnn_intro`` in the title)."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as error:
        raise GradebookError(f"cannot read the gradebook {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise GradebookError(f"{path.name} is not UTF-8, as Canvas writes its gradebook: export it again") from None
    delimiter = cells.delimiter_of(text)
    try:
        rows = cells.read(text, delimiter)
    except cells.CsvError as error:
        raise GradebookError(f"{path.name} is not a readable CSV file: {error}") from None
    header = [cell.strip() for cell in rows[0].values] if rows else []
    student_first = len(header) > 3 and "Student" in header[0] and "ID" in header[1]
    if not student_first and not (len(header) > 4 and header[:3] == ["LastName", "FirstName", "ID"]):
        raise GradebookError(f"{path.name} is not a Canvas gradebook export (its header does not start Student,ID)")
    id_column = 2 if header[0] == "LastName" else 1
    columns = assignment_columns(header)
    index = _choose(path, header, columns, column, assignment)
    points, decimal, students = None, ".", {}
    for row_index, row in enumerate(rows[1:], start=1):
        first = row.get(0)
        if "Points Possible" in first:
            value = row.get(index).strip()
            if re.search(r"read\s+only", value):
                raise GradebookError(f"{path.name}: the column {header[index]!r} is read only in Canvas")
            if value:
                decimal = "," if "," in value else "."
                try:
                    points = Decimal(value.replace(",", "."))
                except InvalidOperation:
                    raise GradebookError(f"{path.name}: Points Possible {value!r} is not a number") from None
            continue
        if all(_NOT_A_STUDENT.match(cell) for cell in row.values):
            continue
        user = row.get(id_column).strip()
        if user.isdigit():
            students[user] = row_index
    return Gradebook(path, text, delimiter, rows, index, header[index], points, decimal, students)


def _choose(
    path: Path, header: list[str], columns: dict[int, tuple[str, str]], column: str | None, assignment: str
) -> int:
    shown = "; ".join(header[index] for index in columns) or "none"
    if column is not None:
        wanted = column.strip()
        matches = [i for i, (title, number) in columns.items() if wanted in (header[i], title, number)]
        if len(matches) == 1:
            return matches[0]
        what = "several" if matches else "no"
        raise GradebookError(f"{path.name} has {what} assignment column {column!r} (its assignments: {shown})")
    key = _plain(assignment)
    matches = [i for i, (title, _) in columns.items() if key and key in _plain(title)]
    if len(matches) == 1:
        return matches[0]
    if not matches and len(columns) == 1:
        return next(iter(columns))  # the gradebook of this one assignment
    raise GradebookError(
        f"{path.name}: choose the assignment's column with --column 'Title (id)' (its assignments: {shown})"
    )


def _plain(text: str) -> str:
    return re.sub(r"\W|_", "", text.casefold())
