"""Cells: a CSV file read with where each cell lies in it, so that a few cells can be rewritten and every
other byte of the file kept as the LMS wrote it (its quoting, line endings, BOM, separator, trailing text).

The two LMSs write CSV differently (Moodle through PHP's ``fputcsv``, which quotes any cell holding a
space; Canvas through Ruby's CSV, which quotes only what must be), and their importers are stricter than
a spreadsheet: rewriting the whole file with Python's ``csv`` would change cells nobody asked to change.
"""

from __future__ import annotations

from dataclasses import dataclass

BOM = "\ufeff"


class CsvError(ValueError):
    """The text is not CSV that this module can splice (an unclosed quote)."""


@dataclass(frozen=True)
class Row:
    """One CSV record: its cells' values, and each cell's span ``[start, end)`` in the text, quotes included."""

    values: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]
    quoted: tuple[bool, ...]

    def get(self, index: int) -> str:
        return self.values[index] if 0 <= index < len(self.values) else ""


def delimiter_of(text: str) -> str:
    """``;`` when the first lines split on it into the same number of cells each, more than on commas
    (or commas give no such number); else ``,``. Canvas's importer's rule; Moodle's worksheet is
    always comma-separated."""
    lines = [line for line in text.lstrip(BOM).splitlines()[:3] if line]
    counts: dict[str, set[int]] = {}
    for sep in ",;":
        try:
            counts[sep] = {len(row.values) for line in lines for row in read(line, sep)[:1]}
        except CsvError:  # a quoted cell over several lines: not this line-by-line test's business
            counts[sep] = set()
    semicolons, commas = counts[";"], counts[","]
    if len(semicolons) == 1 and (len(commas) != 1 or max(semicolons) > max(commas)):
        return ";"
    return ","


def read(text: str, delimiter: str = ",") -> list[Row]:
    """Every record of ``text`` (a leading BOM is skipped, not part of the first cell); blank lines give none."""
    rows: list[Row] = []
    position = len(BOM) if text.startswith(BOM) else 0
    length = len(text)
    while position < length:
        if text[position] in "\r\n":  # a blank line
            position += 2 if text.startswith("\r\n", position) else 1
            continue
        values, spans, quoted = [], [], []
        while True:
            start = position
            if position < length and text[position] == '"':
                chunks, position = [], position + 1
                while True:
                    close = text.find('"', position)
                    if close < 0:
                        raise CsvError(f"a quote opened at character {start} is never closed")
                    chunks.append(text[position:close])
                    if text.startswith('""', close):
                        chunks.append('"')
                        position = close + 2
                        continue
                    position = close + 1
                    break
                # Text after the closing quote and before the separator belongs to the cell, as spreadsheets read it.
                end = position
                while end < length and text[end] not in delimiter + "\r\n":
                    end += 1
                chunks.append(text[position:end])
                values.append("".join(chunks))
                quoted.append(True)
                position = end
            else:
                end = position
                while end < length and text[end] not in delimiter + "\r\n":
                    end += 1
                values.append(text[position:end])
                quoted.append(False)
                position = end
            spans.append((start, position))
            if position < length and text[position] == delimiter:
                position += 1
                if position == length:  # a last empty cell at the end of the file
                    values.append("")
                    spans.append((position, position))
                    quoted.append(False)
                    break
                continue
            break
        if position < length:  # the line's end
            position += 2 if text.startswith("\r\n", position) else 1
        rows.append(Row(tuple(values), tuple(spans), tuple(quoted)))
    return rows


def quote(value: str, delimiter: str, quoted: bool = False, spaces: bool = False) -> str:
    """``value`` as one cell: quoted when it must be, when the cell it replaces was, or (PHP's rule, with
    ``spaces``) when it holds a space or a tab."""
    needs = any(char in value for char in (delimiter, '"', "\r", "\n")) or (spaces and any(c in value for c in " \t"))
    if quoted or needs:
        return '"' + value.replace('"', '""') + '"'
    return value


def splice(text: str, rows: list[Row], changes: dict[tuple[int, int], str], delimiter: str, spaces: bool) -> str:
    """``text`` with the cells ``changes`` names (row index, cell index) set to new values, and nothing
    else changed. Each cell must exist in its row."""
    edits = []
    for (row_index, cell), value in changes.items():
        row = rows[row_index]
        start, end = row.spans[cell]
        edits.append((start, end, quote(value, delimiter, row.quoted[cell], spaces)))
    out, position = [], 0
    for start, end, new in sorted(edits):
        out.append(text[position:start])
        out.append(new)
        position = end
    out.append(text[position:])
    return "".join(out)
