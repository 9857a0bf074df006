"""Independent readers for the files the LMS importers take, written from the importers' own rules (Moodle
``assignfeedback_offline`` and ``assignfeedback_file``, Canvas ``GradebookImporter``), not from our exporter.

A test gives each reader the bytes we export and checks that every score lands where Moodle or Canvas would
put it. Nothing here reads ``autograder.lms``: only the standard library and the importers' rules.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal


class ImportRefused(Exception):
    """The LMS would refuse the whole file (missing column, bad header, malformed CSV)."""


# ---------------------------------------------------------------------------------------------------------------------
# PHP helpers
# ---------------------------------------------------------------------------------------------------------------------

_PHP_WHITESPACE = " \t\n\r\0\x0b"
_PHP_NUMERIC = re.compile(r"[ \t\n\r\v\f]*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[ \t\n\r\v\f]*\Z")
_PHP_FLOAT_PREFIX = re.compile(r"[ \t\n\r\v\f]*([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")


def _php_is_numeric(text: str) -> bool:
    """PHP 8 ``is_numeric`` for a string (leading and trailing whitespace allowed, no hex)."""
    return _PHP_NUMERIC.match(text) is not None


def _php_float(text: str) -> float:
    """PHP ``(float)`` cast of a string: the leading numeric prefix, or 0.0."""
    match = _PHP_FLOAT_PREFIX.match(text)
    return float(match.group(1)) if match else 0.0


def _php_string_equal(left: str, right: str) -> bool:
    """PHP 8 ``==`` between two strings: numeric comparison when both are numeric strings."""
    if _php_is_numeric(left) and _php_is_numeric(right):
        return _php_float(left) == _php_float(right)
    return left == right


def _unformat_float(text: str, decsep: str) -> float | None:
    """Moodle ``unformat_float`` (non-strict): trim, drop spaces, localized decimal separator to '.', cast."""
    text = text.strip(_PHP_WHITESPACE)
    if text == "":
        return None
    return _php_float(text.replace(" ", "").replace(decsep, "."))


def _strtotime(text: str) -> int:
    """``strtotime`` for Moodle's English ``strftimedaydatetime`` (UTC), 0 (PHP false) for anything else."""
    try:
        moment = datetime.strptime(text.strip(), "%A, %d %B %Y, %I:%M %p")
    except ValueError:
        return 0
    return int(moment.replace(tzinfo=UTC).timestamp())


# ---------------------------------------------------------------------------------------------------------------------
# Moodle: offline grading worksheet
# ---------------------------------------------------------------------------------------------------------------------

_MOODLE_STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "recordid": "Identifier",
        "grade": "Grade",
        "modified": "Last modified (grade)",
        "feedback": "Feedback comments",
        "maxgrade": "Maximum grade",
        "hiddenuser": "Participant ",
        "decsep": ".",
    },
    "fr": {
        "recordid": "Identifiant",
        "grade": "Note",
        "modified": "Dernière modification (note)",
        "feedback": "Commentaires de feedback",
        "maxgrade": "Note maximale",
        "hiddenuser": "Participant",
        "decsep": ",",
    },
}

_ASCII_DIGITS = re.compile(r"[0-9]+\Z")
_NO_GRADE = -1.0  # what Moodle stores in assign_grades.grade when a grade row exists without a grade


@dataclass
class MoodleImport:
    """What ``process_import_grades`` would do with a worksheet."""

    grades: dict[str, float] = field(default_factory=dict)  # participant id -> grade saved
    feedback: dict[str, str] = field(default_factory=dict)  # participant id -> feedback comment saved
    skipped: dict[str, str] = field(default_factory=dict)  # participant id -> unchanged | empty | stale | over_maximum
    rows: list[list[str]] = field(default_factory=list)  # every parsed row, header first


def _moodle_rows(data: bytes, separator: str) -> list[list[str]]:
    """``csv_import_reader::load_csv_content``: BOM, newlines, trim, fgetcsv, blank lines, column count."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ImportRefused(f"not UTF-8: {error}") from error
    text = text.removeprefix("\ufeff")
    text = re.sub(r"\r\n?", "\n", text)
    text = text.strip(_PHP_WHITESPACE.replace("\t", "") if separator == "\t" else _PHP_WHITESPACE)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, quotechar='"', doublequote=True)
    rows = [row for row in reader if row]  # fgetcsv gives [null] for a blank line, which is dropped
    if not rows:
        raise ImportRefused("csvemptyfile")
    width = len(rows[0])
    for number, row in enumerate(rows, start=1):
        if len(row) != width:
            raise ImportRefused(f"csvweirdcolumns: row {number} has {len(row)} cells, the header {width}")
    return rows


def _moodle_column(header: list[str], name: str) -> int:
    """Index of the LAST header cell equal to ``name`` (the importer's loop overwrites), or -1."""
    found = -1
    for index, cell in enumerate(header):
        if cell == name:
            found = index
    return found


def read_moodle_worksheet(
    data: bytes,
    separator: str = ",",
    ignore_modified: bool = False,
    current: dict[str, tuple[float | None, float, str]] | None = None,
    language: str = "en",
) -> MoodleImport:
    """Apply ``assignfeedback_offline_grade_importer`` + ``process_import_grades`` to a grading worksheet.

    ``current`` maps a participant id to (grade in Moodle or None, its timemodified, current feedback text); a
    participant missing from it has no grade row yet. None stands for Moodle's "no grade" (-1).
    """
    strings = _MOODLE_STRINGS[language]
    current = current or {}
    rows = _moodle_rows(data, separator)
    header = rows[0]
    id_index = _moodle_column(header, strings["recordid"])
    grade_index = _moodle_column(header, strings["grade"])
    modified_index = _moodle_column(header, strings["modified"])
    if id_index < 0 or grade_index < 0 or modified_index < 0:
        raise ImportRefused(f"invalidgradeimport: header {header!r}")
    feedback_index = _moodle_column(header, strings["feedback"])
    max_index = _moodle_column(header, strings["maxgrade"])
    prefix_length = len(strings["hiddenuser"].encode())  # substr() counts bytes
    result = MoodleImport(rows=rows)
    for row in rows[1:]:
        rest = row[id_index].encode()[prefix_length:].decode("utf-8", "replace")
        if not _ASCII_DIGITS.match(rest):
            continue  # get_user_id_for_uniqueid() finds nobody: the row is ignored
        participant = str(int(rest))
        grade = _unformat_float(row[grade_index], strings["decsep"])
        modified = _strtotime(row[modified_index])
        maximum = _unformat_float(row[max_index], strings["decsep"]) if max_index >= 0 else None
        usergrade = current.get(participant)
        stale = usergrade is not None and usergrade[1] > modified + 60
        if usergrade is not None:
            stored = _NO_GRADE if usergrade[0] is None else float(usergrade[0])
            # PHP: "15.00000" == 15.0 numerically; float == null compares as booleans.
            unchanged = stored == grade if grade is not None else not stored
        else:
            unchanged = False
        if unchanged:
            result.skipped[participant] = "unchanged"
        elif grade is None or grade < 0:
            result.skipped[participant] = "empty"
        elif not ignore_modified and stale:
            result.skipped[participant] = "stale"
        elif maximum is not None and maximum > -1 and (grade < 0 or grade > maximum):
            result.skipped[participant] = "over_maximum"
        else:
            result.grades[participant] = grade
        if feedback_index >= 0 and (ignore_modified or not stale):
            new = row[feedback_index]
            old = usergrade[2] if usergrade is not None else ""
            if old in ("", "0"):  # empty($oldvalue)
                old = ""
            if not _php_string_equal(new, old):
                result.feedback[participant] = new
    return result


# ---------------------------------------------------------------------------------------------------------------------
# Moodle: feedback files zip
# ---------------------------------------------------------------------------------------------------------------------

_MOODLE_PLUGINS = frozenset(
    {"assignsubmission_file", "assignsubmission_onlinetext", "assignfeedback_file", "assignfeedback_comments"}
)


def _moodle_participant(text: str, participants: set[str]) -> str | None:
    """``is_numeric($id)`` then ``$participants[$id + 0]``: the matching participant id, or None."""
    if not _php_is_numeric(text):
        return None
    value = _php_float(text)
    if value != int(value):
        return None
    key = str(int(value))
    return key if key in participants else None


def read_moodle_feedback_zip(data: bytes, participants: set[str]) -> dict[str, list[str]]:
    """Apply ``importziplib.php::is_valid_filename_for_import``: participant id -> feedback file names, zip order."""
    found: dict[str, list[str]] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            basename = info.filename.rsplit("/", 1)[-1]
            if basename.startswith((".", "~")):
                continue
            parts = info.filename.split("/")
            while parts:
                info_parts = parts.pop(0).split("_", 4)
                if len(info_parts) < 4:
                    continue
                participant = _moodle_participant(info_parts[1], participants)
                if participant is None:
                    continue
                if f"{info_parts[2]}_{info_parts[3]}" not in _MOODLE_PLUGINS:
                    continue
                name = "/".join([info_parts[4] if len(info_parts) > 4 else "", *parts]).removeprefix("/")
                found.setdefault(participant, []).append(name)
                break
    return found


# ---------------------------------------------------------------------------------------------------------------------
# Canvas: gradebook CSV
# ---------------------------------------------------------------------------------------------------------------------


class _MalformedCSV(Exception):
    """Ruby ``CSV::MalformedCSVError``."""


_RUBY_STRIP = " \t\n\v\f\r\0"
_SKIP_LINE = re.compile(r"^[;, ]+$", re.MULTILINE)
_DECIMAL = re.compile(r"^-?[0-9.,]+%?$", re.MULTILINE)
_MUTED = re.compile(r"^\s*(Muted|Manual Posting.*)?\s*$", re.MULTILINE | re.IGNORECASE | re.ASCII)
_TOTALS = re.compile(
    "Current Score|Current Points|Current Grade|Final Score|Final Points|Final Grade|"
    "Override Score|Override Grade|Override Status"
)
_TITLE_AND_ID = re.compile(r"\A(.*)\s\((\d+)\)\Z", re.ASCII)
_READ_ONLY = re.compile(r"read\s+only", re.ASCII)


def _ruby_row_sep(text: str) -> str:
    """Ruby CSV ``row_sep: :auto``: the first CR LF, LF or CR in the data (LF when there is none)."""
    match = re.search(r"\r\n|\n|\r", text)
    return match.group(0) if match else "\n"


def _ruby_csv(text: str, col_sep: str) -> list[tuple[str, list[str | None]]]:
    """Ruby CSV (strict, not liberal): (raw line without its row separator, fields) per record; '' unquoted -> None."""
    row_sep = _ruby_row_sep(text)
    records: list[tuple[str, list[str | None]]] = []
    position, end = 0, len(text)
    while position < end:
        start, fields, row_done = position, [], False
        while not row_done:
            if text.startswith('"', position):
                position += 1
                pieces = []
                while True:
                    close = text.find('"', position)
                    if close < 0:
                        raise _MalformedCSV(f"Unclosed quoted field in record {len(records) + 1}")
                    pieces.append(text[position:close])
                    if text.startswith('"', close + 1):
                        pieces.append('"')
                        position = close + 2
                        continue
                    position = close + 1
                    break
                fields.append("".join(pieces))
                if position >= end:
                    row_done = True
                elif text.startswith(col_sep, position):
                    position += len(col_sep)
                elif text.startswith(row_sep, position):
                    position += len(row_sep)
                    row_done = True
                else:
                    raise _MalformedCSV(f"Any value after quoted field isn't allowed in record {len(records) + 1}")
            else:
                stops = [found for found in (text.find(col_sep, position), text.find(row_sep, position)) if found >= 0]
                stop = min(stops) if stops else end
                value = text[position:stop]
                if '"' in value:
                    raise _MalformedCSV(f"Illegal quoting in record {len(records) + 1}")
                if "\r" in value or "\n" in value:
                    raise _MalformedCSV(f"Unquoted fields do not allow new line in record {len(records) + 1}")
                fields.append(value or None)
                if stop == end:
                    position, row_done = end, True
                elif text.startswith(col_sep, stop):
                    position = stop + len(col_sep)
                else:
                    position, row_done = stop + len(row_sep), True
        raw = text[start:position].removesuffix(row_sep)
        records.append((raw, [] if raw == "" else fields))
    return records


def _identify_delimiter(text: str) -> str:
    """``semicolon_delimited?`` / ``identify_delimiter``: first 3 lines, ';' only if consistent and wider than ','."""
    lines: list[str] = []
    position = 0
    while position < len(text) and len(lines) < 3:
        newline = text.find("\n", position)
        stop = len(text) if newline < 0 else newline + 1
        lines.append(text[position:stop])
        position = stop
    if not lines:
        return ","
    counts = {";": 0, ",": 0}
    for separator in counts:
        try:
            sizes = []
            for line in lines:
                records = _ruby_csv(line, separator)
                sizes.append(len(records[0][1]) if records else 0)
        except _MalformedCSV:
            continue
        if len(set(sizes)) == 1:
            counts[separator] = sizes[0]
    return ";" if counts[";"] > counts[","] else ","


def _ruby_split_decimal(field_text: str) -> list[str]:
    """Ruby ``field.split(/[,.]/)``: trailing empty strings are dropped."""
    parts = re.split(r"[,.]", field_text)
    while parts and parts[-1] == "":
        parts.pop()
    return parts


def _decimal_comma_to_period(value: str | None) -> str | None:
    """Canvas ``CSV::Converters[:decimal_comma_to_period]``: "1.234,5" -> "1234.5", "8,5" -> "8.5"."""
    if value is None or not _DECIMAL.search(value):
        return value
    parts = _ruby_split_decimal(value)
    last = parts.pop() if parts else None
    if not parts:
        return last
    return f"{''.join(parts)}.{last}"


@dataclass
class CanvasImport:
    """What ``GradebookImporter#parse!`` reads from a gradebook CSV."""

    assignments: dict[str, str] = field(default_factory=dict)  # assignment id -> title
    points: dict[str, str] = field(default_factory=dict)  # assignment id -> Points Possible cell
    scores: dict[str, dict[str, str]] = field(default_factory=dict)  # user id -> {assignment id -> value}
    rows: list[list[str]] = field(default_factory=list)  # every parsed row (skip_lines applied), header first


def _canvas_student_columns(header: list[str | None]) -> int:
    """``header?`` + ``update_column_count`` for the ``Student`` layout (no custom columns known)."""

    def cell(index: int) -> str:
        return (header[index] or "") if index < len(header) else ""

    if header[0] is None or header[1] is None:
        raise ImportRefused("Invalid header row (an empty Student or ID cell)")
    if not (len(header) > 3 and "Student" in header[0] and "ID" in header[1]):
        raise ImportRefused(f"Invalid header row: {header[:3]!r}")
    columns = 3
    if re.search(r"SIS\s+Login\s+ID", cell(2), re.ASCII):
        columns += 1
    elif re.search(r"SIS\s+User\s+ID", cell(2), re.ASCII) and re.search(r"SIS\s+Login\s+ID", cell(3), re.ASCII):
        integration = 1 if re.search(r"Integration\s+ID", cell(4), re.ASCII) else 0
        columns += 2 + integration
        if re.search(r"Root\s+Account", cell(4 + integration), re.ASCII):
            columns += 1
    if columns - 1 >= len(header) or header[columns - 1] is None or "Section" not in header[columns - 1]:
        raise ImportRefused(f"Invalid header row: no Section column at position {columns}")
    return columns


def _ruby_to_i(text: str) -> int:
    """Ruby ``String#to_i``: leading whitespace, sign, digits (underscores between digits), else 0."""
    match = re.match(r"[ \t\n\v\f\r]*([+-]?[0-9]+(?:_[0-9]+)*)", text)
    return int(match.group(1).replace("_", "")) if match else 0


def read_canvas_gradebook(data: bytes) -> CanvasImport:
    """Apply ``GradebookImporter`` (``csv_stream`` + ``check_for_non_student_row`` + ``process_*``) to a CSV."""
    try:
        text = data.decode("utf-8")  # no BOM handling: a BOM stays at the start of the first cell
    except UnicodeDecodeError as error:
        raise ImportRefused(f"not UTF-8: {error}") from error
    separator = _identify_delimiter(text)
    try:
        records = _ruby_csv(text, separator)
    except _MalformedCSV as error:
        raise ImportRefused(f"did not parse cleanly: {error}") from error
    rows = [
        [_decimal_comma_to_period(value) for value in fields] for raw, fields in records if not _SKIP_LINE.search(raw)
    ]
    if not rows:
        raise ImportRefused("empty file")
    header = rows[0]
    student_columns = _canvas_student_columns(header)
    indices: dict[str, int] = {}
    titles: dict[str, str] = {}
    for name in header[student_columns:]:
        if name is None or _TOTALS.search(name):
            continue
        match = _TITLE_AND_ID.match(name)
        if match is None:
            continue  # matched by title or created as a new assignment: nothing a test can check
        indices[match.group(2)] = header.index(name)
        titles[match.group(2)] = match.group(1)
    points_row: list[str | None] = []
    students: list[list[str | None]] = []
    for row in rows[1:]:
        if row and row[0] is not None and "Points Possible" in row[0]:
            points_row = row
        elif all(_MUTED.search(value) for value in row if value is not None):
            continue
        else:
            students.append(row)

    def cell(row: list[str | None], index: int) -> str | None:
        return row[index] if index < len(row) else None

    read_only = {aid for aid, index in indices.items() if _READ_ONLY.search(cell(points_row, index) or "")}
    result = CanvasImport(rows=[[value or "" for value in row] for row in rows])
    for aid, index in indices.items():
        if aid in read_only:
            continue
        result.assignments[aid] = titles[aid]
        result.points[aid] = cell(points_row, index) or ""
    for row in students:
        student_id = cell(row, 1) or ""
        user = str(_ruby_to_i(student_id)) if _ruby_to_i(student_id) else student_id
        result.scores[user] = {aid: (cell(row, indices[aid]) or "").strip(_RUBY_STRIP) for aid in result.assignments}
    return result


def _no_change_to_value(old: str, new: str) -> bool:
    """``no_change_to_value?``: equal, both blank or "-", or equal with 2 decimals (EX compared case-insensitively)."""
    old, new = old.strip(_RUBY_STRIP), new.strip(_RUBY_STRIP)
    if old.upper() == "EX" and new.upper() == "EX":
        return True
    if old == new or (old in ("", "-") and new in ("", "-")):
        return True
    number = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
    if number.match(old) and number.match(new):
        cents = Decimal("0.01")
        return Decimal(old).quantize(cents, ROUND_HALF_UP) == Decimal(new).quantize(cents, ROUND_HALF_UP)
    return False


def canvas_changes(before: CanvasImport, after: CanvasImport) -> dict[str, dict[str, str]]:
    """User id -> {assignment id -> new value} for every cell Canvas counts as a change (a blank removes a grade)."""
    changes: dict[str, dict[str, str]] = {}
    for user, values in after.scores.items():
        old_values = before.scores.get(user, {})
        for aid, new in values.items():
            if not _no_change_to_value(old_values.get(aid, ""), new):
                changes.setdefault(user, {})[aid] = new
    return changes
