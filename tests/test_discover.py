"""Discovery: every layout of the contract, nothing dropped without a word, and nothing but regular files read."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from autograder.grading.discover import discover, read_submission
from autograder.grading.load import NotebookLoadError
from autograder.results import Status


def _touch(path: Path, text: str = "{}") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _rows(root: Path, **kwargs) -> dict:
    return {s.student: s for s in discover(root, **kwargs)}


def test_flat_files_folders_and_nbgrader_layout_each_give_one_student(tmp_path):
    flat = _touch(tmp_path / "alice.ipynb")
    folder = _touch(tmp_path / "bruno" / "mon_tp.ipynb")
    nested = _touch(tmp_path / "chloe" / "rnn_intro" / "rnn_intro.ipynb")
    _touch(tmp_path / "chloe" / "rnn_intro" / "timestamp.txt", "2026-11-20 17:42:03 UTC")
    rows = _rows(tmp_path)
    assert {name: (s.path, s.problem) for name, s in rows.items()} == {
        "alice": (flat, None),
        "bruno": (folder, None),
        "chloe": (nested, None),
    }


def test_checkpoints_hidden_files_and_zip_debris_are_ignored(tmp_path):
    notebook = _touch(tmp_path / "alice" / "rnn_intro.ipynb")
    _touch(tmp_path / "alice" / ".ipynb_checkpoints" / "rnn_intro-checkpoint.ipynb")
    _touch(tmp_path / ".hidden.ipynb")
    _touch(tmp_path / ".ipynb_checkpoints" / "bob-checkpoint.ipynb")
    _touch(tmp_path / "__MACOSX" / "alice" / "._rnn_intro.ipynb")
    assert [(s.student, s.path) for s in discover(tmp_path)] == [("alice", notebook)]


def test_two_notebooks_for_one_student_are_a_duplicate_not_a_guess(tmp_path):
    _touch(tmp_path / "farid" / "rnn_intro.ipynb")
    _touch(tmp_path / "farid" / "rnn_intro-Copy1.ipynb")
    _touch(tmp_path / "gina.ipynb")
    _touch(tmp_path / "gina" / "rnn_intro.ipynb")
    rows = _rows(tmp_path)
    assert rows["farid"].problem is Status.DUPLICATE
    assert "rnn_intro-Copy1.ipynb" in rows["farid"].message
    assert rows["gina"].problem is Status.DUPLICATE
    assert rows["gina"].path is None


def test_in_nbgrader_layout_the_released_notebook_is_graded_and_the_copies_named(tmp_path):
    """nbgrader grades ``<assignment>/<notebook>`` whatever else the student's folder holds: so do we,
    and the message names what is left beside it. Outside that layout, two notebooks stay a duplicate."""
    kept = _touch(tmp_path / "farid" / "rnn_intro" / "rnn_intro.ipynb")
    _touch(tmp_path / "farid" / "rnn_intro" / "rnn_intro-Copy1.ipynb")
    _touch(tmp_path / "farid" / "brouillon.ipynb")
    _touch(tmp_path / "gina" / "rnn_intro.ipynb")
    _touch(tmp_path / "gina" / "rnn_intro-Copy1.ipynb")
    _touch(tmp_path / "hugo" / "rnn_intro" / "autre.ipynb")
    _touch(tmp_path / "hugo" / "rnn_intro" / "autre-Copy1.ipynb")
    rows = _rows(tmp_path, nbgrader_path="rnn_intro/rnn_intro.ipynb")
    assert (rows["farid"].path, rows["farid"].problem) == (kept, None)
    assert rows["farid"].message == (
        "graded rnn_intro/rnn_intro.ipynb, as nbgrader does; also in the folder: "
        "brouillon.ipynb, rnn_intro/rnn_intro-Copy1.ipynb"
    )
    assert rows["gina"].problem is Status.DUPLICATE
    assert rows["hugo"].problem is Status.DUPLICATE
    assert _rows(tmp_path)["farid"].problem is Status.DUPLICATE  # without the assignment's path, no pick


def test_unknown_files_and_empty_folders_get_a_row(tmp_path):
    _touch(tmp_path / "notes.txt", "hello")
    (tmp_path / "henri").mkdir()
    rows = _rows(tmp_path)
    assert rows["notes.txt"].problem is Status.NOT_A_NOTEBOOK
    assert rows["henri"].problem is Status.NO_NOTEBOOK


def test_output_folder_inside_the_submissions_is_not_a_student(tmp_path):
    _touch(tmp_path / "alice.ipynb")
    _touch(tmp_path / "grading-output" / "results" / "alice.json")
    assert list(_rows(tmp_path, exclude=tmp_path / "grading-output")) == ["alice"]


def test_a_single_notebook_is_a_class_of_one(tmp_path):
    notebook = _touch(tmp_path / "alice.ipynb")
    assert [(s.student, s.path) for s in discover(notebook)] == [("alice", notebook)]


def test_students_come_out_in_a_stable_order(tmp_path):
    for name in ["zoe", "Adam", "bruno", "adam2"]:
        _touch(tmp_path / f"{name}.ipynb")
    assert [s.student for s in discover(tmp_path)] == ["Adam", "adam2", "bruno", "zoe"]


def test_an_empty_folder_beside_a_students_notebook_does_not_hide_it(tmp_path):
    notebook = _touch(tmp_path / "alice.ipynb")
    (tmp_path / "alice").mkdir()
    assert [(s.student, s.path, s.problem) for s in discover(tmp_path)] == [("alice", notebook, None)]


LINK = "a symbolic link, which the grader never follows"


def test_links_pipes_and_devices_are_rows_and_never_followed(tmp_path):
    subs = tmp_path / "subs"
    solution = _touch(tmp_path / "instructor" / "rnn_intro.ipynb", '{"the": "solution"}')
    _touch(tmp_path / "instructor" / "other.ipynb")
    subs.mkdir()
    (subs / "x.ipynb").symlink_to(solution)
    (subs / "zero.ipynb").symlink_to("/dev/zero")
    (subs / "broken.ipynb").symlink_to(tmp_path / "nowhere")
    (subs / "loop.ipynb").symlink_to(subs / "loop.ipynb")
    (subs / "folder").symlink_to(solution.parent)  # a student's folder that is a link
    os.mkfifo(subs / "pipe.ipynb")
    inner = _touch(subs / "inner" / "rnn_intro" / "rnn_intro.ipynb")
    (subs / "inner" / "rnn_intro" / "data").symlink_to(solution.parent)  # a linked folder: not looked into
    (subs / "linked" / "rnn_intro").mkdir(parents=True)
    (subs / "linked" / "rnn_intro" / "rnn_intro.ipynb").symlink_to(solution)
    started = time.monotonic()
    rows = _rows(subs, exclude=tmp_path / "out")
    assert time.monotonic() - started < 5
    assert {name: (s.problem, s.message) for name, s in rows.items()} == {
        "x": (Status.NOT_A_NOTEBOOK, LINK),
        "zero": (Status.NOT_A_NOTEBOOK, LINK),
        "broken": (Status.NOT_A_NOTEBOOK, LINK),
        "loop": (Status.NOT_A_NOTEBOOK, LINK),
        "folder": (Status.NOT_A_NOTEBOOK, LINK),
        "pipe": (Status.NOT_A_NOTEBOOK, "a named pipe (FIFO), not a notebook file"),
        "inner": (None, ""),
        "linked": (Status.NOT_A_NOTEBOOK, f"linked/rnn_intro/rnn_intro.ipynb: {LINK}"),
    }
    assert rows["inner"].path == inner


def test_a_single_file_that_is_a_link_or_a_pipe_is_a_row(tmp_path):
    solution = _touch(tmp_path / "solution.ipynb")
    (tmp_path / "one.ipynb").symlink_to(solution)
    os.mkfifo(tmp_path / "two.ipynb")
    assert [(s.student, s.problem, s.message) for s in discover(tmp_path / "one.ipynb")] == [
        ("one", Status.NOT_A_NOTEBOOK, LINK)
    ]
    assert [(s.student, s.problem) for s in discover(tmp_path / "two.ipynb")] == [("two", Status.NOT_A_NOTEBOOK)]


def test_folders_nested_deeper_than_the_recursion_limit_are_walked(tmp_path):
    folders = [tmp_path / "alice"]
    for _ in range(sys.getrecursionlimit() + 200):  # os.makedirs itself would recurse too deep
        folders.append(folders[-1] / "d")
    try:
        for folder in folders:
            folder.mkdir()
        notebook = _touch(folders[-1] / "rnn_intro.ipynb")
        assert [(s.student, s.path, s.problem) for s in discover(tmp_path)] == [("alice", notebook, None)]
    finally:  # deepest first: pytest's own clean-up (shutil.rmtree) recurses once per level
        for path in reversed([*folders, folders[-1] / "rnn_intro.ipynb"]):
            if path.is_dir():
                path.rmdir()
            elif path.exists():
                path.unlink()


def test_a_duplicate_row_names_a_few_notebooks_and_counts_the_rest(tmp_path):
    for i in range(40):
        _touch(tmp_path / "farid" / f"copy{i:02}.ipynb")
    row = _rows(tmp_path)["farid"]
    assert row.problem is Status.DUPLICATE
    listed = ", ".join(f"farid/copy{i:02}.ipynb" for i in range(5))
    assert row.message == f"several notebooks: {listed} and 35 more"


def test_read_submission_reads_only_regular_files_and_at_most_the_cap(tmp_path):
    notebook = _touch(tmp_path / "alice.ipynb", "x" * 1000)
    assert read_submission(notebook, max_bytes=1000) == b"x" * 1000
    with pytest.raises(NotebookLoadError) as caught:
        read_submission(notebook, max_bytes=999)
    assert (caught.value.status, str(caught.value)) == (Status.TOO_LARGE, f"file larger than {999 / 2**20:g} MB")
    (tmp_path / "link.ipynb").symlink_to(notebook)
    os.mkfifo(tmp_path / "pipe.ipynb")
    for path, message in [
        (tmp_path / "link.ipynb", LINK),
        (tmp_path / "pipe.ipynb", "a named pipe (FIFO), not a notebook file"),
        (Path("/dev/zero"), "a device file, not a notebook file"),
    ]:
        started = time.monotonic()
        with pytest.raises(NotebookLoadError) as caught:
            read_submission(path)
        assert time.monotonic() - started < 2
        assert (caught.value.status, str(caught.value)) == (Status.NOT_A_NOTEBOOK, message)


NBGRADER_PATH = "rnn_intro/rnn_intro.ipynb"


def test_a_notebook_named_after_the_assignment_alone_is_its_folders_student(tmp_path):
    """Every student's notebook is rnn_intro.ipynb: graded alone, its folder says whose it is (above nbgrader's
    rnn_intro/ folder), unless the instructor names the student."""
    flat = _touch(tmp_path / "alice" / "rnn_intro.ipynb")
    nested = _touch(tmp_path / "submitted" / "bruno" / "rnn_intro" / "rnn_intro.ipynb")
    other = _touch(tmp_path / "chloe" / "mon_tp.ipynb")
    assert [s.student for s in discover(flat, nbgrader_path=NBGRADER_PATH)] == ["alice"]
    assert [s.student for s in discover(nested, nbgrader_path=NBGRADER_PATH)] == ["bruno"]
    assert [s.student for s in discover(other, nbgrader_path=NBGRADER_PATH)] == ["mon_tp"]
    named = discover(flat, nbgrader_path=NBGRADER_PATH, student="alice_martin")
    assert [(s.student, s.path, s.problem) for s in named] == [("alice_martin", flat, None)]


def test_a_file_that_is_not_a_notebook_is_not_a_notebook_alone_as_in_a_folder(tmp_path):
    """A valid notebook's JSON under another name is still not a .ipynb file, given alone or in a folder."""
    text = '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
    alone = _touch(tmp_path / "alone" / "alice.json", text)
    _touch(tmp_path / "folder" / "alice.json", text)
    in_folder = discover(tmp_path / "folder")
    by_itself = discover(alone)
    assert [(s.student, s.problem, s.message) for s in by_itself] == [
        ("alice.json", Status.NOT_A_NOTEBOOK, "not a .ipynb file")
    ]
    assert [(s.student, s.problem, s.message) for s in in_folder] == [
        (s.student, s.problem, s.message) for s in by_itself
    ]


def test_names_that_are_not_utf8_become_readable_student_ids_and_their_files_are_still_read(tmp_path):
    """`unzip` writes a Windows zip's names as their raw code page 437 bytes; a copy from Windows, Windows-1252."""
    cp437 = tmp_path / os.fsdecode("Chlo\x82 Lef\x8avre_100005_assignsubmission_file".encode("latin-1"))
    _touch(cp437 / "rnn_intro.ipynb")
    cp1252 = tmp_path / os.fsdecode(b"Zo\xeb Hadj_100006_assignsubmission_file")
    _touch(cp1252 / os.fsdecode(b"tp\xe9.ipynb"))
    rows = _rows(tmp_path)
    assert set(rows) == {"Chloé Lefèvre_100005", "Zoë Hadj_100006"}
    assert rows["Chloé Lefèvre_100005"].path == cp437 / "rnn_intro.ipynb"
    assert read_submission(rows["Zoë Hadj_100006"].path) == b"{}"
    assert rows["Zoë Hadj_100006"].source.endswith("Zoë Hadj_100006_assignsubmission_file/tpé.ipynb")
    plain = tmp_path / "plain"
    _touch(plain / os.fsdecode(b"Andr\xe9.ipynb"))
    assert [s.student for s in discover(plain)] == ["André"]
