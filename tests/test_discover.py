"""Discovery: every layout of the contract, and nothing dropped without a word."""

from __future__ import annotations

from pathlib import Path

from autograder.discover import discover
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
