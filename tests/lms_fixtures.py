"""Moodle and Canvas files shaped as those LMSs write them, around the kit's own notebooks.

Moodle (``mod/assign``): "Download all submissions" names each participant's files
``<Full name>_<participant id>_assignsubmission_<plugin>`` (a folder, Moodle 4.1 and later; the
student's own names inside) or, with "download submissions in folders" off, flat files
``<Full name>_<participant id>_assignsubmission_file_<file name>``; the offline grading worksheet is
CSV with a UTF-8 BOM, LF line ends and PHP's quoting (any cell holding a space is quoted), the
participant as ``Participant <id>``, grades with two decimals, dates as ``userdate`` writes them and
``-`` for none. Canvas: "Download Submissions" names each file
``<lastfirst>[_LATE]_<user id>_<attachment id>_<file name>`` (a file uploaded again under the same
name gets ``-N``), a text entry ``<lastfirst>_<user id>_text.html``; the gradebook export is CSV with
LF line ends and Ruby's minimal quoting, a ``    Points Possible`` row, ``Title (id)`` columns and
totals marked ``(read only)``.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from conftest import EXAMPLE_NOTEBOOKS, LAYOUT


@dataclass(frozen=True)
class Person:
    name: str  # Moodle's full name; Canvas's "Last, First" sortable name
    id: str  # Moodle's participant id; Canvas's user id
    files: dict[str, bytes]  # their own file names -> content
    late: bool = False


def notebook(which: str) -> bytes:
    """The solution (26/26), the released stubs (0/26) or one of the graded examples."""
    if which == "solution":
        return LAYOUT.solution_notebook.read_bytes()
    if which == "stubs":
        return LAYOUT.exercise_notebook.read_bytes()
    return EXAMPLE_NOTEBOOKS[which].read_bytes()


# Five participants: one whose name is accented, one with two notebooks, one with a .py file only.
MOODLE_CLASS = (
    Person("Alice Martin", "100001", {"rnn_intro.ipynb": notebook("solution")}),
    Person("Élodie Lefèvre-Nguyễn", "100002", {"rnn_intro.ipynb": notebook("bruno_dupont")}),
    Person(
        "Bruno Costa",
        "100003",
        {"rnn_intro.ipynb": notebook("david_petit"), "rnn_intro (copie).ipynb": notebook("stubs")},
    ),
    Person("Chloé Dubois", "100004", {"rnn_intro.py": b"def rnn_cell_forward(*args):\n    pass\n"}),
    Person("David Roux", "100005", {"rnn_intro.ipynb": notebook("stubs"), "notes.txt": b"fini en retard"}),
)
NO_SUBMISSION = Person("Farid Haddad", "100006", {})  # in the worksheet only


def moodle_entries(people: tuple[Person, ...], folders: bool) -> dict[str, bytes]:
    """The zip's entries, as Moodle names them, with an online-text entry for the first participant."""
    entries = {}
    for person in people:
        prefix = f"{person.name.replace('_', ' ')}_{person.id}_assignsubmission_"
        for name, content in person.files.items():
            entries[f"{prefix}file/{name}" if folders else f"{prefix}file_{name}"] = content
    first = people[0]
    online = b'<!DOCTYPE html><html><head><meta charset="UTF-8"></head><body><p>Voir le notebook.</p></body></html>'
    prefix = f"{first.name}_{first.id}_assignsubmission_"
    entries[f"{prefix}onlinetext/onlinetext.html" if folders else f"{prefix}onlinetext_onlinetext.html"] = online
    return entries


def zip_of(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as handle:
        for name, content in entries.items():
            handle.writestr(name, content)
    return buffer.getvalue()


def unpack_to(entries: dict[str, bytes], folder: Path) -> Path:
    for name, content in entries.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return folder


WORKSHEET_HEADER = (
    "Identifier",
    "Full name",
    "Email address",
    "Status",
    "Grade",
    "Maximum grade",
    "Grade can be changed",
    "Last modified (submission)",
    "Online text",
    "Last modified (grade)",
    "Feedback comments",
)
SUBMITTED = "Friday, 4 December 2026, 6:12 PM"
GRADED_BY_HAND = "Thursday, 3 December 2026, 9:00 AM"  # Alice's and Farid's grades, set in Moodle before


def php_cell(value: str) -> str:
    """A cell as PHP's fputcsv writes it: quoted when it holds a comma, a quote, a space, a tab or a line end."""
    if any(char in value for char in ',"\t\r\n '):
        return '"' + value.replace('"', '""') + '"'
    return value


def moodle_worksheet(people: tuple[Person, ...]) -> bytes:
    """The offline grading worksheet Moodle gives for ``people`` and Farid, who handed nothing in."""
    lines = [",".join(php_cell(cell) for cell in WORKSHEET_HEADER)]
    for person in (*people, NO_SUBMISSION):
        email = f"{person.id}@etu.univ.example"
        if person is NO_SUBMISSION:
            row = ["No submission - Graded", "12.00", "20.00", "Yes", "-", "", GRADED_BY_HAND, "<p>Dispensé</p>"]
        elif person.id == "100001":
            row = [
                "Submitted for grading - Graded",
                "5.00",
                "20.00",
                "Yes",
                SUBMITTED,
                "",
                GRADED_BY_HAND,
                "<p>Brouillon</p>",
            ]
        else:
            row = ["Submitted for grading", "", "20.00", "Yes", SUBMITTED, "", "-", ""]
        lines.append(",".join(php_cell(cell) for cell in [f"Participant {person.id}", person.name, email, *row]))
    return ("\ufeff" + "\n".join(lines) + "\n").encode()


def lastfirst(sortable: str) -> str:
    """Canvas's name part of a download's file names: the sortable name lower-cased, non-word characters out."""
    return "".join(char for char in sortable.lower() if char.isalnum() or char == "_")


# Canvas: a late one, and one who uploaded the notebook again (Canvas renamed it -1; the later attachment).
CANVAS_CLASS = (
    Person("Martin, Alice", "1001", {"5001": notebook("solution")}),
    Person("Lefèvre, Élodie", "1002", {"5002": notebook("bruno_dupont")}, late=True),
    Person("Costa, Bruno", "1003", {"5003": notebook("stubs"), "5010": notebook("chloe_bernard")}),
    Person("Dubois, Chloé", "1004", {}),  # a text entry only
)


def canvas_entries() -> dict[str, bytes]:
    entries = {}
    for person in CANVAS_CLASS:
        stem = f"{lastfirst(person.name)}{'_LATE' if person.late else ''}_{person.id}"
        for number, (attachment, content) in enumerate(sorted(person.files.items())):
            suffix = f"-{number}" if number else ""
            entries[f"{stem}_{attachment}_rnn_intro{suffix}.ipynb"] = content
        if not person.files:
            entries[f"{stem}_text.html"] = b"<html><body><p>Je n'ai pas fini.</p></body></html>"
    return entries


GRADEBOOK_COLUMN = "TP intro aux RNNs (202)"


def ruby_cell(value: str) -> str:
    """A cell as Ruby's CSV writes it: quoted only when it holds a comma, a quote or a line end."""
    if any(char in value for char in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def canvas_gradebook() -> bytes:
    """Canvas's gradebook export for a course with two assignments, the class above, Farid and the test student."""
    header = [
        "Student",
        "ID",
        "SIS User ID",
        "SIS Login ID",
        "Section",
        "Devoir 1 (201)",
        GRADEBOOK_COLUMN,
        "Current Points",
        "Final Points",
        "Current Score",
        "Unposted Current Score",
        "Final Score",
        "Unposted Final Score",
    ]
    only = ["(read only)"] * 6
    rows = [header, ["    Points Possible", "", "", "", "", "10.00", "20.00", *only]]
    people = [(p.name, p.id) for p in CANVAS_CLASS] + [("Haddad, Farid", "1005")]
    for name, user in sorted(people):
        done = "15.00" if user == "1005" else ""  # Farid was graded by hand, and handed nothing in here
        rows.append([name, user, f"e{user}", lastfirst(name), "L3 Informatique", "8.50", done, *["8.50"] * 6])
    rows.append(["Student, Test", "1099", "", "", "L3 Informatique", "", "", "", "", "", "", "", ""])
    return ("\n".join(",".join(ruby_cell(cell) for cell in row) for row in rows) + "\n").encode()


CP437_NAME = "Chloé Lefèvre_100005_assignsubmission_file/rnn_intro.ipynb"
LINK_NAME = "Eve Noir_100003_assignsubmission_file/rnn_intro.ipynb"


def hostile_download(absolute: Path) -> bytes:
    """A Moodle download with two honest participants among the attacks on the extraction: paths out of
    the folder (``../``, an absolute ``absolute``), a link to the reference solution, a 10 GB-declared
    bomb; one honest name is in code page 437, without the UTF-8 flag, as old Windows tools write it."""
    from zips import Entry, build

    solution = notebook("solution")
    return build(
        [
            Entry(b"Alice Martin_100001_assignsubmission_file/rnn_intro.ipynb", solution),
            Entry(
                "Chloé Lefèvre_100005_assignsubmission_file/rnn_intro.ipynb".encode("cp437"),
                notebook("stubs"),
                utf8=False,
            ),
            Entry(b"../escaped.ipynb", solution),
            Entry(b"Bob Roy_100002_assignsubmission_file/../../../escaped-too.ipynb", solution),
            Entry(str(absolute).encode(), solution),
            Entry(
                b"Eve Noir_100003_assignsubmission_file/rnn_intro.ipynb",
                str(LAYOUT.solution_notebook).encode(),
                mode=0o120777,
            ),
            Entry(b"Zed Bomb_100004_assignsubmission_file/rnn_intro.ipynb", b"\0" * 2**20, declared=10 * 2**30),
        ]
    )
