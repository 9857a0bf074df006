"""Moodle: the assignment's offline grading worksheet filled in, and the feedback-files zip.

The worksheet is the CSV Moodle gives under the assignment's "Download grading worksheet" action.
Its importer (``mod/assign/feedback/offline/importgradeslib.php``) finds the columns ``Identifier``,
``Grade`` and ``Last modified (grade)`` by their header, in the language of the teacher who uploads,
reads ``Participant <id>`` by cutting the prefix off, ignores a grade that is empty, unchanged or
above the maximum, and, unless "Allow updating records that have been modified more recently in
Moodle than in the spreadsheet." is ticked, skips a row whose grade was changed in Moodle after the
download (it compares ``Last modified (grade)`` with the grade's time in Moodle). So only the
``Grade`` and ``Feedback comments`` cells of graded participants are written; every other cell and
byte is Moodle's own, the dates above all.

The feedback-files zip is read by "Upload multiple feedback files in a zip"
(``mod/assign/feedback/file/importziplib.php``): a file inside a folder named
``<name>_<participant id>_assignsubmission_file`` (with or without the final ``_``) becomes a
feedback file of that participant, under its own name.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from autograder.errors import AutograderError
from autograder.lms import cells

# The worksheet's headers in English and in French (Moodle writes them in the language of the teacher
# who downloads it, and its importer wants them in the language of the one who uploads it).
IDENTIFIER = ("Identifier", "Identifiant")
GRADE = ("Grade", "Note")
MAXIMUM = ("Maximum grade", "Note maximale")
SCALE = ("Scale", "Barème")
MODIFIED = ("Last modified (grade)", "Dernière modification (note)")
CAN_CHANGE = ("Grade can be changed", "La note peut être modifiée")
_NO = {"no", "non"}
FEEDBACK = ("Feedback comments", "Commentaires de feedback", "Feedback par commentaires")
IGNORE_MODIFIED = "Allow updating records that have been modified more recently in Moodle than in the spreadsheet."
_PARTICIPANT = re.compile(r"^\D*?(\d+)\s*$")


class WorksheetError(AutograderError):
    """The file is not a Moodle grading worksheet the kit can fill."""


@dataclass
class Worksheet:
    path: Path
    text: str
    delimiter: str
    rows: list[cells.Row]
    identifier: int
    grade: int
    feedback: int | None  # None: feedback comments are off in this assignment
    maximum: Decimal  # the assignment's maximum grade
    decimal: str  # the decimal separator Moodle wrote, "." or ","
    participants: dict[str, int]  # participant id -> row index
    locked: set[str]  # participants whose grade Moodle will not change ("Grade can be changed: No")

    def fill(self, grades: dict[str, tuple[Decimal, str]]) -> str:
        """The worksheet's text with ``grades`` (participant id -> grade, feedback HTML) written in; every
        row and cell not named keeps its bytes."""
        changes = {}
        for participant, (grade, feedback) in grades.items():
            row = self.participants[participant]
            changes[(row, self.grade)] = f"{grade:.2f}".replace(".", self.decimal)
            if self.feedback is not None:
                changes[(row, self.feedback)] = feedback
        # PHP's fputcsv, which Moodle writes with, quotes any cell holding a space: so does the splice.
        return cells.splice(self.text, self.rows, changes, self.delimiter, spaces=True)


def read_worksheet(path: Path) -> Worksheet:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise WorksheetError(f"cannot read the worksheet {path}: {error.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise WorksheetError(
            f"{path.name} is not UTF-8, as Moodle writes its worksheet: download it again, without opening it "
            "in a spreadsheet"
        ) from None
    delimiter = cells.delimiter_of(text)
    try:
        rows = cells.read(text, delimiter)
    except cells.CsvError as error:
        raise WorksheetError(f"{path.name} is not a readable CSV file: {error}") from None
    if not rows:
        raise WorksheetError(f"{path.name} is empty")
    header = [value.strip() for value in rows[0].values]
    found = {}
    for key, headers in (("identifier", IDENTIFIER), ("grade", GRADE), ("modified", MODIFIED)):
        index = _column(header, headers)
        if index is None:
            raise WorksheetError(
                f"{path.name} is not a Moodle grading worksheet: no {headers[0]!r} column (its columns: "
                f"{', '.join(header[:8])}{', ...' if len(header) > 8 else ''})"
            )
        found[key] = index
    if _column(header, SCALE) is not None and _column(header, MAXIMUM) is None:
        raise WorksheetError(f"{path.name}: this assignment is graded with a Moodle scale, not points")
    maximum_column = _column(header, MAXIMUM)
    participants: dict[str, int] = {}
    maxima: set[str] = set()
    can_change = _column(header, CAN_CHANGE)
    locked: set[str] = set()
    for index, row in enumerate(rows[1:], start=1):
        match = _PARTICIPANT.match(row.get(found["identifier"]))
        if match is None:
            continue
        participant = match.group(1)
        participants[participant] = index
        if can_change is not None and row.get(can_change).strip().casefold() in _NO:
            locked.add(participant)
        if maximum_column is not None and row.get(maximum_column).strip():
            maxima.add(row.get(maximum_column).strip())
    if not participants:
        raise WorksheetError(f"{path.name} has no participant row (Identifier 'Participant <id>')")
    maximum, decimal = _maximum(path, maxima)
    return Worksheet(
        path,
        text,
        delimiter,
        rows,
        found["identifier"],
        found["grade"],
        _column(header, FEEDBACK),
        maximum,
        decimal,
        participants,
        locked,
    )


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    wanted = {name.casefold() for name in names}
    return next((index for index, cell in enumerate(header) if cell.casefold() in wanted), None)


def _maximum(path: Path, maxima: set[str]) -> tuple[Decimal, str]:
    """The assignment's maximum grade and the decimal separator Moodle writes it with."""
    if not maxima:
        raise WorksheetError(f"{path.name} has no 'Maximum grade' value: give the scale with --scale")
    if len(maxima) > 1:
        raise WorksheetError(f"{path.name} has several maximum grades: {', '.join(sorted(maxima))}")
    text = maxima.pop()
    decimal = "," if "," in text else "."
    try:
        return Decimal(text.replace(" ", "").replace("\u00a0", "").replace(",", ".")), decimal
    except InvalidOperation:
        raise WorksheetError(f"{path.name}: the maximum grade {text!r} is not a number") from None


def feedback_zip(path: Path, pages: dict[str, tuple[str, Path]], file_name: str) -> int:
    """A zip for "Upload multiple feedback files in a zip": each page (participant's folder -> their
    feedback page) as ``<folder>/<file_name>``. Returns the number of pages."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as handle:
        for folder, page in sorted(pages.values()):
            handle.write(page, f"{folder}/{file_name}")
    return len(pages)
