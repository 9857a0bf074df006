"""Download: whose is each file of a Moodle or Canvas download, read from the names those LMSs give.

**Moodle**, "Download all submissions" (``mod/assign``): each participant's files under a prefix
``<Full name>_<participant id>``, the name with its underscores made spaces (so the id is the first
all-digit field), then the submission plugin: with "download submissions in folders" on, one folder
per plugin, ``<prefix>_assignsubmission_file`` (Moodle 4.1 and later) or ``..._file_`` (before), the
student's files inside it with their own folders; with it off, flat files
``<prefix>_assignsubmission_file_<file name>``. Blind marking writes ``Participant`` for the name, a
team submission the group's name and id. The participant id is the one the offline grading worksheet
writes as ``Participant <id>``.

**Canvas**, "Download Submissions": flat files ``<lastfirst>[_LATE]_<user id>_<attachment id>_<file
name>``, where lastfirst is the sortable name lower-cased with every non-word character removed, and
``LATE`` is there when Canvas counts the submission late. A text entry is ``<lastfirst>_<user id>_text.html``
and a URL ``..._link.html``. With anonymous grading ``anon_<anonymous id>`` replaces the name and user id.
Only the latest attempt's files are in the zip, but a file uploaded again under the same name is renamed
``<name>-N.<ext>`` by Canvas: of such files the latest upload, the highest attachment id, is the one graded.

Pure: names in, records out. :mod:`autograder.grading.discover` lists the folder and reads the files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

MOODLE = "moodle"
CANVAS = "canvas"
LMS_NAMES = {MOODLE: "Moodle", CANVAS: "Canvas"}

_MOODLE_FOLDER = re.compile(r"^(?P<name>[^_]*)_(?P<id>\d+)_(?P<plugin>assign(?:submission|feedback)_[a-z0-9]+)_?$")
_MOODLE_FILE = re.compile(
    r"^(?P<name>[^_]*)_(?P<id>\d+)_(?P<plugin>assign(?:submission|feedback)_[a-z0-9]+)_(?P<file>.+)$"
)
_CANVAS_ANONYMOUS = re.compile(
    r"^(?:(?P<late>LATE)_)?anon_(?P<id>[A-Za-z0-9]+)_(?:(?P<attachment>\d+)_(?P<file>.+)|(?P<kind>text|link)\.html)$",
    re.IGNORECASE,
)
_CANVAS = re.compile(
    r"^(?P<name>\w*?)(?:_(?P<late>LATE))?_(?P<id>\d+)_(?:(?P<attachment>\d+)_(?P<file>.+)|(?P<kind>text|link)\.html)$",
    re.IGNORECASE,
)
_RESUBMITTED = re.compile(r"^(?P<stem>.*?)-(?P<n>\d+)(?P<ext>(?:\.[A-Za-z][A-Za-z0-9]*)*\.[A-Za-z0-9]*)$")


@dataclass(frozen=True)
class Participant:
    """A student as the LMS names them in its download."""

    lms: str  # MOODLE or CANVAS
    id: str  # Moodle: the participant id (a team's group id); Canvas: the user id (or the anonymous id)
    name: str  # Moodle: the full name as the download writes it; Canvas: lastfirst ("" when anonymous)
    anonymous: bool = False

    @property
    def student(self) -> str:
        """The kit's student id: the LMS's own prefix, name and id (``Alice Martin_100001``, ``martinalice_4521``)."""
        if self.anonymous:
            return f"anon_{self.id}"
        return f"{self.name}_{self.id}" if self.name else self.id


@dataclass(frozen=True)
class Piece:
    """One top-level entry of a download: a participant's folder, or one of their files."""

    participant: Participant
    entry: str  # the entry's name, as in the download
    folder: bool
    file_name: str = ""  # a file's own name, as the student uploaded it ("" for a folder, or a text entry)
    plugin: str = (
        ""  # Moodle: "assignsubmission_file", "assignsubmission_onlinetext"...; Canvas: "upload", "text", "link"
    )
    attachment: int = 0  # Canvas: the attachment id (later uploads have higher ones)
    late: bool = False  # Canvas: LATE in the name


@dataclass(frozen=True)
class Handin:
    """What one participant handed in, as the download holds it."""

    participant: Participant
    entries: tuple[str, ...]  # their top-level entries in the download
    files: tuple[str, ...]  # every file of theirs, relative to the download's folder
    late: bool = False  # Canvas counted it late
    graded: str = ""  # the file graded, relative to the download's folder ("" when none could be)


def moodle_piece(entry: str, folder: bool) -> Piece | None:
    """A Moodle download's entry, or None when its name is not one Moodle writes."""
    match = (_MOODLE_FOLDER if folder else _MOODLE_FILE).match(entry)
    if match is None:
        return None
    participant = Participant(MOODLE, match["id"], match["name"].strip())
    return Piece(participant, entry, folder, "" if folder else match["file"], match["plugin"])


def canvas_piece(entry: str, folder: bool) -> Piece | None:
    """A Canvas download's entry (always a file), or None when its name is not one Canvas writes."""
    if folder:
        return None
    match = _CANVAS_ANONYMOUS.match(entry)
    anonymous = match is not None
    match = match or _CANVAS.match(entry)
    if match is None:
        return None
    name = "" if anonymous else match["name"]
    participant = Participant(CANVAS, match["id"], name, anonymous=anonymous)
    if match["kind"]:
        return Piece(participant, entry, False, "", match["kind"].lower(), late=bool(match["late"]))
    return Piece(participant, entry, False, match["file"], "upload", int(match["attachment"]), bool(match["late"]))


def recognise(entries: Iterable[tuple[str, bool]]) -> tuple[str, dict[str, Piece]] | None:
    """Which LMS wrote a folder whose top-level entries are ``(name, is_folder)``: the one whose names match
    at least half of them (the most, when both could), with each matching entry's :class:`Piece`; None
    for a folder of the kit's own layouts."""
    entries = list(entries)
    best: tuple[str, dict[str, Piece]] | None = None
    for lms, reader in ((MOODLE, moodle_piece), (CANVAS, canvas_piece)):
        pieces = {name: piece for name, folder in entries if (piece := reader(name, folder)) is not None}
        if pieces and 2 * len(pieces) >= len(entries) and (best is None or len(pieces) > len(best[1])):
            best = (lms, pieces)
    return best


def resubmission(file_name: str) -> tuple[str, int]:
    """A Canvas file name without the ``-N`` Canvas adds to a file uploaded again under the same name,
    and N (0 when there is none): ``rnn_intro-2.ipynb`` -> ``("rnn_intro.ipynb", 2)``."""
    match = _RESUBMITTED.match(file_name)
    if match is None or not match["stem"]:
        return file_name, 0
    return match["stem"] + match["ext"], int(match["n"])


def feedback_folder(participant: Participant, entries: Iterable[str]) -> str:
    """The folder a participant's feedback file goes in, in the zip Moodle's "Upload multiple feedback files
    in a zip" reads: their file-submission folder as the download names it, or the name Moodle would give it."""
    for entry in entries:
        piece = moodle_piece(entry, True)
        if piece is not None and piece.plugin == "assignsubmission_file":
            return entry
    return f"{participant.name}_{participant.id}_assignsubmission_file_"
