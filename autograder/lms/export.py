"""Export: a run's grades into the file an LMS imports (`autograder export OUT_DIR --to moodle|canvas|csv`).

Reads what `autograder grade` wrote in ``OUT_DIR`` (``grades.csv``, ``results/``, ``feedback/`` and,
for a Moodle or Canvas download, ``lms.json``) and writes into ``OUT_DIR/export/``. Points are put on
the LMS's scale (the worksheet's maximum grade, the column's points possible, or ``--scale``) and
rounded to two decimals, half up, which is how both LMSs show a grade. Every student of the download
is accounted for in the report: written, not graded (and why: their cells are left as they are), or
missing from the LMS's file; the LMS's own rows with no submission are left untouched.
"""

from __future__ import annotations

import contextlib
import csv
import html
import io
import json
from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from autograder.errors import AutograderError
from autograder.lms import canvas, moodle
from autograder.lms.download import CANVAS, LMS_NAMES, MOODLE, feedback_folder
from autograder.lms.roster import Member, Roster, read_roster
from autograder.reports.gradebook import GRADEBOOK, RESULTS_DIR, format_points, write_atomically
from autograder.reports.pages import FEEDBACK_DIR, feedback_file_name

EXPORT_DIR = "export"
TABLE = "grades-by-question.csv"
FEEDBACK_ZIP = "moodle-feedback-files.zip"
CENT = Decimal("0.01")
ROUNDING = "rounded to 2 decimals, half up"


class ExportError(AutograderError):
    """The output folder or the LMS's file cannot be exported to (one line, exit code 1)."""


@dataclass(frozen=True)
class Outcome:
    """One student's row of a run, as its reports give it."""

    student: str
    status: str
    score: Decimal
    max_score: Decimal
    questions: tuple[tuple[str, Decimal, Decimal], ...]  # id, score, max score
    message: str  # why not graded

    @property
    def graded(self) -> bool:
        return self.status == "graded"


@dataclass
class Report:
    """What an export wrote and what it left, for the command line to print."""

    written: list[Path] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


def on_scale(score: Decimal, max_score: Decimal, scale: Decimal) -> Decimal:
    """``score`` out of ``max_score`` as points out of ``scale``, to the cent, half up."""
    if max_score <= 0:
        return Decimal("0.00")
    return (score * scale / max_score).quantize(CENT, rounding=ROUND_HALF_UP)


def read_run(out: Path) -> tuple[list[Outcome], list[str]]:
    """Every student of the run whose output folder is ``out``, and the question ids in order."""
    path = out / GRADEBOOK
    try:
        with path.open(newline="", encoding="utf-8") as stream:
            rows = list(csv.DictReader(stream))
            columns = list(rows[0]) if rows else []
    except OSError:
        raise ExportError(f"{out} is not an output folder of `autograder grade` (no {GRADEBOOK})") from None
    questions = columns[4:]
    outcomes = []
    for row in rows:
        student = row["student"]
        data: dict = {}
        with contextlib.suppress(OSError, ValueError):  # without it, grades.csv alone: no reason given
            data = json.loads((out / RESULTS_DIR / f"{student}.json").read_text(encoding="utf-8"))
        by_question = {q.get("id"): q for q in data.get("questions", []) if isinstance(q, dict)}
        outcomes.append(
            Outcome(
                student,
                row["status"],
                _number(data.get("score", row["total"])),
                _number(data.get("max_score", row["max_total"])),
                tuple(
                    (
                        qid,
                        _number(by_question.get(qid, {}).get("score", row[qid])),
                        _number(by_question.get(qid, {}).get("max_score", 0)),
                    )
                    for qid in questions
                ),
                str(data.get("message", "")),
            )
        )
    return outcomes, questions


def _number(value: object) -> Decimal:
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return Decimal(0)


def _points(value: Decimal, lang: str = "en") -> str:
    """Points as the reports write them (at most two decimals), with a decimal comma in French."""
    text = format_points(float(value))
    return text.replace(".", ",") if lang == "fr" else text


def comment(outcome: Outcome, grade: Decimal, scale: Decimal, assignment: str, lang: str) -> str:
    """The feedback comment Moodle shows beside the grade (HTML, as Moodle stores comments)."""
    total = f"{_points(outcome.score, lang)} / {_points(outcome.max_score, lang)}"
    mark = f"{_points(grade, lang)} / {_points(scale, lang)}"
    if lang == "fr":
        head = f"Note\u00a0: {mark} ({total} points aux tests cachés de {assignment})."
        tail = "Le détail de chaque test et des conseils sont dans le fichier de retour joint."
    else:
        head = f"Grade: {mark} ({total} points on the hidden tests of {assignment})."
        tail = "Each test and hints are in the attached feedback file."
    items = "".join(
        f"<li>{html.escape(qid)}\u00a0: {_points(score, lang)} / {_points(maximum, lang)}</li>"
        if lang == "fr"
        else f"<li>{html.escape(qid)}: {_points(score, lang)} / {_points(maximum, lang)}</li>"
        for qid, score, maximum in outcome.questions
    )
    return f"<p>{html.escape(head)}</p><ul>{items}</ul><p>{html.escape(tail)}</p>"


def _roster(out: Path, lms: str) -> Roster:
    roster = read_roster(out)
    if roster is None:
        raise ExportError(
            f"{out} was not graded from a {LMS_NAMES[lms]} download (no lms.json): grade the download's zip or "
            "folder as it is, then export"
        )
    if roster.lms != lms:
        raise ExportError(f"{out} was graded from a {roster.lms_name} download, not a {LMS_NAMES[lms]} one")
    return roster


def _who(member: Member) -> str:
    participant = member.participant
    if participant.lms == MOODLE:
        return f"{participant.name} (participant {participant.id})"
    if participant.anonymous:
        return f"anonymous {participant.id}"
    return f"{participant.name} (user {participant.id})"


def _scale(given: Decimal | None, lms_max: Decimal | None, what: str) -> Decimal:
    if lms_max is None:
        if given is None:
            raise ExportError(f"{what} gives no maximum: give the scale with --scale N")
        return given
    if given is not None and given != lms_max:
        raise ExportError(f"--scale {_points(given)} disagrees with {what}, {_points(lms_max)}: leave --scale out")
    return lms_max


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, text)
    return path


def _graded_members(report: Report, members: list[Member], outcomes: dict[str, Outcome], where: str) -> list[Member]:
    """The members whose grade can be written: the graded ones. The others go into the report, with why."""
    ready, left = [], []
    for member in members:
        outcome = outcomes.get(member.student)
        if outcome is not None and outcome.graded:
            ready.append(member)
        else:
            why = f"{outcome.status}: {outcome.message}".rstrip(": ") if outcome else "no row in grades.csv"
            left.append(f"  {_who(member)}: {why}")
    if left:
        report.lines.append(f"not graded, left as they are in the {where} ({len(left)}):")
        report.lines += left
    return ready


def _place(
    report: Report, roster: Roster, outcomes: dict[str, Outcome], scale: Decimal, rows: Collection[str], where: str
) -> dict[str, tuple[Member, Decimal]]:
    """Each graded member whose LMS id has a row in the LMS's file (``rows``), with their grade on ``scale``;
    everyone else of the download, and the file's rows with no submission, go into the report."""
    members = list(roster.members)
    placed, missing = {}, []
    for member in _graded_members(report, members, outcomes, where):
        outcome = outcomes[member.student]
        grade = on_scale(outcome.score, outcome.max_score, scale)
        participant = member.participant
        if participant.anonymous or participant.id not in rows:
            why = " (anonymous grading: the gradebook has no such id)" if participant.anonymous else ""
            missing.append(f"  {_who(member)}: {grade:f} / {_points(scale)}{why}")
        else:
            placed[participant.id] = (member, grade)
    if missing:
        report.lines.append(f"graded but not in the {where}, so not written ({len(missing)}):")
        report.lines += missing
    handed = {member.participant.id for member in members}
    nothing = [row for row in rows if row not in handed]
    if nothing:
        people = "participant(s)" if roster.lms == MOODLE else "student(s)"
        report.lines.append(f"{len(nothing)} {people} of the {where} handed nothing in: left as they are")
    if roster.skipped:
        shown = ", ".join(name for name, _ in roster.skipped[:5]) + (" and more" if len(roster.skipped) > 5 else "")
        report.lines.append(f"{len(roster.skipped)} entry(ies) of the download not unpacked (see lms.json): {shown}")
    return placed


def export_moodle(out: Path, worksheet_path: Path, scale: Decimal | None, lang: str) -> Report:
    roster = _roster(out, MOODLE)
    outcomes = {o.student: o for o in read_run(out)[0]}
    sheet = moodle.read_worksheet(worksheet_path)
    scale = _scale(scale, sheet.maximum, f"the worksheet's maximum grade ({worksheet_path.name})")
    report = Report()
    placed = _place(report, roster, outcomes, scale, sheet.participants, "worksheet")
    grades = {
        participant: (grade, comment(outcomes[member.student], grade, scale, roster.assignment, lang))
        for participant, (member, grade) in placed.items()
    }
    target = out / EXPORT_DIR / worksheet_path.name
    report.written.append(_write(target, sheet.fill(grades)))
    off = "" if sheet.feedback is not None else " (no 'Feedback comments' column: feedback comments are off)"
    head = [f"wrote {target}: {len(grades)} grade(s) out of {_points(scale)}, {ROUNDING}{off}"]
    head += [f"  {_who(member)}: {grade:f}" for member, grade in placed.values()]
    locked = [member for participant, (member, _) in placed.items() if participant in sheet.locked]
    if locked:
        report.lines.append(f"written, but Moodle will not change them ('Grade can be changed' is No) ({len(locked)}):")
        report.lines += [f"  {_who(member)}" for member in locked]
    pages = {}
    for member in roster.members:
        page = out / FEEDBACK_DIR / feedback_file_name(member.student)
        if page.is_file():
            pages[member.participant.id] = (feedback_folder(member.participant, member.entries), page)
    archive = out / EXPORT_DIR / FEEDBACK_ZIP
    count = moodle.feedback_zip(archive, pages, f"feedback-{roster.assignment}.html")
    report.written.append(archive)
    head.append(f"wrote {archive}: {count} feedback page(s), one folder per participant as in the download")
    report.lines = head + report.lines
    report.lines += [
        "in Moodle, on the assignment's submissions page: 'Upload grading worksheet' with the first file,",
        "then 'Upload multiple feedback files in a zip' with the second.",
        "Moodle skips a row whose grade was changed in Moodle after you downloaded the worksheet, unless you tick",
        f"  '{moodle.IGNORE_MODIFIED}'",
    ]
    return report


def export_canvas(out: Path, gradebook_path: Path, column: str | None, scale: Decimal | None) -> Report:
    roster = _roster(out, CANVAS)
    outcomes = {o.student: o for o in read_run(out)[0]}
    book = canvas.read_gradebook(gradebook_path, column, roster.assignment)
    scale = _scale(scale, book.points, f"the Points Possible of {book.title!r}")
    report = Report()
    placed = _place(report, roster, outcomes, scale, book.students, "gradebook")
    target = out / EXPORT_DIR / gradebook_path.name
    report.written.append(_write(target, book.fill({user: grade for user, (_, grade) in placed.items()})))
    head = [f"wrote {target}: {len(placed)} score(s) in {book.title!r}, out of {_points(scale)}, {ROUNDING}"]
    head += [f"  {_who(member)}: {grade:f}{', late' if member.late else ''}" for member, grade in placed.values()]
    report.lines = head + report.lines
    report.lines.append("in Canvas: Grades > Import, with this file; Canvas shows the changes before it saves them")
    return report


def export_table(out: Path, scale: Decimal | None) -> Report:
    """``export/grades-by-question.csv``: one row per student, their LMS identity beside, for spreadsheets."""
    outcomes, questions = read_run(out)
    roster = read_roster(out)
    members = roster.by_student() if roster is not None else {}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    on = [f"grade /{_points(scale)}"] if scale is not None else []
    writer.writerow(
        ["student", "lms", "lms_id", "name", "late", "file", "status", "total", "max_total", *on, *questions, "message"]
    )
    for outcome in outcomes:
        member = members.get(outcome.student)
        participant = member.participant if member else None
        grade = [f"{on_scale(outcome.score, outcome.max_score, scale):f}"] if scale is not None else []
        writer.writerow(
            [
                outcome.student,
                roster.lms_name if roster and member else "",
                participant.id if participant else "",
                participant.name if participant else "",
                ("yes" if member.late else "no") if member else "",
                member.graded if member else "",
                outcome.status,
                _points(outcome.score),
                _points(outcome.max_score),
                *grade,
                *(_points(score) for _, score, _ in outcome.questions),
                outcome.message,
            ]
        )
    target = _write(out / EXPORT_DIR / TABLE, "\ufeff" + buffer.getvalue())
    scaled = f", the grade out of {_points(scale)} {ROUNDING}" if scale is not None else ""
    return Report([target], [f"wrote {target}: {len(outcomes)} student(s), one column per question{scaled}"])
