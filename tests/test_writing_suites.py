"""docs/writing-suites.md: its example, put together from the page's marked code blocks, grades as the page
says; the suite author's API (autograder.testing) is what every bundled suite imports, and the page names it all."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import autograder.testing
from autograder.assignment import ASSIGNMENTS_DIR, load_assignment
from autograder.grading.scoring import score_question
from autograder.grading.student import Student
from autograder.grading.suites import run_suite
from autograder.results import Outcome
from autograder.sandbox.execute import new_namespace
from autograder.sandbox.runtime import InProcessTransport

PAGE = Path(__file__).resolve().parent.parent / "docs" / "writing-suites.md"
# A fenced block whose info string says `file=NAME` (a file of the suite's folder; blocks of the same name are
# one file, in the page's order, two blank lines apart) or `cell=NAME` (a notebook cell: `solution`, `wrong`).
MARKED_BLOCK = re.compile(r"^```[\w-]* (file|cell)=(\S+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
# What the page says the example's suite gives the solution and the wrong answer.
CLAIM = re.compile(
    r"gives the solution (\S+) points out of (\S+) and this answer (\S+), with the hint `(\w+)` on the value tests it "
    r"fails: \*(.+?)\*"
)


def _page() -> str:
    return PAGE.read_text(encoding="utf-8")


def _blocks() -> tuple[dict[str, str], dict[str, str]]:
    files: dict[str, str] = {}
    cells: dict[str, str] = {}
    for kind, name, text in MARKED_BLOCK.findall(_page()):
        blocks = files if kind == "file" else cells
        blocks[name] = f"{blocks[name]}\n\n{text}" if name in blocks else text
    return files, cells


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    files, cells = _blocks()
    folder = tmp_path_factory.mktemp("my-suite")
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return load_assignment(folder=folder), cells


def _graded(assignment, cell: str):
    namespace = new_namespace()
    exec(compile(cell, "<cell>", "exec"), namespace)
    transport = InProcessTransport(namespace)
    outcomes = run_suite(assignment, lambda: Student(transport))
    return score_question(assignment.questions[0], outcomes)


def _claim() -> tuple[float, float, float, str, str]:
    found = CLAIM.search(" ".join(_page().split()))
    assert found, "the page no longer says what its example's suite gives"
    solution, points, wrong, hint, sentence = found.groups()
    return float(solution), float(points), float(wrong), hint, sentence


def test_the_page_shows_a_whole_suite_folder_and_both_cells():
    files, cells = _blocks()
    assert set(files) == {"assignment.yaml", "pytest.ini", "test_pooled_logits.py"}
    assert set(cells) == {"solution", "wrong"}
    ast.parse(files["test_pooled_logits.py"])


def test_the_pages_solution_gets_every_point(example):
    assignment, cells = example
    result = _graded(assignment, cells["solution"])
    solution, points, _, _, _ = _claim()
    assert [(o.name, o.message) for o in result.tests if o.outcome is not Outcome.PASSED] == []
    assert result.score == result.max_score == solution == points == assignment.max_score


def test_the_pages_wrong_answer_loses_points_with_the_pages_hint(example):
    assignment, cells = example
    result = _graded(assignment, cells["wrong"])
    _, _, wrong, hint, sentence = _claim()
    assert result.score == wrong < result.max_score
    failed = [o for o in result.tests if o.outcome is not Outcome.PASSED]
    with_hint = [o for o in failed if o.hint == hint]
    assert with_hint
    assert all(o.message.startswith(sentence) for o in with_hint)


def _autograder_imports(source: str) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
    return {module for module in modules if module.split(".")[0] == "autograder"}


def test_every_bundled_suite_imports_the_kit_through_autograder_testing_only():
    suites = sorted(ASSIGNMENTS_DIR.glob("*/test_*.py"))
    assert len(suites) >= 11
    for path in suites:
        assert _autograder_imports(path.read_text(encoding="utf-8")) == {"autograder.testing"}, path.name
    files, _ = _blocks()
    assert _autograder_imports(files["test_pooled_logits.py"]) == {"autograder.testing"}


def test_autograder_testing_is_a_facade_the_page_names_in_full():
    page = _page()
    for name in autograder.testing.__all__:
        value = getattr(autograder.testing, name)
        assert value.__module__ != "autograder.testing", name  # defined elsewhere, re-exported only
        assert re.search(rf"`@?{name}\b", page), f"docs/writing-suites.md does not name {name}"
