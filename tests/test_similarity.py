"""Copy detection on a class of independent students with four planted copies (tests/similarity_class.py):
the copies rank first, no independent pair crosses the default threshold, and the reference's
one-liners written by two students are no evidence."""

from __future__ import annotations

import re

import pytest
from conftest import run_cli
from similarity_class import make_class

from autograder.assignment import load_assignment
from autograder.similarity import DEFAULT_THRESHOLD
from autograder.similarity.compare import detect
from autograder.similarity.run import class_answers, reference_code


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("similarity")
    planted = make_class(root / "class", seed=11)
    result = run_cli("grade", str(root / "class"), "--out", str(root / "out"), "-j", "2", "--similarity", cwd=root)
    assert result.returncode == 0, result.stderr[-2000:]
    assignment = load_assignment()
    questions = [question.id for question in assignment.questions]
    reference, given = reference_code(assignment)
    found, not_read = class_answers(root / "out", questions, given)
    assert not_read == []
    detection = detect(found, questions, reference)
    return planted, detection, result, root / "out"


def _pair(first: str, second: str) -> frozenset[str]:
    return frozenset((first, second))


def test_the_class_is_independent_students_and_four_kinds_of_copy(graded):
    planted, detection, _, _ = graded
    assert len(planted.independent) >= 30
    assert sorted(kind for _, kind in planted.copies.values()) == [
        "commented_reordered",
        "partial",
        "renamed",
        "verbatim",
    ]
    assert detection.students == len(planted.independent) + len(planted.copies)


def test_the_four_copies_rank_above_every_independent_pair(graded):
    planted, detection, _, _ = graded
    copies = {_pair(copier, original) for copier, (original, _) in planted.copies.items()}
    ranked = [_pair(pair.first, pair.second) for pair in detection.pairs]
    assert set(ranked[:4]) == copies
    lowest_copy = min(pair.score for pair in detection.pairs if _pair(pair.first, pair.second) in copies)
    highest_other = max(pair.score for pair in detection.pairs if _pair(pair.first, pair.second) not in copies)
    assert lowest_copy > highest_other


def test_only_the_copies_cross_the_default_threshold_and_the_run_names_them(graded):
    planted, detection, result, _ = graded
    copies = {_pair(copier, original) for copier, (original, _) in planted.copies.items()}
    assert {_pair(pair.first, pair.second) for pair in detection.flagged} == copies
    assert detection.threshold == DEFAULT_THRESHOLD
    listed = re.findall(r"^\s+\d+\.\d\d  (\S+) and (\S+) \(", result.stdout, re.M)
    assert {_pair(*names) for names in listed} == copies
    assert f"copy detection: 4 pair(s) of {detection.students} students at or above 2" in result.stdout


def test_the_partial_copy_is_seen_in_the_questions_it_copied(graded):
    planted, detection, _, _ = graded
    copier = next(c for c, (_, kind) in planted.copies.items() if kind == "partial")
    original = planted.copies[copier][0]
    pair = next(p for p in detection.pairs if _pair(p.first, p.second) == _pair(copier, original))
    assert [question for question, value in pair.similarities if value >= 0.5] == list(planted.partial_questions)


def test_two_students_who_wrote_the_references_one_liners_stay_below_the_threshold(graded):
    planted, detection, _, _ = graded
    scores = [pair.score for pair in detection.pairs if _pair(pair.first, pair.second) == _pair(*planted.one_liners)]
    assert scores == [] or scores[0] < DEFAULT_THRESHOLD / 2


def test_the_page_shows_each_flagged_pair_side_by_side_and_the_summary_links_it(graded):
    _, detection, _, out = graded
    page = (out / "similarity.html").read_text(encoding="utf-8")
    assert page.count('<section class="pair"') == 4
    assert "Threshold: <b>2</b>" in page
    for pair in detection.flagged:
        assert pair.first in page
        assert pair.second in page
    assert page.count("<mark>") >= 4 * 2
    assert '<a href="similarity.html">Copy detection</a>: 4 pairs of students' in (out / "summary.html").read_text()
