"""Moodle and Canvas round trips: their downloads graded as they are, their import files written back,
then read by the rules of each LMS's own importer (tests/lms_importers.py)."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from conftest import run_cli
from lms_fixtures import (
    CANVAS_CLASS,
    GRADEBOOK_COLUMN,
    GRADED_BY_HAND,
    MOODLE_CLASS,
    canvas_entries,
    canvas_gradebook,
    moodle_entries,
    moodle_worksheet,
    unpack_to,
    zip_of,
)
from lms_importers import canvas_changes, read_canvas_gradebook, read_moodle_feedback_zip, read_moodle_worksheet

WORKSHEET = "Grades-L3-TP RNN-42.csv"
MOODLE_STUDENTS = {f"{p.name}_{p.id}": p for p in MOODLE_CLASS}


def _gradebook(out: Path) -> dict[str, dict[str, str]]:
    with (out / "grades.csv").open(newline="", encoding="utf-8") as stream:
        return {row["student"]: row for row in csv.DictReader(stream)}


def _on_20(out: Path, student: str) -> Decimal:
    """A student's score out of 20, to the cent, half up, from their results file."""
    result = json.loads((out / "results" / f"{student}.json").read_text(encoding="utf-8"))
    points = Decimal(str(result["score"])) * 20 / Decimal(str(result["max_score"]))
    return points.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _moment(text: str) -> float:
    return datetime.strptime(text, "%A, %d %B %Y, %I:%M %p").replace(tzinfo=UTC).timestamp()


@pytest.fixture(scope="module")
def moodle(tmp_path_factory):
    """A Moodle download (folders on) graded from its zip, then exported with the worksheet."""
    root = tmp_path_factory.mktemp("moodle")
    download = root / "L3-TP RNN-42.zip"
    download.write_bytes(zip_of(moodle_entries(MOODLE_CLASS, folders=True)))
    (root / WORKSHEET).write_bytes(moodle_worksheet(MOODLE_CLASS))
    graded = run_cli("grade", str(download), "-j", "2", cwd=root)
    out = root / "grading-output"
    exported = run_cli("export", str(out), "--to", "moodle", "--worksheet", str(root / WORKSHEET), cwd=root)
    return root, out, graded, exported


def test_each_moodle_participant_is_one_student_named_and_numbered_as_in_moodle(moodle):
    _, out, graded, _ = moodle
    assert graded.returncode == 0, graded.stderr[-2000:]
    rows = _gradebook(out)
    assert {student: row["status"] for student, row in rows.items()} == {
        "Alice Martin_100001": "graded",
        "Élodie Lefèvre-Nguyễn_100002": "graded",
        "Bruno Costa_100003": "duplicate",
        "Chloé Dubois_100004": "no_notebook",
        "David Roux_100005": "graded",
    }
    assert rows["Alice Martin_100001"]["total"] == "26"
    assert rows["David Roux_100005"]["total"] == "0"
    assert "read as a Moodle download: 5 participant(s)" in graded.stderr
    assert (
        "no notebook among the files handed in: rnn_intro.py"
        in json.loads((out / "results" / "Chloé Dubois_100004.json").read_text(encoding="utf-8"))["message"]
    )
    roster = json.loads((out / "lms.json").read_text(encoding="utf-8"))
    assert {p["student"]: p["id"] for p in roster["participants"]} == {s: p.id for s, p in MOODLE_STUDENTS.items()}
    # The unpacked download stays beside the reports, where each result's source points.
    source = json.loads((out / "results" / "Alice Martin_100001.json").read_text(encoding="utf-8"))["source"]
    assert Path(source) == out / "download" / "Alice Martin_100001_assignsubmission_file" / "rnn_intro.ipynb"


def test_the_same_download_with_folders_off_unpacked_gives_the_same_grades(moodle, tmp_path):
    _, out, _, _ = moodle
    folder = unpack_to(moodle_entries(MOODLE_CLASS, folders=False), tmp_path / "flat")
    graded = run_cli("grade", str(folder), "--out", str(tmp_path / "out"), "-j", "2", cwd=tmp_path)
    assert graded.returncode == 0, graded.stderr[-2000:]
    assert (tmp_path / "out" / "grades.csv").read_bytes() == (out / "grades.csv").read_bytes()


def test_moodles_importer_finds_every_grade_and_comment_where_it_belongs(moodle):
    _root, out, _, exported = moodle
    assert exported.returncode == 0, exported.stderr
    written = (out / "export" / WORKSHEET).read_bytes()
    # Alice's grade (5.00) and comment were set in Moodle at GRADED_BY_HAND, as the worksheet says.
    current = {
        "100001": (5.0, _moment(GRADED_BY_HAND), "<p>Brouillon</p>"),
        "100006": (12.0, _moment(GRADED_BY_HAND), "<p>Dispensé</p>"),
    }
    imported = read_moodle_worksheet(written, current=current)
    graded = ["Alice Martin_100001", "Élodie Lefèvre-Nguyễn_100002", "David Roux_100005"]
    assert imported.grades == {MOODLE_STUDENTS[s].id: float(_on_20(out, s)) for s in graded}
    assert imported.grades["100001"] == 20.0
    assert imported.grades["100005"] == 0.0
    for student in graded:
        rows = _gradebook(out)[student]
        feedback = imported.feedback[MOODLE_STUDENTS[student].id]
        assert feedback.startswith(f"<p>Note\u00a0: {_on_20(out, student):f}".rstrip("0").rstrip(".").replace(".", ","))
        assert f"rnn_cell_forward\u00a0: {rows['rnn_cell_forward'].replace('.', ',')} / 2" in feedback
    # The ungraded and Farid (who handed nothing in) keep their empty or earlier grades: nothing to import.
    assert set(imported.feedback) == {MOODLE_STUDENTS[s].id for s in graded}
    assert imported.skipped == {"100003": "empty", "100004": "empty", "100006": "unchanged"}


def test_every_row_and_cell_not_written_is_moodles_own_byte_for_byte(moodle):
    root, out, _, _ = moodle
    before = (root / WORKSHEET).read_bytes()
    after = (out / "export" / WORKSHEET).read_bytes()
    assert after.startswith(b"\xef\xbb\xbf")  # the BOM kept
    old, new = before.decode().split("\n"), after.decode().split("\n")
    assert len(old) == len(new)
    changed = [index for index, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]
    written = {"100001", "100002", "100005"}
    assert [old[i].split(",")[0] for i in changed] == [f'"Participant {p}"' for p in sorted(written)]
    rows_before = list(csv.reader(io.StringIO(before.decode("utf-8-sig"))))
    rows_after = list(csv.reader(io.StringIO(after.decode("utf-8-sig"))))
    grade, comments = rows_before[0].index("Grade"), rows_before[0].index("Feedback comments")
    for a, b in zip(rows_before, rows_after, strict=True):
        assert [c for i, c in enumerate(a) if i not in (grade, comments)] == [
            c for i, c in enumerate(b) if i not in (grade, comments)
        ]


def test_the_output_says_who_was_written_who_was_not_and_moodles_rule_for_later_changes(moodle):
    _, _, _, exported = moodle
    text = exported.stdout
    assert "3 grade(s) out of 20, rounded to 2 decimals, half up" in text
    assert "Bruno Costa (participant 100003): duplicate: several notebooks" in text
    assert "Chloé Dubois (participant 100004): no_notebook: no notebook among the files handed in: rnn_intro.py" in text
    assert "1 participant(s) of the worksheet handed nothing in: left as they are" in text
    assert "Allow updating records that have been modified more recently in Moodle than in the spreadsheet." in text


def test_a_grade_changed_in_moodle_after_the_download_is_skipped_by_moodle_unless_told(moodle):
    """What the output warns of: the importer's own rule, applied to the exported file."""
    _, out, _, _ = moodle
    written = (out / "export" / WORKSHEET).read_bytes()
    later = {"100001": (5.0, _moment(GRADED_BY_HAND) + 3600, "<p>Brouillon</p>")}
    assert read_moodle_worksheet(written, current=later).skipped["100001"] == "stale"
    assert read_moodle_worksheet(written, current=later, ignore_modified=True).grades["100001"] == 20.0


def test_the_feedback_zip_gives_each_participant_their_own_page(moodle):
    _, out, _, _ = moodle
    archive = (out / "export" / "moodle-feedback-files.zip").read_bytes()
    ids = {p.id for p in MOODLE_CLASS}
    found = read_moodle_feedback_zip(archive, ids)
    assert found == {p.id: ["feedback-rnn_intro.html"] for p in MOODLE_CLASS}
    with zipfile.ZipFile(io.BytesIO(archive)) as handle:
        for student, person in MOODLE_STUDENTS.items():
            name = f"{person.name}_{person.id}_assignsubmission_file/feedback-rnn_intro.html"
            assert handle.read(name) == (out / "feedback" / f"{student}.html").read_bytes()


def test_a_graded_participant_missing_from_the_worksheet_is_listed_never_dropped(moodle, tmp_path):
    _root, out, _, _ = moodle
    sheet = tmp_path / "Grades-partial.csv"
    sheet.write_bytes(moodle_worksheet(MOODLE_CLASS[1:]))  # Alice left the course: no row of hers
    exported = run_cli("export", str(out), "--to", "moodle", "--worksheet", str(sheet), cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert "graded but not in the worksheet, so not written (1):\n  Alice Martin (participant 100001): 20.00 / 20" in (
        exported.stdout
    )
    assert "100001" not in read_moodle_worksheet((out / "export" / sheet.name).read_bytes()).grades


def test_a_french_worksheet_is_filled_in_french_with_decimal_commas(moodle, tmp_path):
    _, out, _, _ = moodle
    english = moodle_worksheet(MOODLE_CLASS).decode()
    french = english.replace("Identifier", "Identifiant").replace('"Full name"', '"Nom complet"')
    french = french.replace(",Grade,", ",Note,").replace('"Maximum grade"', '"Note maximale"')
    french = french.replace('"Last modified (grade)"', '"Dernière modification (note)"')
    french = french.replace('"Feedback comments"', '"Commentaires de feedback"')
    # The French pack's "Participant" has no trailing space: its worksheet writes Participant100001.
    french = (
        re.sub(r'"Participant (\d+)"', r"Participant\1", french)
        .replace(",20.00,", ',"20,00",')
        .replace(",5.00,", ',"5,00",')
        .replace(",12.00,", ',"12,00",')
    )
    sheet = tmp_path / "Notes.csv"
    sheet.write_text(french, encoding="utf-8")
    exported = run_cli("export", str(out), "--to", "moodle", "--worksheet", str(sheet), cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    imported = read_moodle_worksheet((out / "export" / "Notes.csv").read_bytes(), language="fr")
    assert imported.grades["100001"] == 20.0
    rows = imported.rows
    assert rows[1][rows[0].index("Note")] == "20,00"  # Moodle's own decimal comma, as its French worksheet wrote
    assert rows[1][rows[0].index("Commentaires de feedback")].startswith("<p>Note\u00a0: 20 / 20 (26 / 26 points")


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (["--to", "moodle"], "--to moodle needs --worksheet FILE", 2),
        (["--to", "csv", "--worksheet", "x.csv"], "--worksheet is for --to moodle", 2),
        (["--to", "moodle", "--worksheet", "WS", "--scale", "10"], "--scale 10 disagrees with the worksheet's", 1),
        (["--to", "moodle", "--worksheet", "WS", "--scale", "vingt"], "--scale wants a positive number", 2),
        (["--to", "canvas", "--gradebook", "WS"], "was graded from a Moodle download, not a Canvas one", 1),
    ],
)
def test_wrong_use_and_wrong_files_are_one_line(moodle, args, message, code):
    root, out, _, _ = moodle
    args = [str(root / WORKSHEET) if a == "WS" else a for a in args]
    result = run_cli("export", str(out), *args, cwd=root)
    assert result.returncode == code
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_folder_that_is_not_a_run_and_a_file_that_is_not_a_worksheet_are_one_line(moodle, tmp_path):
    _root, out, _, _ = moodle
    result = run_cli("export", str(tmp_path), "--to", "csv", cwd=tmp_path)
    assert result.returncode == 1
    assert "is not an output folder of `autograder grade` (no grades.csv)" in result.stderr
    (tmp_path / "notes.csv").write_text("nom,note\nalice,12\n")
    result = run_cli("export", str(out), "--to", "moodle", "--worksheet", str(tmp_path / "notes.csv"), cwd=tmp_path)
    assert result.returncode == 1
    assert "notes.csv is not a Moodle grading worksheet: no 'Identifier' column" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def canvas(tmp_path_factory):
    root = tmp_path_factory.mktemp("canvas")
    download = root / "l3-tp-rnn submissions.zip"
    download.write_bytes(zip_of(canvas_entries()))
    (root / "2026-12-04T1800_Grades-L3.csv").write_bytes(canvas_gradebook())
    graded = run_cli("grade", str(download), "-j", "2", cwd=root)
    return root, root / "grading-output", graded


def test_each_canvas_student_is_one_student_and_the_latest_upload_counts(canvas):
    _, out, graded = canvas
    assert graded.returncode == 0, graded.stderr[-2000:]
    rows = _gradebook(out)
    assert {student: row["status"] for student, row in rows.items()} == {
        "martinalice_1001": "graded",
        "lefèvreélodie_1002": "graded",
        "costabruno_1003": "graded",
        "duboischloé_1004": "no_notebook",
    }
    assert "costabruno_1003: graded rnn_intro-1.ipynb, the latest upload; also in the download: rnn_intro.ipynb" in (
        graded.stderr
    )
    roster = {p["student"]: p for p in json.loads((out / "lms.json").read_text(encoding="utf-8"))["participants"]}
    assert roster["lefèvreélodie_1002"]["late"] is True
    assert roster["martinalice_1001"]["late"] is False
    assert roster["costabruno_1003"]["graded"] == "costabruno_1003_5010_rnn_intro-1.ipynb"
    assert rows["martinalice_1001"]["total"] == "26"
    assert rows["costabruno_1003"]["total"] != "0"  # the resubmission, not the stubs uploaded first


def test_without_column_the_gradebook_with_two_assignments_asks_which_in_one_line(canvas):
    root, out, _ = canvas
    result = run_cli("export", str(out), "--to", "canvas", "--gradebook", str(root / "2026-12-04T1800_Grades-L3.csv"))
    assert result.returncode == 1
    assert "choose the assignment's column with --column 'Title (id)'" in result.stderr
    assert "Devoir 1 (201); TP intro aux RNNs (202)" in result.stderr


def test_canvass_importer_finds_every_score_in_the_assignments_column_and_nothing_else_changed(canvas):
    root, out, _ = canvas
    source = root / "2026-12-04T1800_Grades-L3.csv"
    result = run_cli("export", str(out), "--to", "canvas", "--gradebook", str(source), "--column", GRADEBOOK_COLUMN)
    assert result.returncode == 0, result.stderr
    written = (out / "export" / source.name).read_bytes()
    before, after = read_canvas_gradebook(source.read_bytes()), read_canvas_gradebook(written)
    assert after.points == before.points == {"201": "10.00", "202": "20.00"}
    graded = ["martinalice_1001", "lefèvreélodie_1002", "costabruno_1003"]
    assert canvas_changes(before, after) == {s.rsplit("_", 1)[1]: {"202": f"{_on_20(out, s):f}"} for s in graded}
    assert after.scores["1001"]["202"] == "20.00"
    assert after.scores["1005"]["202"] == "15.00"  # Farid, who handed nothing in: untouched
    changed = [(a, b) for a, b in zip(source.read_bytes().split(b"\n"), written.split(b"\n"), strict=True) if a != b]
    assert len(changed) == 3  # the three graded students' lines; the rest byte for byte
    assert f"lefèvreélodie (user 1002): {_on_20(out, 'lefèvreélodie_1002'):f}, late" in result.stdout
    assert "duboischloé (user 1004): no_notebook" in result.stdout
    assert "2 student(s) of the gradebook handed nothing in: left as they are" in result.stdout


def test_the_per_question_csv_names_each_student_as_the_lms_does(canvas):
    root, out, _ = canvas
    result = run_cli("export", str(out), "--to", "csv", "--scale", "20", cwd=root)
    assert result.returncode == 0, result.stderr
    text = (out / "export" / "grades-by-question.csv").read_text(encoding="utf-8-sig")
    rows = {row["student"]: row for row in csv.DictReader(io.StringIO(text))}
    assert set(rows) == {"martinalice_1001", "lefèvreélodie_1002", "costabruno_1003", "duboischloé_1004"}
    alice = rows["martinalice_1001"]
    assert (alice["lms"], alice["lms_id"], alice["name"], alice["late"]) == ("Canvas", "1001", "martinalice", "no")
    assert (alice["grade /20"], alice["total"], alice["rnn_cell_forward"]) == ("20.00", "26", "2")
    assert rows["lefèvreélodie_1002"]["late"] == "yes"
    assert rows["duboischloé_1004"]["message"].startswith("no notebook among the files handed in")
    assert len(CANVAS_CLASS) == len(rows)


def test_a_grade_moodle_will_not_change_is_named(moodle, tmp_path):
    _, out, _, _ = moodle
    lines = moodle_worksheet(MOODLE_CLASS).decode().split("\n")
    lines = [line.replace(",Yes,", ",No,") if line.startswith('"Participant 100005"') else line for line in lines]
    sheet = tmp_path / "Grades-locked.csv"
    sheet.write_text("\n".join(lines), encoding="utf-8")
    exported = run_cli("export", str(out), "--to", "moodle", "--worksheet", str(sheet), cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert "Moodle will not change them ('Grade can be changed' is No) (1):\n  David Roux (participant 100005)" in (
        exported.stdout
    )
