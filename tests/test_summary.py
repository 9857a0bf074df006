"""The class summary: statistics, plots and the class table, for the instructor."""

from __future__ import annotations

import base64
import dataclasses
import re
import subprocess
import sys
from xml.etree import ElementTree

import pytest
from markupsafe import escape  # as Jinja escapes
from synthetic import graded, ungraded

from autograder.pages import feedback_link, render_summary
from autograder.sandbox import FALLBACKS, PROTECTIONS
from autograder.suites import load_assignment
from autograder.summary import QuestionStats, class_summary, histogram_svg, questions_svg

ASSIGNMENT = load_assignment()
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def summary():
    results = [
        graded(ASSIGNMENT, "ana", right=1.0),
        graded(ASSIGNMENT, "ben", right=0.5),
        graded(ASSIGNMENT, "cyd", right=0.0),
        ungraded(ASSIGNMENT, "dan"),
    ]
    return class_summary(results, ASSIGNMENT, {"grading time": "3.2 s"})


def test_statistics_count_graded_submissions_only(summary):
    assert (summary.submissions, summary.graded) == (4, 3)
    assert [row.student for row in summary.not_graded] == ["dan"]
    first = summary.questions[0]  # right for ana and ben, half right for cyd
    assert first.full_share == pytest.approx(2 / 3)
    assert first.mean == pytest.approx((2 + 2 + 1) / 3)
    assert summary.highest == 26
    assert summary.lowest == pytest.approx(13)


def test_commonest_mistakes_count_each_student_once_per_hint(summary):
    top = summary.mistakes[0]
    assert top.hint == "softmax_over_batch"
    assert top.students == 2  # ben and cyd, never ana
    assert top.text.startswith("Vous normalisez")


def test_plots_are_embedded_svg(summary):
    for uri in (summary.histogram_svg, summary.questions_svg):
        prefix = "data:image/svg+xml;base64,"
        assert uri.startswith(prefix)
        svg = base64.b64decode(uri[len(prefix) :]).decode()
        assert "<svg" in svg
        assert "</svg>" in svg
    questions = base64.b64decode(summary.questions_svg.split(",", 1)[1]).decode()
    assert all(q.id in questions for q in ASSIGNMENT.questions)


def test_summary_page_links_every_student_and_tells_the_settings():
    results = [graded(ASSIGNMENT, "ana"), ungraded(ASSIGNMENT, "bob#1?")]
    page = render_summary(results, ASSIGNMENT, {"grading time": "3.2 s"})
    assert 'href="feedback/ana.html"' in page
    assert 'href="feedback/bob%231%3F.html"' in page  # a name's '#' or '?' must not cut the link
    assert feedback_link("bob#1?") == "feedback/bob%231%3F.html"
    assert "3.2 s" in page
    assert "not valid JSON" in page


def _off(result, *names):
    return dataclasses.replace(result, unprotected=names)


def test_summary_page_warns_of_the_protections_off_with_what_stood_instead_and_how_many():
    results = [
        _off(graded(ASSIGNMENT, "ana"), "cgroup", "user"),
        _off(graded(ASSIGNMENT, "ben", right=0.5), "cgroup"),
        _off(graded(ASSIGNMENT, "cyd", right=0.0), "cgroup"),
        ungraded(ASSIGNMENT, "dan"),  # never ran: not counted
    ]
    page = render_summary(results, ASSIGNMENT, {"grading time": "3.2 s"})
    box = re.search(r'<section class="box warn" id="sandbox-off".*?</section>', page, re.S)
    assert box, "no warning box"
    assert page.index('id="sandbox-off"') < page.index('id="distribution"')  # near the top
    box = box.group(0)
    assert "Sandbox protections off in this run" in box
    for name in ("cgroup", "user"):
        assert escape(PROTECTIONS[name]) in box
        assert escape(FALLBACKS[name]) in box
    assert "off for all 3 submissions that ran." in box
    assert "off for 1 of 3 submissions that ran." in box
    assert "root on Linux" in box
    assert "autograder grade --require-sandbox" in box
    assert escape(PROTECTIONS["network"]) not in box
    assert "<dt>sandbox</dt><dd>off: cgroup, user</dd>" in page
    assert "<dt>grading time</dt><dd>3.2 s</dd>" in page  # the caller's settings stay

    whole_class = render_summary([_off(graded(ASSIGNMENT, f"s{i}"), "ipc") for i in range(40)], ASSIGNMENT)
    assert "off for all 40 submissions." in whole_class
    assert escape(FALLBACKS["ipc"]) in whole_class


def test_summary_page_has_no_warning_when_every_protection_was_on():
    results = [graded(ASSIGNMENT, "ana"), ungraded(ASSIGNMENT, "dan")]
    page = render_summary(results, ASSIGNMENT, {"grading time": "3.2 s"})
    assert 'id="sandbox-off"' not in page
    assert "Sandbox protections off" not in page
    assert "<dt>sandbox</dt><dd>every protection on</dd>" in page


def test_the_command_line_starts_without_matplotlib_or_jinja():
    code = (
        "import sys\n"
        "from autograder import cli\n"
        "try:\n    cli.main(['grade', '--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('matplotlib', 'jinja2', 'torch') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_histogram_bars_count_the_students_in_each_one_point_bin():
    svg = ElementTree.fromstring(histogram_svg([0, 12.5, 12.0, 13, 26, 26], 26))
    bars = {title.text for title in svg.iter(f"{SVG}title")}
    assert bars == {"0: 1 student(s)", "12: 2 student(s)", "13: 1 student(s)", "26: 2 student(s)"}
    heights = {
        rect.find(f"{SVG}title").text: float(rect.get("height"))
        for rect in svg.iter(f"{SVG}rect")
        if rect.find(f"{SVG}title") is not None
    }
    assert heights["12: 2 student(s)"] == pytest.approx(2 * heights["0: 1 student(s)"])
    assert "total (out of 26)" in {text.text for text in svg.iter(f"{SVG}text")}


def test_histogram_of_no_graded_submission_says_so():
    svg = ElementTree.fromstring(histogram_svg([], 26))
    assert "no graded submission" in {text.text for text in svg.iter(f"{SVG}text")}
    assert not list(svg.iter(f"{SVG}title"))


def test_question_bars_are_proportional_to_their_share():
    stats = [QuestionStats("rnn_cell_forward", 4, 3.0, 0.5), QuestionStats("task_types", 2, 0.0, 0.0)]
    svg = ElementTree.fromstring(questions_svg(stats))
    widths = {
        rect.find(f"{SVG}title").text: float(rect.get("width"))
        for rect in svg.iter(f"{SVG}rect")
        if rect.find(f"{SVG}title") is not None
    }
    mean, full = widths["rnn_cell_forward: mean 75% of points"], widths["rnn_cell_forward: 50% full marks"]
    assert mean == pytest.approx(1.5 * full, abs=0.2)
    assert widths["task_types: mean 0% of points"] == 0
    assert {"rnn_cell_forward", "task_types"} <= {text.text for text in svg.iter(f"{SVG}text")}
