"""Unpacking an LMS download: every hostile entry is one line, nothing is written outside the folder,
and the rest is unpacked as its author named it."""

from __future__ import annotations

import csv
import io
import os
import zipfile
from pathlib import Path

import pytest
from conftest import run_cli
from lms_fixtures import hostile_download, notebook
from zips import Entry, build

from autograder.lms.archive import MAX_ENTRY_BYTES, ArchiveError, unpack, unpack_download

GOOD = "Alice Martin_100001_assignsubmission_file_/rnn_intro.ipynb"


def _files(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*") if not path.is_dir()}


def _everything(folder: Path) -> set[str]:
    return {str(path) for path in folder.rglob("*")}


@pytest.fixture
def hostile(tmp_path):
    """A download with one good notebook among the attacks the issue names, and the folder around it."""
    archive = tmp_path / "download.zip"
    archive.write_bytes(
        build(
            [
                Entry(GOOD.encode(), b'{"cells": []}'),
                Entry(b"../escaped.ipynb", b"outside"),
                Entry(b"Bob_100002_assignsubmission_file_/../../escaped2.ipynb", b"outside"),
                Entry(b"/tmp/absolute.ipynb", b"outside"),
                Entry(b"C:\\Windows\\absolute.ipynb", b"outside"),
                Entry(b"Eve_100003_assignsubmission_file_/solution.ipynb", b"/etc/passwd", mode=0o120777),
                Entry(b"Zed_100004_assignsubmission_file_/bomb.ipynb", b"\0" * 2**20, declared=10 * 2**30),
                # "Chloé Lefèvre" as Windows' zip tools write it: code page 437, no UTF-8 flag.
                Entry("Chloé Lefèvre_100005_assignsubmission_file_/tp.ipynb".encode("cp437"), b"{}", utf8=False),
                # A tool that writes UTF-8 without the flag (Python reads such names as code page 437).
                Entry("Élodie Nguyễn_100006_assignsubmission_file_/tp.ipynb".encode(), b"{}", utf8=False),
            ]
        )
    )
    return tmp_path, archive


def test_nothing_is_written_outside_and_every_attack_is_named(hostile):
    tmp_path, archive = hostile
    (tmp_path / "out").mkdir()
    before = _everything(tmp_path)
    root = tmp_path / "out" / "download"
    result = unpack(archive, root)
    assert _files(root) == {
        GOOD,
        "Chloé Lefèvre_100005_assignsubmission_file_/tp.ipynb",
        "Élodie Nguyễn_100006_assignsubmission_file_/tp.ipynb",
    }
    assert _everything(tmp_path) - before == _everything(root) | {str(root)}
    reasons = {skipped.name: skipped.reason for skipped in result.skipped}
    assert set(reasons) == {
        "../escaped.ipynb",
        "Bob_100002_assignsubmission_file_/../../escaped2.ipynb",
        "/tmp/absolute.ipynb",
        "C:\\Windows\\absolute.ipynb",
        "Eve_100003_assignsubmission_file_/solution.ipynb",
        "Zed_100004_assignsubmission_file_/bomb.ipynb",
    }
    assert all("\n" not in reason for reason in reasons.values())
    assert "leave the extraction folder" in reasons["../escaped.ipynb"]
    assert "absolute path" in reasons["/tmp/absolute.ipynb"]
    assert "absolute path" in reasons["C:\\Windows\\absolute.ipynb"]
    assert "symbolic link" in reasons["Eve_100003_assignsubmission_file_/solution.ipynb"]
    assert "10.0 GB uncompressed" in reasons["Zed_100004_assignsubmission_file_/bomb.ipynb"]
    assert not os.path.lexists(tmp_path / "escaped.ipynb")
    assert not os.path.lexists("/tmp/absolute.ipynb")
    assert result.files == 3
    assert result.bytes == len(b'{"cells": []}') + 4


def test_an_entry_larger_than_the_cap_is_refused_from_its_header_without_being_read(tmp_path):
    archive = tmp_path / "big.zip"
    # 1 MB of real data declared as just over the cap: refused before decompression.
    archive.write_bytes(
        build([Entry(b"big.ipynb", b"\0" * 2**20, declared=MAX_ENTRY_BYTES + 1), Entry(b"a.ipynb", b"{}")])
    )
    result = unpack(archive, tmp_path / "out")
    assert _files(tmp_path / "out") == {"a.ipynb"}
    assert [s.name for s in result.skipped] == ["big.ipynb"]


def test_an_entry_that_lies_about_its_size_is_stopped_and_removed(tmp_path):
    archive = tmp_path / "liar.zip"
    archive.write_bytes(build([Entry(b"liar.ipynb", b"x" * 100_000, declared=10), Entry(b"a.ipynb", b"{}")]))
    result = unpack(archive, tmp_path / "out")
    assert _files(tmp_path / "out") == {"a.ipynb"}
    assert [s.name for s in result.skipped] == ["liar.ipynb"]
    assert "corrupt" in result.skipped[0].reason


def test_a_name_used_twice_keeps_the_first_and_says_so(tmp_path):
    archive = tmp_path / "twice.zip"
    archive.write_bytes(build([Entry(b"a/tp.ipynb", b"first"), Entry(b"a/tp.ipynb", b"second")]))
    result = unpack(archive, tmp_path / "out")
    assert (tmp_path / "out" / "a" / "tp.ipynb").read_bytes() == b"first"
    assert [s.reason for s in result.skipped] == ["a second entry with the same name (the first one is kept)"]


def test_zipfiles_own_archives_with_folders_unpack_as_they_are(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as handle:
        handle.writestr("Alice Martin_100001_assignsubmission_file_/", "")
        handle.writestr("Alice Martin_100001_assignsubmission_file_/sub/rnn_intro.ipynb", "{}")
    (tmp_path / "d.zip").write_bytes(buffer.getvalue())
    result = unpack(tmp_path / "d.zip", tmp_path / "out")
    assert _files(tmp_path / "out") == {"Alice Martin_100001_assignsubmission_file_/sub/rnn_intro.ipynb"}
    assert result.skipped == []


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 truncated", b"not a zip at all"])
def test_a_file_that_is_not_a_zip_is_one_error(tmp_path, content):
    (tmp_path / "bad.zip").write_bytes(content)
    with pytest.raises(ArchiveError, match=r"bad\.zip is not a readable zip archive"):
        unpack(tmp_path / "bad.zip", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def _tree(folder: Path) -> set[str]:
    return {str(path) for path in folder.rglob("*")}


def test_a_hostile_download_is_graded_without_its_attacks_and_nothing_lands_outside(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    download = work / "download.zip"
    download.write_bytes(hostile_download(tmp_path / "absolute.ipynb"))
    before = _tree(tmp_path)
    result = run_cli("grade", str(download), "-j", "1", cwd=work)
    assert result.returncode == 0, result.stderr[-2000:]
    out = work / "grading-output"
    new = _tree(tmp_path) - before
    assert str(out) in new
    assert [path for path in new if path != str(out) and not path.startswith(f"{out}/")] == []
    assert not (tmp_path / "absolute.ipynb").exists()
    refused = [line for line in result.stderr.splitlines() if "not unpacked" in line]
    assert len(refused) == 5
    for name, why in [
        ("../escaped.ipynb", "leave the extraction folder"),
        ("Bob Roy_100002_assignsubmission_file/../../../escaped-too.ipynb", "leave the extraction folder"),
        (str(tmp_path / "absolute.ipynb"), "an absolute path"),
        ("Eve Noir_100003_assignsubmission_file/rnn_intro.ipynb", "a symbolic link"),
        ("Zed Bomb_100004_assignsubmission_file/rnn_intro.ipynb", "10.0 GB uncompressed"),
    ]:
        assert sum(f"download.zip: not unpacked: {name}: " in line and why in line for line in refused) == 1, name
    with (out / "grades.csv").open(encoding="utf-8") as stream:
        rows = {row["student"]: (row["status"], row["total"]) for row in csv.DictReader(stream)}
    assert rows == {"Alice Martin_100001": ("graded", "26"), "Chloé Lefèvre_100005": ("graded", "0")}


def test_a_second_run_replaces_the_download_it_unpacked_and_never_a_folder_of_yours(tmp_path):
    first = tmp_path / "first.zip"
    first.write_bytes(build([Entry(b"a_1_assignsubmission_file/old.ipynb", b"{}")]))
    second = tmp_path / "second.zip"
    second.write_bytes(build([Entry(b"a_1_assignsubmission_file/new.ipynb", b"{}")]))
    out = tmp_path / "out"
    unpack_download(first, out)
    unpacked = unpack_download(second, out)
    assert unpacked.root == out / "download"
    assert _files(out / "download") == {"a_1_assignsubmission_file/new.ipynb", ".autograder-download"}
    assert sorted(path.name for path in out.iterdir()) == ["download"]  # no staging folder left behind
    mine = tmp_path / "mine"
    (mine / "download").mkdir(parents=True)
    (mine / "download" / "notes.txt").write_text("mes notes")
    with pytest.raises(ArchiveError, match=r"download exists and was not unpacked by autograder"):
        unpack_download(second, mine)
    assert (mine / "download" / "notes.txt").read_text() == "mes notes"


def test_grading_a_file_that_is_not_a_zip_is_one_line_and_exit_1(tmp_path):
    (tmp_path / "download.zip").write_text("<html>Moodle session expired</html>")
    result = run_cli("grade", str(tmp_path / "download.zip"), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == "autograder: download.zip is not a readable zip archive (File is not a zip file)\n"


def test_a_download_unzipped_with_raw_code_page_names_is_graded_under_readable_names(tmp_path):
    """What `unzip` leaves from a Windows zip without the UTF-8 flag: names in code page 437 bytes."""
    folder = tmp_path / "download"
    raw = "Chloé Lefèvre_100005_assignsubmission_file".encode("cp437")
    (folder / os.fsdecode(raw)).mkdir(parents=True)
    (folder / os.fsdecode(raw) / "rnn_intro.ipynb").write_bytes(notebook("stubs"))
    result = run_cli("grade", str(folder), "-j", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    out = tmp_path / "grading-output"
    with (out / "grades.csv").open(encoding="utf-8") as stream:
        assert [(row["student"], row["status"]) for row in csv.DictReader(stream)] == [
            ("Chloé Lefèvre_100005", "graded")
        ]
    assert (out / "feedback" / "Chloé Lefèvre_100005.html").is_file()
    assert "Chloé Lefèvre_100005" in (out / "lms.json").read_text(encoding="utf-8")
