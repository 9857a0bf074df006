"""The command line: one-line errors with exit code 2 on wrong use, and `python -m autograder` alike."""

from __future__ import annotations

from conftest import EXAMPLE_NOTEBOOKS, run_cli, run_tool


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


_COUNT_COLLECTIONS = """
import gc, sys
collections = []
gc.callbacks.append(lambda phase, info: collections.append(info["generation"]) if phase == "start" else None)
import autograder.cli
original, seen = autograder.cli._import_and_load, {}
def import_and_load(*args, **kwargs):
    seen["before"] = (len(collections), "torch" in sys.modules, "pytest" in sys.modules)
    try:
        return original(*args, **kwargs)
    finally:
        seen["during"] = len(collections) - seen["before"][0]
autograder.cli._import_and_load = import_and_load
code = autograder.cli.main(["grade", sys.argv[1], "--out", sys.argv[2], "-j", "1"])
print(code, seen["before"][1], seen["before"][2], seen["during"], gc.isenabled(), gc.get_freeze_count())
"""


def test_torch_pytest_and_the_suites_are_imported_without_garbage_collection(tmp_path):
    """No collection while the grader imports torch, pytest and the suites and collects them (a full one
    ran again and again over the objects they keep: 0.19 s of 1.55); then they are frozen, never scanned
    again, and collection is back on for the grading."""
    done = run_tool(
        "python", "-c", _COUNT_COLLECTIONS, str(EXAMPLE_NOTEBOOKS["alice_martin"]), str(tmp_path / "out"), timeout=120
    )
    code, torch_before, pytest_before, collections, enabled, frozen = done.stdout.splitlines()[-1].split()
    assert (code, torch_before, pytest_before) == ("0", "False", "False"), done.stderr
    assert (collections, enabled) == ("0", "True")
    assert int(frozen) > 100_000
