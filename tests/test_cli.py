"""The command line: one-line errors with exit code 2 on wrong use, and `python -m autograder` alike."""

from __future__ import annotations

import csv
import re

import pytest
from conftest import EXAMPLE_NOTEBOOKS, REPO, run_cli, run_tool

from autograder.assignment import load_assignment
from autograder.cli import LIMIT_OPTIONS, main
from autograder.grading.load import MAX_NOTEBOOK_BYTES
from autograder.results import Status


def test_unknown_option_is_one_line_and_exit_2():
    result = run_cli("release", "--frobnicate")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("autograder: error: unrecognized arguments: --frobnicate")


def test_an_unknown_option_points_to_its_commands_help(capsys):
    """The help that lists the options of the command given, not the top-level one."""
    for argv, command in [
        (["release", "--frobnicate"], "release"),
        (["grade", "subs", "--frobnicate"], "grade"),
        (["nbgrader", "init", "course", "--frobnicate"], "nbgrader init"),
    ]:
        assert main(argv) == 2
        assert capsys.readouterr().err == (
            f"autograder: error: unrecognized arguments: --frobnicate (see `autograder {command} --help`)\n"
        )


def test_grade_help_shows_each_limits_default(capsys):
    """The defaults are the bundled assignment.yaml's, the ones a run without the option uses."""
    with pytest.raises(SystemExit) as done:
        main(["grade", "--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    limits = load_assignment().limits
    for option, name, _, _ in LIMIT_OPTIONS:
        shown = re.search(re.escape(option) + r" N [^-]*?\(default: ([0-9.]+)\)", text)
        assert shown, f"{option} shows no default"
        assert float(shown.group(1)) == getattr(limits, name), option


def test_release_check_outside_a_course_folder_suggests_course_dir(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["release", "--check"]) == 2
    assert capsys.readouterr().err == (
        f"autograder: error: no solution notebook at solutions/rnn_intro/rnn_intro.ipynb in {tmp_path} "
        "(run it in the kit's folder, or name that folder with --course-dir DIR)\n"
    )


def test_a_single_rnn_intro_notebook_is_its_folders_student_or_the_one_named(tmp_path):
    """rnn_intro.ipynb is every student's notebook: graded alone, its row is its folder's name (and the terminal
    says so), or the --student given. An empty file: the row is written without running a sandbox."""
    notebook = tmp_path / "alice" / "rnn_intro" / "rnn_intro.ipynb"
    notebook.parent.mkdir(parents=True)
    notebook.write_text("")
    by_folder = run_cli("grade", str(notebook), "--out", str(tmp_path / "a"))
    named = run_cli("grade", str(notebook), "--out", str(tmp_path / "b"), "--student", "alice_martin")
    assert by_folder.returncode == named.returncode == 0, by_folder.stderr + named.stderr
    assert "rnn_intro.ipynb is graded as student 'alice', its folder's name (--student NAME" in by_folder.stderr
    assert "graded as student" not in named.stderr
    for out, student in (("a", "alice"), ("b", "alice_martin")):
        with (tmp_path / out / "grades.csv").open(newline="") as handle:
            assert [(row["student"], row["status"]) for row in csv.DictReader(handle)] == [(student, "empty")]
    folder = run_cli("grade", str(tmp_path), "--student", "alice")
    assert (folder.returncode, folder.stderr) == (
        2,
        "autograder: error: --student names the student of a single notebook; PATH is a folder\n",
    )


def test_unknown_command_is_one_line_and_exit_2():
    result = run_cli("grde")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "invalid choice: 'grde'" in result.stderr


def test_no_command_is_wrong_use():
    result = run_cli()
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1


def test_missing_course_folder_is_one_line_and_exit_2(tmp_path):
    result = run_cli("release", "--course-dir", str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert result.stderr == f"autograder: error: course folder not found: {tmp_path / 'nowhere'}\n"


def test_console_script_and_python_m_are_the_same_command():
    by_script = run_tool("autograder", "--version")
    by_module = run_cli("--version")
    assert by_script.returncode == by_module.returncode == 0
    assert by_script.stdout == by_module.stdout
    assert by_script.stdout.startswith("autograder ")


def test_help_names_the_release_command():
    result = run_cli("--help")
    assert result.returncode == 0
    assert "release" in result.stdout


_COUNT_COLLECTIONS = """
import gc, sys
collections = []
gc.callbacks.append(lambda phase, info: collections.append(info["generation"]) if phase == "start" else None)
import autograder.cli, autograder.grading.batch
original, seen = autograder.grading.batch.import_and_load, {}
def import_and_load(*args, **kwargs):
    seen["before"] = (len(collections), "torch" in sys.modules, "pytest" in sys.modules)
    try:
        return original(*args, **kwargs)
    finally:
        seen["during"] = len(collections) - seen["before"][0]
autograder.grading.batch.import_and_load = import_and_load
code = autograder.cli.main(["grade", sys.argv[1], "--out", sys.argv[2], "-j", "1"])
print(code, seen["before"][1], seen["before"][2], seen["during"], gc.isenabled(), gc.get_freeze_count())
"""


def test_torch_pytest_and_the_suites_are_imported_without_garbage_collection(tmp_path):
    """No collection while the grader imports torch, pytest and the suites and collects them (a full one
    ran again and again over the objects they keep, docs/performance.md); then they are frozen, never
    scanned again, and collection is back on for the grading."""
    done = run_tool(
        "python", "-c", _COUNT_COLLECTIONS, str(EXAMPLE_NOTEBOOKS["alice_martin"]), str(tmp_path / "out"), timeout=120
    )
    code, torch_before, pytest_before, collections, enabled, frozen = done.stdout.splitlines()[-1].split()
    assert (code, torch_before, pytest_before) == ("0", "False", "False"), done.stderr
    assert (collections, enabled) == ("0", "True")
    assert int(frozen) > 100_000


README = REPO / "README.md"


def _table(text: str, heading: str) -> dict[str, list[str]]:
    """The first Markdown table after ``heading``: first column (unquoted) -> the other cells."""
    lines = text[text.index(heading) :].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows[cells[0].strip("`")] = cells[1:]
    return rows


def test_the_readmes_limits_and_statuses_are_the_codes():
    """The figures the README gives instructors come from the code, so they cannot drift."""
    text = README.read_text()
    limits = load_assignment().limits
    table = _table(text, "### Limits")
    assert {name: (float(cells[0]), cells[1]) for name, cells in table.items()} == {
        name: (float(getattr(limits, name)), f"`{option}`") for option, name, _, _ in LIMIT_OPTIONS
    }
    statuses = _table(text, "| status | the file |")
    assert set(statuses) == {status.value for status in Status} - {"graded"}
    assert statuses["too_large"] == [f"is over {MAX_NOTEBOOK_BYTES / 2**20:g} MB"]
