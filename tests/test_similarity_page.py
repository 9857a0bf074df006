"""similarity.html, as `grade --similarity` writes it, opened in a real headless Chromium: the students'
names and code are text, never markup; the summary links it and no student's page does."""

from __future__ import annotations

import shutil

import nbformat
import pytest
from chromium import Chromium
from conftest import LAYOUT, REPO, run_cli

EXAMPLES = REPO / "examples" / "submissions"
COPIER, ORIGINAL = "<img src=x onerror=alert(5)>", "<svg onload=alert(6)>"
# A rare way to answer, copied between the two: markup in its comments and strings, as a hostile class may write.
COPIED = """
def gather_last_relevant_hidden(hiddens, x_lengths):
    # </pre><script>alert("comment")</script>
    rows = []
    for b, n in enumerate(torch.as_tensor(x_lengths).tolist()):
        if n < 1 or n > hiddens.shape[1]:
            raise ValueError("<b>longueur</b> hors limites")
        rows.append(hiddens[b].narrow(0, n - 1, 1).squeeze(0))
    if len(rows) != hiddens.shape[0]:
        raise ValueError("</pre><img src=y onerror=alert(7)>")
    return torch.stack(rows, dim=0).contiguous()
"""


def _notebook_with(code: str) -> nbformat.NotebookNode:
    notebook = nbformat.read(LAYOUT.exercise_notebook, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(code))
    return notebook


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("similarity-page")
    submissions = root / "submissions"
    shutil.copytree(EXAMPLES, submissions)
    for student in (COPIER, ORIGINAL):
        (submissions / student).mkdir()
        nbformat.write(_notebook_with(COPIED), submissions / student / "rnn_intro.ipynb")
    result = run_cli("grade", str(submissions), "--out", str(root / "out"), "--similarity-threshold", "0.5", cwd=root)
    assert result.returncode == 0, result.stderr[-2000:]
    return root / "out", result


def test_the_run_reports_the_pair_and_links_the_page_from_the_summary_only(graded):
    out, result = graded
    assert f"{COPIER} and {ORIGINAL}" in result.stdout or f"{ORIGINAL} and {COPIER}" in result.stdout
    summary = (out / "summary.html").read_text(encoding="utf-8")
    assert '<a href="similarity.html">Copy detection</a>' in summary
    assert "<dt>copy detection</dt>" in summary
    for page in (out / "feedback").glob("*.html"):
        assert "similarity" not in page.read_text(encoding="utf-8"), page.name


def test_names_and_code_are_text_in_the_browser(graded):
    out, _ = graded
    html = (out / "similarity.html").read_text(encoding="utf-8")
    for markup in ("<img src=x", "<svg onload", "<script>alert", "<b>longueur", "<img src=y"):
        assert markup not in html
    with Chromium() as browser:
        browser.open(out / "similarity.html")
        assert browser.evaluate("document.querySelectorAll('script, img, svg').length") == 0
        assert (
            browser.evaluate("[...document.querySelectorAll('b')].filter(b => b.textContent === 'longueur').length")
            == 0
        )
        text = browser.evaluate("document.body.innerText")
        assert COPIER in text
        assert ORIGINAL in text
        assert '</pre><script>alert("comment")</script>' in text  # the comment, shown as written
        assert browser.evaluate("document.querySelectorAll('.pair mark').length") >= 2  # shared code lit, both sides
        assert browser.evaluate("document.querySelectorAll('.sides pre').length") >= 2
        browser.open(out / "summary.html")
        assert browser.evaluate("document.querySelector('#similarity a').getAttribute('href')") == "similarity.html"
        assert browser.console_errors == []


def test_a_later_comparison_replaces_the_link_and_states_its_threshold(graded):
    out, _ = graded
    result = run_cli("similarity", str(out), "--threshold", "50")
    assert result.returncode == 0, result.stderr
    assert "copy detection: 0 pair(s)" in result.stdout
    summary = (out / "summary.html").read_text(encoding="utf-8")
    assert summary.count('id="similarity"') == 1
    assert "0 pairs of students above the threshold (50)" in summary
    assert "Threshold: <b>50</b>" in (out / "similarity.html").read_text(encoding="utf-8")
    wrong = run_cli("similarity", str(out), "--threshold", "-1")
    assert (wrong.returncode, wrong.stderr) == (2, "autograder: error: --threshold wants a positive number, not -1\n")
