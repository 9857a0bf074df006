"""Both pages, as written by `autograder grade`, opened in a real headless Chromium.

The batch is the bundled examples plus a hostile student: a folder named with HTML, a notebook
that prints a <script> and raises errors whose messages are markup. Nothing of theirs may
become markup on any page, and the pages must render with no console error, on a phone too.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import unquote

import nbformat
import pytest
from chromium import Chromium
from conftest import REPO, run_cli
from typography import breakable_spaces_at_marks

EXAMPLES = REPO / "examples" / "submissions"
HOSTILE = "<img src=x onerror=alert(3)>"
HOSTILE_CELLS = [
    "print(\"<script>alert('pwned')</script>\")\nraise ValueError('<img src=x onerror=alert(1)>')",
    "def rnn_cell_forward(x_t, h_prev, W_xh, W_hh, b_h):\n"
    "    raise RuntimeError('<b>injected</b><script>alert(2)</script>')",
]


def _hostile_notebook(folder: Path) -> None:
    folder.mkdir(parents=True)
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in HOSTILE_CELLS])
    nbformat.write(notebook, folder / "rnn_intro.ipynb")


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    root = tmp_path_factory.mktemp("pages")
    shutil.copytree(EXAMPLES, root / "submissions")
    _hostile_notebook(root / "submissions" / HOSTILE)
    result = run_cli("grade", str(root / "submissions"), "--out", str(root / "out"))
    assert result.returncode == 0, result.stderr
    return root / "out"


@pytest.fixture(scope="module")
def browser():
    with Chromium() as chromium:
        yield chromium


def test_the_examples_get_a_feedback_page_each_and_a_class_summary(pages):
    students = {p.stem for p in (pages / "results").glob("*.json")}
    assert len(students) == 7
    assert {p.stem for p in (pages / "feedback").glob("*.html")} == students
    assert (pages / "summary.html").is_file()


def test_student_text_never_becomes_markup(pages):
    for page in [*(pages / "feedback").glob("*.html"), pages / "summary.html"]:
        html = page.read_text(encoding="utf-8")
        assert "<script>alert" not in html, page.name
        assert "<img src=x" not in html, page.name
        assert "<b>injected" not in html, page.name
    hostile = (pages / "feedback" / f"{HOSTILE}.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in hostile  # the output, shown as text
    assert "&lt;b&gt;injected&lt;/b&gt;" in hostile  # the error message, shown as text


def test_the_hostile_pages_render_their_text_and_run_nothing(pages, browser):
    browser.open(pages / "feedback" / f"{HOSTILE}.html")
    assert browser.evaluate("document.querySelectorAll('script, img[onerror], b').length") == 0
    assert browser.evaluate("document.querySelector('.student').textContent") == HOSTILE
    assert "<script>alert('pwned')</script>" in browser.evaluate("document.body.textContent")  # a closed <details>
    browser.open(pages / "summary.html")
    assert browser.evaluate("document.querySelectorAll('script').length") == 1  # the page's own sorting
    assert browser.evaluate("document.querySelectorAll('img[onerror]').length") == 0
    link = browser.evaluate(
        "[...document.querySelectorAll('#class-table a')].find(a => a.textContent === "
        + repr(HOSTILE)
        + ").getAttribute('href')"
    )
    assert (pages / unquote(link)).is_file()
    assert browser.console_errors == []


def test_summary_renders_plots_table_and_sorts(pages, browser):
    browser.open(pages / "summary.html")
    assert browser.evaluate("[...document.images].map(i => i.naturalWidth > 100)") == [True, True]
    text = browser.evaluate("document.body.innerText")
    for words in ("Score distribution", "Questions", "Class table", "Not graded (2)", "emma_leroy", "unreadable"):
        assert words in text
    assert browser.evaluate("document.querySelectorAll('#class-table tbody tr').length") == 7

    def first_student():
        return browser.evaluate("document.querySelector('#class-table tbody tr td').textContent")

    browser.evaluate("document.querySelectorAll('#class-table th')[1].click()")  # total, ascending
    assert first_student() in ("emma_leroy", "farid_haddad", HOSTILE)
    browser.evaluate("document.querySelectorAll('#class-table th')[1].click()")  # descending
    assert first_student() == "alice_martin"
    assert browser.console_errors == []


def test_a_students_page_shows_hints_errors_and_failed_cells(pages, browser):
    browser.open(pages / "feedback" / "bruno_dupont.html")
    text = browser.evaluate("document.body.innerText")
    assert "20.1 / 26" in text
    assert "Vous normalisez sur l'axe du batch (dim=0)" in text
    assert "attendu" in text
    assert browser.evaluate("document.querySelector('#q-classify_hidden').open") is True
    assert browser.evaluate("document.querySelector('#q-rnn_cell_forward').open") is False
    browser.open(pages / "feedback" / "david_petit.html")
    text = browser.evaluate("document.body.innerText")
    assert "Cellules à revoir" in text
    assert "SyntaxError" in text
    assert "cellule 18" in text
    assert browser.console_errors == []


def test_the_pages_of_files_not_graded_say_what_to_do_and_no_english_detail(pages, browser):
    browser.open(pages / "feedback" / "emma_leroy.html")  # a truncated notebook
    text = browser.evaluate("document.querySelector('#not-graded').innerText")
    assert "Votre notebook est incomplet" in text
    assert "Jupyter lui-même ne pourrait pas l'ouvrir" in text
    assert "depuis la copie sur laquelle vous avez travaillé" in text
    assert "not valid JSON" not in text
    assert "Détail technique" not in text
    browser.open(pages / "feedback" / "farid_haddad.html")  # two notebooks in one folder
    text = browser.evaluate("document.querySelector('#not-graded').innerText")
    assert "Plusieurs notebooks ont été trouvés à votre nom" in text
    assert "farid_haddad/rnn_intro-Copy1.ipynb, farid_haddad/rnn_intro.ipynb" in text
    assert "several notebooks" not in text
    assert browser.console_errors == []


def test_french_pages_have_no_breakable_space_before_colons_semicolons_question_and_exclamation_marks(pages):
    for page in (pages / "feedback").glob("*.html"):
        assert breakable_spaces_at_marks(page.read_text(encoding="utf-8")) == [], page.name


def test_the_summary_names_who_got_each_hint_with_a_link_to_their_page(pages, browser):
    browser.open(pages / "summary.html")
    links = browser.evaluate("[...document.querySelectorAll('#mistakes-table a')].map(a => a.getAttribute('href'))")
    assert links
    assert all((pages / unquote(link)).is_file() for link in links)
    assert browser.evaluate("document.querySelector('#mistakes-table tbody tr td').textContent") != ""


@pytest.mark.parametrize("page", ["feedback/david_petit.html", "feedback/emma_leroy.html", "summary.html"])
def test_pages_fit_a_phone_screen(pages, browser, page):
    browser.viewport(390, 844, mobile=True)
    try:
        browser.open(pages / page)
        width, viewport = browser.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width <= viewport
    finally:
        browser.viewport(1100, 900)
    assert browser.console_errors == []


def test_the_browser_records_console_errors_uncaught_exceptions_and_failed_loads(browser, tmp_path):
    """The pages' `console_errors == []` checks can fail: each kind of error a page may hit is recorded."""
    page = tmp_path / "errors.html"
    page.write_text(
        "<img src=missing.png><script>console.error('logged'); console.assert(false, 'asserted')</script>"
        "<script>throw new TypeError('thrown')</script>",
        encoding="utf-8",
    )
    before = list(browser.console_errors)
    try:
        browser.open(page)
        assert browser.evaluate("document.images[0].complete && document.images[0].naturalWidth") == 0
        errors = browser.console_errors[len(before) :]
    finally:
        browser.console_errors[:] = before  # the other tests' checks see only their own pages
    for expected in ("logged", "asserted", "TypeError: thrown", "net::ERR_FILE_NOT_FOUND"):
        assert any(expected in error for error in errors), (expected, errors)


def test_feedback_in_english(tmp_path):
    _hostile_notebook(tmp_path / "subs" / "zoe")
    result = run_cli("grade", str(tmp_path / "subs"), "--lang", "en", "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "out" / "feedback" / "zoe.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in html
    assert "Cells to look at" in html
    assert "is not written yet" in html or "is not defined" in html
    assert "Votre" not in html
