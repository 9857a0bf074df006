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
from synthetic import graded, passed, raised, ungraded

from autograder.assignment import load_assignment
from autograder.grading.scoring import score_student
from autograder.reports.pages import feedback_link, render_summary
from autograder.reports.summary import QuestionStats, class_summary, histogram_svg, questions_svg
from autograder.reports.wording import FALLBACKS, PROTECTIONS
from autograder.results import CellRun, ErrorInfo, Frame, Outcome, StudentResult, TestOutcome

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
    assert [m.hint for m in top.mistakes] == ["softmax_over_batch"]
    assert [s.student for s in top.mistakes[0].students] == ["ben", "cyd"]  # never ana; ben once for two tests
    assert top.mistakes[0].text.startswith("Vous normalisez")
    assert summary.not_attempted is None  # every question was started


def _stub(question: str, name: str = "test_values") -> TestOutcome:
    """A test that met the released stub, as the hidden suites report it (suites.student_error_text)."""
    return TestOutcome(
        question,
        name,
        "Les valeurs sont justes.",
        Outcome.ERROR,
        message=f"`{question}` n'est pas encore écrite : elle lève toujours NotImplementedError.",
        message_en=f"`{question}` is not written yet: it always raises NotImplementedError.",
        hint="raised",
        error=ErrorInfo("NotImplementedError", "", (), ("NotImplementedError", "RuntimeError", "Exception")),
    )


# The value stub's cell: `TASK_TYPES = {}` then `raise NotImplementedError()`, which stops it at its top level.
VALUE_STUB = CellRun(
    44, False, ErrorInfo("NotImplementedError", "", (Frame(44, 3, "<module>", "raise NotImplementedError()"),))
)
TASK_TYPES_EMPTY = TestOutcome(
    "TASK_TYPES", "test_keys", "Les cinq tâches.", Outcome.FAILED, message="Il manque des tâches.", hint="missing_key"
)


def _unstarted(student: str, started: int) -> StudentResult:
    """A notebook whose first ``started`` questions are right, the others left as released (the stubs)."""
    outcomes = []
    for index, question in enumerate(ASSIGNMENT.questions):
        if question.id == "TASK_TYPES":
            outcomes += [TASK_TYPES_EMPTY] if index >= started else [passed(question.id)]
        else:
            outcomes += (
                [_stub(question.id, f"test_{n}") for n in range(3)] if index >= started else [passed(question.id)]
            )
    return score_student(student, ASSIGNMENT, outcomes, cells=(VALUE_STUB,) if started < 11 else ())


@pytest.fixture(scope="module")
def unstarted_class():
    results = [
        _unstarted("nina", 0),
        _unstarted("omar", 0),
        _unstarted("paul", 9),  # the last two left: hidden_gradient_norms and TASK_TYPES
        graded(ASSIGNMENT, "ana", right=0.5),  # the last five questions wrong: softmax_over_batch
        graded(ASSIGNMENT, "dan", right=0.5),
        graded(ASSIGNMENT, "ben", extra=(raised("gather_last_relevant_hidden"),)),
        graded(ASSIGNMENT, "cyd", extra=(_stub("classify_hidden", "test_9"),)),  # one stub test among passed ones
    ]
    links = {r.student: feedback_link(r.student) for r in results}
    return results, class_summary(results, ASSIGNMENT, links=links)


def test_questions_never_started_are_folded_into_one_row_with_who_left_them(unstarted_class):
    _, summary = unstarted_class
    folded = summary.not_attempted
    assert [(s.student, s.count, s.link) for s in folded.students] == [
        ("nina", 11, "feedback/nina.html"),
        ("omar", 11, "feedback/omar.html"),
        ("paul", 2, "feedback/paul.html"),
    ]
    counts = dict(folded.questions)
    assert counts["rnn_cell_forward"] == 2
    assert counts["hidden_gradient_norms"] == 3
    assert counts["TASK_TYPES"] == 3  # the value's stub, told by its cell's NotImplementedError
    assert folded.answers == 11 + 11 + 2


def test_then_per_question_each_hint_with_its_count_and_the_students_who_got_it(unstarted_class):
    _, summary = unstarted_class
    rows = {q.question: q for q in summary.mistakes}
    hints = {(q.question, m.hint): [s.student for s in m.students] for q in summary.mistakes for m in q.mistakes}
    # No hint of a never-started question: the stubs' "not written yet" is in the folded row only.
    assert all("nina" not in who and "omar" not in who and "paul" not in who for who in hints.values())
    assert hints["gather_last_relevant_hidden", "raised · IndexError"] == ["ben"]
    assert hints["TASK_TYPES", "softmax_over_batch"] == ["ana", "dan"]
    assert hints["classify_hidden", "raised · NotImplementedError"] == ["cyd"]  # started: a test passed
    assert rows["classify_hidden"].students == 1
    assert len(summary.mistakes) == 1 + 5 + 1  # gather (ben), the last five questions (ana, dan), classify (cyd)
    # The questions most students got a hint on come first, then the lab's order.
    assert [q.question for q in summary.mistakes] == [
        "gru_output_shapes",
        "bigru_final_states",
        "count_recurrent_parameters",
        "hidden_gradient_norms",
        "TASK_TYPES",
        "gather_last_relevant_hidden",
        "classify_hidden",
    ]
    assert [s.link for s in summary.mistakes[0].mistakes[0].students] == ["feedback/ana.html", "feedback/dan.html"]
    assert [len(m.students) for m in summary.mistakes[0].mistakes] == [2]


def test_the_summary_page_shows_the_folded_row_first_then_each_questions_hints_with_linked_students(unstarted_class):
    results, _ = unstarted_class
    page = render_summary(results, ASSIGNMENT)
    table = re.search(r'<table id="mistakes-table">.*?</table>', page, re.S).group(0)
    bodies = re.findall(r"<tbody[^>]*>.*?</tbody>", table, re.S)
    assert 'id="not-attempted"' in bodies[0]
    assert "not attempted" in bodies[0]
    assert '<a href="feedback/nina.html">nina</a> (11)' in bodies[0]
    assert '<a href="feedback/paul.html">paul</a> (2)' in bodies[0]
    assert table.count("pas encore écrite") == 1  # cyd's one stub test: the stubs of nina, omar, paul are folded
    ben = next(body for body in bodies if "raised · IndexError" in body)
    assert 'id="mistakes-gather_last_relevant_hidden"' in ben
    assert '<a href="feedback/ben.html">ben</a>' in ben
    assert re.search(r'<td class="num">1</td><td class="mono">raised · IndexError</td>', ben)
    assert len(bodies) == 1 + 7


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
