"""Roster: who each student of a run is in their LMS, kept beside the reports as ``lms.json``.

`autograder grade` writes it when it read a Moodle or Canvas download; `autograder export` reads it
to put each student's grade where the LMS's file expects it. One entry per participant of the
download, graded or not, and the entries of the archive that were not unpacked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from autograder.errors import AutograderError
from autograder.lms.download import LMS_NAMES, Handin, Participant
from autograder.reports.gradebook import write_atomically

ROSTER = "lms.json"


class RosterError(AutograderError):
    """The output folder's lms.json is missing or not one the kit wrote."""


@dataclass(frozen=True)
class Member:
    """One participant of the download, as the roster keeps them."""

    student: str  # the kit's student id, the key of grades.csv and results/
    participant: Participant
    entries: tuple[str, ...]  # their top-level entries in the download
    files: tuple[str, ...]  # every file they handed in, relative to the download
    late: bool
    graded: str  # the file graded, relative to the download ("" when none)


@dataclass(frozen=True)
class Roster:
    lms: str
    assignment: str  # the assignment's id (rnn_intro): how a gradebook's column for it is found
    download: str  # the zip or folder graded, as given
    members: tuple[Member, ...]
    skipped: tuple[tuple[str, str], ...] = ()  # entries of the archive not unpacked, and why

    @property
    def lms_name(self) -> str:
        return LMS_NAMES.get(self.lms, self.lms)

    def by_student(self) -> dict[str, Member]:
        return {member.student: member for member in self.members}


def member(student: str, handin: Handin) -> Member:
    return Member(student, handin.participant, handin.entries, handin.files, handin.late, handin.graded)


def write_roster(out: Path, roster: Roster) -> Path:
    data = {
        "lms": roster.lms,
        "assignment": roster.assignment,
        "download": roster.download,
        "participants": [
            {
                "student": m.student,
                "id": m.participant.id,
                "name": m.participant.name,
                "anonymous": m.participant.anonymous,
                "entries": list(m.entries),
                "files": list(m.files),
                "late": m.late,
                "graded": m.graded,
            }
            for m in roster.members
        ],
        "not_unpacked": [{"entry": name, "reason": reason} for name, reason in roster.skipped],
    }
    path = out / ROSTER
    write_atomically(path, json.dumps(data, ensure_ascii=False, indent=1) + "\n")
    return path


def read_roster(out: Path) -> Roster | None:
    """The roster of the run whose output folder is ``out``; None when that run did not read an LMS download."""
    path = out / ROSTER
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        lms = data["lms"]
        members = tuple(
            Member(
                str(item["student"]),
                Participant(lms, str(item["id"]), str(item["name"]), bool(item["anonymous"])),
                tuple(map(str, item["entries"])),
                tuple(map(str, item["files"])),
                bool(item["late"]),
                str(item["graded"]),
            )
            for item in data["participants"]
        )
        skipped = tuple((str(s["entry"]), str(s["reason"])) for s in data.get("not_unpacked", []))
        return Roster(str(lms), str(data["assignment"]), str(data["download"]), members, skipped)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise RosterError(f"{path} is not a roster autograder wrote ({type(error).__name__}: {error})") from None
