"""Pages: render the feedback pages and the class summary as self-contained HTML, and write them.

Templates are Jinja2 (``autograder/templates/``) with autoescaping on for every value, so a
student's name, output or error message cannot become markup; each page carries a Content
Security Policy that loads nothing from outside and runs no script but the page's own (by hash).
Output layout (contract): ``feedback/<student>.html`` and ``summary.html`` beside ``grades.csv``.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from urllib.parse import quote

from autograder import __version__
from autograder.assignment import Assignment
from autograder.reports.feedback import student_feedback
from autograder.reports.gradebook import format_points, write_atomically
from autograder.results import StudentResult

FEEDBACK_DIR = "feedback"
SUMMARY = "summary.html"
TEMPLATES = Path(__file__).resolve().parent / "templates"

# The summary table's sorting: our one script, allowed by its hash in the page's CSP.
SORT_SCRIPT = """
document.querySelectorAll("th[data-sort]").forEach(function (th) {
  th.addEventListener("click", function () {
    var table = th.closest("table"), body = table.tBodies[0];
    var column = Array.prototype.indexOf.call(th.parentNode.children, th);
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("th[aria-sort]").forEach(function (other) { other.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var numeric = th.dataset.sort === "num";
    var key = function (row) {
      var cell = row.children[column];
      return numeric ? parseFloat(cell.dataset.value || cell.textContent) || 0 : cell.textContent.trim().toLowerCase();
    };
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a), y = key(b);
      return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
    });
    rows.forEach(function (row) { body.appendChild(row); });
  });
});
"""


@cache
def _environment():
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every value, whatever the template's name: names and outputs are the students'
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # a template is read once: a grading run never reads the kit's folder again
    )
    environment.globals.update(pts=_points, pct=_percent, version=__version__)
    return environment


def load_templates() -> None:
    """Read and compile both templates now (a grading run does it before any submission runs)."""
    import autograder.reports.summary  # noqa: F401  (the summary's data, imported now for the same reason)

    for name in ("feedback.html.j2", "summary.html.j2"):
        _environment().get_template(name)


def _points(value: float | None) -> str:
    return "–" if value is None else format_points(value)


def _percent(share: float) -> str:
    return f"{100 * share:.0f} %"


def feedback_file_name(student: str) -> str:
    """``<student>.html``, as the contract names it; the student id is already one path component."""
    return f"{student}.html"


def feedback_link(student: str) -> str:
    """The feedback page's address relative to ``summary.html``, safe whatever characters the name holds."""
    return f"{FEEDBACK_DIR}/{quote(feedback_file_name(student), safe='')}"


def render_feedback(result: StudentResult, assignment: Assignment, lang: str = "fr") -> str:
    page = student_feedback(result, assignment, lang)
    return _environment().get_template("feedback.html.j2").render(page=page, lang=lang)


def render_summary(
    results: Sequence[StudentResult],
    assignment: Assignment,
    settings: Mapping[str, str] | None = None,
    lang: str = "fr",
) -> str:
    """The class summary (in English, the instructor's); ``lang`` is the students' pages' language, in which
    it quotes the hints they read."""
    from autograder.reports.summary import class_summary

    links = {r.student: feedback_link(r.student) for r in results}
    summary = class_summary(results, assignment, settings, links, lang)
    digest = base64.b64encode(hashlib.sha256(SORT_SCRIPT.encode()).digest()).decode()
    return (
        _environment()
        .get_template("summary.html.j2")
        .render(s=summary, lang="en", sort_script=SORT_SCRIPT, script_sources=f"'sha256-{digest}'")
    )


SIMILARITY = "similarity.html"


def render_similarity(view: object) -> str:
    """The copy-detection page from its view (built by :mod:`autograder.similarity`: plain values)."""
    return _environment().get_template("similarity.html.j2").render(v=view, lang="en")


def link_similarity(summary: str, flagged: int, students: int, threshold: float, seconds: float) -> str:
    """``summary.html``'s text with a link to ``similarity.html`` and the comparison's time in its time table,
    in the places its template keeps for them (replaced, when a later comparison runs again)."""
    environment = _environment()
    link = environment.from_string(
        '<p class="box" id="similarity"><a href="{{ page }}">Copy detection</a>: {{ flagged }} pair{{ "s" if '
        "flagged != 1 }} of students above the threshold ({{ pts(threshold) }}), of {{ students }} compared.</p>"
    ).render(page=SIMILARITY, flagged=flagged, threshold=threshold, students=students)
    row = environment.from_string("<dt>copy detection</dt><dd>{{ '%.2f' % seconds }} s ({{ students }} students)</dd>")
    filled = {"similarity-link": link, "similarity-time": row.render(seconds=seconds, students=students)}
    for name, html in filled.items():
        start, end = f"<!--{name}-->", f"<!--/{name}-->"
        found = re.search(f"{re.escape(start)}.*?{re.escape(end)}", summary, flags=re.S)
        if found is not None:
            summary = summary[: found.start()] + start + html + end + summary[found.end() :]
    return summary


def write_pages(
    results: Sequence[StudentResult],
    assignment: Assignment,
    out: Path,
    lang: str = "fr",
    settings: Mapping[str, str] | None = None,
    rendered: Mapping[str, str] | None = None,
) -> Path:
    """Write ``feedback/<student>.html`` for every row and ``summary.html``; return the summary's path.

    ``rendered`` holds pages already rendered by student (the CLI renders each page as its result
    arrives, while the lanes grade the next ones); the others are rendered here."""
    started = time.perf_counter()
    rendered = rendered or {}
    (out / FEEDBACK_DIR).mkdir(parents=True, exist_ok=True)
    for result in results:
        page = rendered.get(result.student)
        if page is None:
            page = render_feedback(result, assignment, lang)
        write_atomically(out / FEEDBACK_DIR / feedback_file_name(result.student), page)
    summary = out / SUMMARY
    settings = dict(settings or {})
    settings.setdefault("feedback language", lang)
    settings["feedback pages written in"] = f"{time.perf_counter() - started:.2f} s"
    write_atomically(summary, render_summary(results, assignment, settings, lang))
    return summary
