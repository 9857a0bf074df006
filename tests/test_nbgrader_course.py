"""The nbgrader course the kit sets up: its source notebook, config and gradebook (in process, no nbgrader CLI)."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import nbformat
import pytest
from conftest import LAYOUT, run_cli

from autograder.assignment import load_assignment
from autograder.nbgrader.course import (
    CONFIG_FILE,
    CourseError,
    check_gradebook,
    gradebook,
    init_course,
    kernel_problem,
    nbgrader_source,
    read_settings,
    with_hidden_tests,
)
from autograder.nbgrader.release import read_solution, release_notebook

ASSIGNMENT = load_assignment()


@pytest.fixture(scope="module")
def source_nb():
    return nbgrader_source(read_solution(LAYOUT), ASSIGNMENT)


def test_hidden_tests_vanish_from_the_release_leaving_the_published_student_notebook(source_nb, exercise_nb):
    assert release_notebook(source_nb) == exercise_nb


def test_each_check_cell_runs_its_question_hidden_suite_and_nothing_else_changes(source_nb, solution_nb):
    assert len(source_nb.cells) == len(solution_nb.cells)
    for mine, given in zip(source_nb.cells, solution_nb.cells, strict=True):
        assert mine.metadata == given.metadata
        grade_id = given.metadata.get("nbgrader", {}).get("grade_id")
        if given.metadata.get("nbgrader", {}).get("grade"):
            assert mine.source.endswith(f"_tests_caches({grade_id!r}, globals())\n### END HIDDEN TESTS")
            # Run without the import: the cell hands its question to the suites, and the visible check
            # sits in a string, not run by autograde (nor by `autograder grade`).
            namespace: dict = {"_tests_caches": lambda question, names: names.setdefault("called", question)}
            exec(compile(mine.source.replace("from autograder", "# from autograder"), "cell", "exec"), namespace)
            assert namespace["called"] == grade_id
            assert given.source in namespace["_verification_visible"]
        else:
            assert mine.source == given.source


def test_a_check_cell_that_cannot_fit_in_a_string_is_refused():
    assert "'''" not in with_hidden_tests("x = 1  # '''", "q").split("\n")[4]  # the other quote is chosen
    with pytest.raises(CourseError, match="triple quote"):
        with_hidden_tests("a = '''x'''\nb = \"\"\"y\"\"\"", "q")
    with pytest.raises(CourseError, match="fit in a string"):  # Python reads a carriage return as a newline
        with_hidden_tests("x = 1\r\ny = 2", "q")


def test_points_that_disagree_with_assignment_yaml_are_refused(solution_nb):
    broken = nbformat.from_dict(solution_nb)
    check = next(c for c in broken.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "rnn_cell_forward")
    check.metadata.nbgrader.points = 5
    with pytest.raises(CourseError, match="rnn_cell_forward"):
        nbgrader_source(broken, ASSIGNMENT)


def test_init_twice_keeps_an_edited_config_and_the_gradebook(tmp_path):
    course, exchange = tmp_path / "course", tmp_path / "exchange"
    first = init_course(course, LAYOUT, ASSIGNMENT, exchange=exchange, course_id="tp-rnn")
    assert first.config_written
    assert first.exchange_created
    assert exchange.is_dir()
    settings = read_settings(course)
    assert (settings.course_id, settings.exchange, settings.root) == ("tp-rnn", exchange, course)
    assert settings.db_url == f"sqlite:///{course / 'gradebook.db'}"
    with gradebook(settings) as book:
        book.add_student("alice")

    again = init_course(course, LAYOUT, ASSIGNMENT)  # no options: the course's own settings stay
    assert again.config_written
    assert read_settings(course) == settings

    config = course / CONFIG_FILE
    config.write_text(config.read_text() + "c.Execute.timeout = 120\n")
    kept = init_course(course, LAYOUT, ASSIGNMENT, exchange=tmp_path / "elsewhere")
    assert not kept.config_written
    assert "c.Execute.timeout = 120" in config.read_text()
    with gradebook(settings) as book:
        assert [s.id for s in book.students] == ["alice"]
        assert [a.name for a in book.assignments] == [ASSIGNMENT.id]


def test_init_grades_through_the_sandbox_unless_in_kernel_and_moves_older_courses(tmp_path):
    """The course's config selects the sandboxed executor; --in-kernel leaves nbgrader's own. A course made
    before (the same config without those lines) is moved to the sandbox by init: its unedited config is
    rewritten, an edited one kept with the lines appended, and the gradebook kept either way."""
    from autograder.nbgrader.course import EXECUTOR_LINES, EXECUTOR_MARK, config_text

    sandboxed = init_course(tmp_path / "a", LAYOUT, ASSIGNMENT, exchange=tmp_path / "exchange")
    assert EXECUTOR_MARK in (tmp_path / "a" / CONFIG_FILE).read_text()
    assert sandboxed.kernel_problem == ""  # sandboxed, autograde starts no kernel: none to check
    init_course(tmp_path / "b", LAYOUT, ASSIGNMENT, exchange=tmp_path / "exchange", in_kernel=True)
    assert EXECUTOR_MARK not in (tmp_path / "b" / CONFIG_FILE).read_text()

    # Older courses, as the previous init wrote them (its config is this one without the executor).
    for edited in (False, True):
        course = tmp_path / ("b" if not edited else "old-edited")  # b: as the previous init wrote it
        if edited:
            init_course(course, LAYOUT, ASSIGNMENT, exchange=tmp_path / "exchange", in_kernel=True)
        config = course / CONFIG_FILE
        if edited:
            config.write_text(config.read_text() + "c.Execute.timeout = 120\n")
        with gradebook(read_settings(course)) as book:
            book.add_student("alice")
        moved = init_course(course, LAYOUT, ASSIGNMENT)
        text = config.read_text()
        assert EXECUTOR_MARK in text
        assert moved.config_written is not edited
        assert moved.executor_added is edited
        if edited:
            assert "c.Execute.timeout = 120" in text
            assert text.endswith(EXECUTOR_LINES)
        else:
            assert text == config_text(read_settings(course))
        with gradebook(read_settings(course)) as book:
            assert [s.id for s in book.students] == ["alice"]
        again = init_course(course, LAYOUT, ASSIGNMENT)
        assert not again.executor_added
        assert config.read_text().count(EXECUTOR_MARK) == 1


def test_init_moves_an_edited_config_to_the_executors_new_module_name(tmp_path):
    """A course whose config an instructor edited after an init of autograder 0.1 imports the executor from
    autograder.nbgrader_executor, which no longer exists: init rewrites that name in place, keeps every other
    line, and says so; the config then loads and selects the kit's executor."""
    from autograder.nbgrader.course import EXECUTOR_MARK, FORMER_EXECUTOR_MARK

    course = tmp_path / "course"
    init_course(course, LAYOUT, ASSIGNMENT, exchange=tmp_path / "exchange")
    config = course / CONFIG_FILE
    old = config.read_text().replace(EXECUTOR_MARK, FORMER_EXECUTOR_MARK) + "c.Execute.timeout = 120\n"
    config.write_text(old)
    result = run_cli("nbgrader", "init", str(course))
    assert result.returncode == 0, result.stderr
    assert "updated in it: the kit's executor is now autograder.nbgrader.executor" in result.stdout
    text = config.read_text()
    assert text == old.replace(FORMER_EXECUTOR_MARK, EXECUTOR_MARK)
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "from traitlets.config import Config; c = Config(); get_config = lambda: c; "
            f"exec(open({str(config)!r}).read()); import importlib; name = c.Autograde.autograde_preprocessors[0]; "
            "module, _, cls = name.rpartition('.'); getattr(importlib.import_module(module), cls); print(name)",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert loaded.stdout.strip() == f"{EXECUTOR_MARK}.SandboxedExecute", loaded.stderr
    again = run_cli("nbgrader", "init", str(course))
    assert "updated in it" not in again.stdout
    assert config.read_text() == text
    # Unedited, as 0.1's init left it: renamed and still rewritten as init's own.
    unedited = tmp_path / "unedited"
    init_course(unedited, LAYOUT, ASSIGNMENT, exchange=tmp_path / "exchange")
    current = (unedited / CONFIG_FILE).read_text()
    body = current.rstrip("\n").rpartition("\n")[0].replace(EXECUTOR_MARK, FORMER_EXECUTOR_MARK) + "\n"
    checksum = hashlib.sha256(body.encode()).hexdigest()[:16]  # the last line, as every init writes it
    (unedited / CONFIG_FILE).write_text(f"{body}# autograder-checksum: {checksum}\n")
    result = run_cli("nbgrader", "init", str(unedited))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("wrote ")
    assert (unedited / CONFIG_FILE).read_text() == current


def test_wrong_use_of_the_nbgrader_commands_is_one_line_and_exit_2(tmp_path):
    cases = [
        (("nbgrader",), "the following arguments are required: COMMAND"),
        (("nbgrader", "init"), "the following arguments are required: COURSE_DIR"),
        (("nbgrader", "init", str(tmp_path / "c"), "--from", str(tmp_path)), "no solutions/ notebook in"),
        (("grade", str(LAYOUT.exercise_notebook), "--nbgrader-course", str(tmp_path)), "not an nbgrader course"),
    ]
    for args, message in cases:
        result = run_cli(*args)
        assert result.returncode == 2, args
        assert result.stderr.count("\n") == 1, result.stderr
        assert message in result.stderr


def test_a_grading_kernel_that_cannot_import_autograder_is_reported(monkeypatch):
    """Only --in-kernel grades in a kernel: there it must import autograder."""
    assert kernel_problem() == ""  # the venv's python3 kernel, with its bin folder first on PATH
    monkeypatch.setenv("PATH", "/nonexistent")  # the venv's kernelspec runs `python` from PATH
    assert "cannot import autograder" in kernel_problem()


def test_init_without_exchange_creates_nothing_outside_the_course_and_says_how(tmp_path, monkeypatch, capsys):
    """The exchange nbgrader would use (here the one a Jupyter config folder names) is not created unasked:
    init says in one line how to create it (named with --exchange, it is created: test_init_twice_...)."""
    from autograder.cli import main
    from autograder.nbgrader.course import default_exchange

    for name in ("HOME", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR"):
        monkeypatch.setenv(name, str(tmp_path / "home" / name.lower()))
    config = tmp_path / "home" / "jupyter_config_dir"
    config.mkdir(parents=True)
    exchange = tmp_path / "srv" / "nbgrader" / "exchange"
    (config / CONFIG_FILE).write_text(f"c = get_config()\nc.Exchange.root = {str(exchange)!r}\n")
    assert default_exchange() == exchange  # the one nbgrader would use
    before = sorted(tmp_path.rglob("*"))

    assert main(["nbgrader", "init", str(tmp_path / "course"), "--from", str(LAYOUT.root)]) == 0
    out = capsys.readouterr().out
    assert not exchange.exists()
    assert not exchange.parent.parent.exists()
    assert [p for p in sorted(tmp_path.rglob("*")) if not p.is_relative_to(tmp_path / "course")] == before
    assert read_settings(tmp_path / "course").exchange == exchange
    hint = [line for line in out.splitlines() if "exchange does not exist" in line]
    assert hint == [
        f"  the exchange does not exist yet: create it with `mkdir -p {exchange} && chmod ugo+rw {exchange}` "
        "(as root on a shared server), or run init again with --exchange DIR to have it created"
    ]
    # The course is made all the same; before `nbgrader generate_assignment` it cannot take scores.
    with pytest.raises(CourseError, match="nbgrader generate_assignment rnn_intro"):
        check_gradebook(tmp_path / "course", ASSIGNMENT)
