"""The command line: one-line errors with exit code 2 on wrong use, and `python -m autograder` alike."""

from __future__ import annotations

from conftest import run_cli, run_tool


def test_unknown_option_is_one_line_and_exit_2():
    result = run_cli("release", "--frobnicate")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("autograder: error: unrecognized arguments: --frobnicate")


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
