"""Feedback pages: what a student reads, in French by default and in English with --lang en."""

from __future__ import annotations

import dataclasses
import importlib.util
import re

import pytest
from synthetic import INDEX_ERROR, SOFTMAX_EN, SOFTMAX_FR, failed_with_hint, graded, raised, ungraded
from typography import breakable_spaces_at_marks, page_texts

from autograder.assignment import SubmissionLimits, load_assignment
from autograder.grading import checks
from autograder.grading.checks import Hint
from autograder.output import CappedText
from autograder.reports.pages import render_feedback
from autograder.reports.wording import limit_sentence
from autograder.results import CellRun, ErrorInfo, Frame, Status

ASSIGNMENT = load_assignment()


def _all_hints() -> list[Hint]:
    hints = [v for v in vars(checks).values() if isinstance(v, Hint)]
    for question in ASSIGNMENT.questions:
        path = ASSIGNMENT.folder / question.tests
        spec = importlib.util.spec_from_file_location(f"hints_of_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        hints += [v for v in vars(module).values() if isinstance(v, Hint)]
    return hints


def test_every_hint_speaks_french_and_english():
    hints = _all_hints()
    assert len(hints) >= 98
    for hint in hints:
        assert hint.text.strip(), hint.id
        assert hint.en.strip(), hint.id
        assert hint.en != hint.text, f"{hint.id}: the English is a copy of the French"
        assert not re.search(r"\b(le|la|les|des|une|vous|votre)\b", hint.en), f"{hint.id}: French words in English"


def test_a_check_failure_carries_its_message_in_both_languages():
    import torch

    with pytest.raises(checks.Mistake) as failure:
        checks.expect_close(torch.zeros(3, 5), torch.zeros(4, 3), Hint("x", "Faux.", "Wrong."))
    assert (
        str(failure.value)
        == "Le résultat n'a pas la forme attendue.\nle résultat : forme attendue (4, 3), obtenue (3, 5)"
    )
    assert failure.value.message.en == (
        "The result does not have the expected shape.\nthe result: expected shape (4, 3), got (3, 5)"
    )


def test_a_text_keeps_both_languages_through_pickle_and_formatting():
    import pickle

    from autograder.language import Text, english, fr_en

    text = fr_en("{what} : attendu {n}", "{what}: expected {n}", what=Text("le résultat", "the result"), n=3)
    assert (str(text), english(text)) == ("le résultat : attendu 3", "the result: expected 3")
    copy = pickle.loads(pickle.dumps(text))
    assert (str(copy), copy.en) == (str(text), text.en)
    assert english("h_t") == "h_t"


def _text(html: str) -> str:
    """The page's text as a reader sees it: tags dropped, entities decoded."""
    import html as html_module

    return html_module.unescape(re.sub(r"<[^>]+>", " ", html))


def test_french_page_shows_total_hint_expected_against_got_and_the_traceback_in_the_notebook():
    result = graded(ASSIGNMENT, "ana", right=0.5, extra=(raised(limit="call_seconds"),))
    page = render_feedback(result, ASSIGNMENT)
    text = _text(page)
    assert '<html lang="fr">' in page
    assert f"{result.score:g} / 26" in text
    assert SOFTMAX_FR in text
    assert "forme attendue (4, 3), obtenue (3, 4)" in text
    assert INDEX_ERROR.summary() in text
    assert "cellule 12, ligne 4, dans gather_last_relevant_hidden : return hiddens[:, x_lengths]" in " ".join(
        text.split()
    )
    assert "Votre fonction a dépassé la limite de temps d'un appel (10 s)" in text
    assert SOFTMAX_EN not in text
    for question in ASSIGNMENT.questions:
        assert f'id="q-{question.id}"' in page


def test_english_page_uses_the_english_hints_and_words():
    result = graded(ASSIGNMENT, "ana", right=0.5, extra=(raised(),))
    text = _text(render_feedback(result, ASSIGNMENT, lang="en"))
    assert SOFTMAX_EN in text
    assert "expected shape (4, 3), got (3, 4)" in text
    assert SOFTMAX_FR not in text
    assert "Feedback on your notebook" in text
    assert "cell 12, line 4" in " ".join(text.split())


def test_a_hint_repeated_by_several_tests_of_a_question_is_written_once():
    extra = tuple(failed_with_hint("classify_hidden", f"test_values[{i}]") for i in range(3))
    text = _text(render_feedback(graded(ASSIGNMENT, "ana", extra=extra), ASSIGNMENT))
    assert text.count(SOFTMAX_FR) == 1
    assert text.count("forme attendue (4, 3), obtenue (3, 4)") == 3


def test_cells_that_failed_show_their_error_line_limit_and_output():
    cells = (
        CellRun(1, True),
        CellRun(
            7,
            False,
            ErrorInfo("SyntaxError", "expected ':'", (Frame(7, 2, "<module>", "def f(x)"),)),
            output="début\n",
        ),
        CellRun(9, False, ErrorInfo("TimeLimitExceeded", "limite"), limit="cell_seconds"),
        CellRun(11, True, output="x" * 100 + "\n[… 5000 caractères de sortie non conservés]", limit="output_kb"),
    )
    text = " ".join(_text(render_feedback(graded(ASSIGNMENT, "ana", cells=cells), ASSIGNMENT)).split())
    assert "Cellules à revoir" in text
    assert "cellule 7 SyntaxError: expected ':'" in text
    assert "cellule 7, ligne 2 : def f(x)" in text
    assert "Votre cellule a dépassé la limite de temps (30 s)" in text
    assert "début" in text
    assert "cellule 1 " not in text
    assert "Votre code a affiché trop de texte (au plus 64 ko)" in text  # a cell that ran, its output cut


def test_the_note_on_output_cut_at_its_cap_is_in_the_pages_language():
    captured = CappedText(10)
    captured.write("x" * 50)  # the worker's capture of a cell that printed too much
    cells = (CellRun(11, True, output=captured.text(), limit="output_kb"),)
    result = graded(ASSIGNMENT, "ana", cells=cells)
    french = " ".join(_text(render_feedback(result, ASSIGNMENT)).split())
    english = " ".join(_text(render_feedback(result, ASSIGNMENT, lang="en")).split())
    assert "[… 40 caractères de sortie non conservés]" in french
    assert "[… 40 characters of output not kept]" in english
    assert "caractères" not in english


def test_a_notebook_not_graded_says_why_in_the_students_language():
    french = _text(render_feedback(ungraded(ASSIGNMENT, "bob", Status.DUPLICATE), ASSIGNMENT))
    assert "Votre notebook n'a pas pu être noté" in french
    assert "rendez-le seul" in french
    english = _text(render_feedback(ungraded(ASSIGNMENT, "bob", Status.DUPLICATE), ASSIGNMENT, lang="en"))
    assert "Your notebook could not be graded" in english
    assert "submit it alone" in english


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(SubmissionLimits)])
def test_every_limit_has_a_sentence_with_its_value_in_both_languages(field):
    limits = SubmissionLimits(**{field: 7})
    french, english = limit_sentence(field, limits, "fr"), limit_sentence(field, limits, "en")
    assert "7" in french
    assert "7" in english
    assert french != english
    # Not the catch-all sentence kept for a limit added later without its own.
    assert "limite de ressources" not in french
    assert "resource limit" not in english


def test_no_limit_no_sentence():
    assert limit_sentence("", SubmissionLimits(), "fr") == ""


def test_a_limit_the_grader_reports_reads_in_the_pages_language():
    from autograder.reports.wording import limit_error

    cells = (CellRun(4, False, limit_error("cell_seconds", ASSIGNMENT.limits), limit="cell_seconds"),)
    result = graded(ASSIGNMENT, "ana", cells=cells)
    english = " ".join(_text(render_feedback(result, ASSIGNMENT, lang="en")).split())
    french = " ".join(_text(render_feedback(result, ASSIGNMENT)).split())
    assert "TimeLimitExceeded: time limit per cell exceeded (30 s)" in english
    assert "limite de temps" not in english
    assert "TimeLimitExceeded: limite de temps par cellule dépassée (30 s)" in french


def test_a_page_the_report_budget_shortened_says_so_in_its_language():
    cells = (CellRun(7, False, ErrorInfo("ValueError", "x"), output="o"),)
    result = dataclasses.replace(graded(ASSIGNMENT, "ana", cells=cells), cut_characters=4321, cut_cells=12)
    french = " ".join(_text(render_feedback(result, ASSIGNMENT)).split())
    english = " ".join(_text(render_feedback(result, ASSIGNMENT, lang="en")).split())
    assert "Ce retour a été raccourci" in french
    assert "4321 caractères et 12 cellules à revoir n'y figurent pas" in french
    assert "Vos points n'en dépendent pas." in french
    assert "… et 12 autres cellules à revoir, non montrées ici" in french
    assert "This feedback was shortened" in english
    assert "4321 characters and 12 cells to look at are left out" in english
    assert "… and 12 more cells to look at, not shown here" in english
    one = dataclasses.replace(result, cut_characters=1, cut_cells=0)
    assert "1 caractère n'y figure pas" in " ".join(_text(render_feedback(one, ASSIGNMENT)).split())
    assert "1 character is left out" in " ".join(_text(render_feedback(one, ASSIGNMENT, lang="en")).split())
    plain = " ".join(_text(render_feedback(graded(ASSIGNMENT, "ana", cells=cells), ASSIGNMENT)).split())
    assert "raccourci" not in plain
    assert "autres cellules" not in plain


def test_a_cut_students_text_reads_its_note_in_the_pages_language():
    from autograder.grading.scoring import fit_report_budget

    error = ErrorInfo("ValueError", "m" * 5000, (Frame(7, 1, "f", "t" * 5000),))
    cells = (CellRun(7, False, error, output="o" * 5000),)
    result = fit_report_budget(graded(ASSIGNMENT, "ana", cells=cells), budget=15_000)
    assert result.cut_characters > 0
    french = " ".join(_text(render_feedback(result, ASSIGNMENT)).split())
    english = " ".join(_text(render_feedback(result, ASSIGNMENT, lang="en")).split())
    assert "caractères coupés" in french
    assert "characters cut" not in french
    assert "characters cut" in english
    assert "caractères coupés" not in english


# -- Files that could not be graded: per cause, what happened and what to do, in the student's language --------

SOLUTION_BYTES = ASSIGNMENT.folder.parent.parent.parent / "solutions" / "rnn_intro" / "rnn_intro.ipynb"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00"
CAUSES = {
    # cause: (files to write under submissions/, French and English words each page must hold)
    "empty": ({"ana.ipynb": b""}, ("est vide", "enregistrez-le (Ctrl+S)"), ("is empty", "save it (Ctrl+S)")),
    "image-named-ipynb": (
        {"ana.ipynb": PNG},
        ("Vous avez rendu une image PNG, pas un notebook", "File → Download"),
        ("You submitted a PNG image, not a notebook", "File → Download"),
    ),
    "screenshot": (
        {"ana.jpg": b"\xff\xd8\xff\xe0"},
        ("une image JPEG, pas un notebook", "une capture d'écran ne peut pas être corrigée"),
        ("a JPEG image, not a notebook", "a screenshot cannot be graded"),
    ),
    "not-a-notebook": (
        {"ana.txt": b"mes notes"},
        ("(« ana.txt ») n'est pas un notebook Jupyter", "Rendez le fichier .ipynb lui-même"),
        ("(“ana.txt”) is not a Jupyter notebook", "Submit the .ipynb file itself"),
    ),
    "truncated": (
        {"ana.ipynb": "half"},
        ("Votre notebook est incomplet", "Jupyter lui-même ne pourrait pas l'ouvrir", "depuis la copie sur laquelle"),
        ("Your notebook is incomplete", "Jupyter itself could not open it", "from the copy you worked on"),
    ),
    "duplicate": (
        {"ana/rnn_intro.ipynb": "whole", "ana/rnn_intro-Copy1.ipynb": "whole"},
        ("Plusieurs notebooks", "ana/rnn_intro-Copy1.ipynb, ana/rnn_intro.ipynb", "rendez-le seul"),
        ("Several notebooks", "ana/rnn_intro-Copy1.ipynb, ana/rnn_intro.ipynb", "submit it alone"),
    ),
}


def _not_graded(tmp_path, files):
    from autograder.grading.discover import discover
    from autograder.grading.grade import grade_submission

    solution = SOLUTION_BYTES.read_bytes()
    for name, data in files.items():
        path = tmp_path / "submissions" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes({"whole": solution, "half": solution[: len(solution) // 2]}.get(data, data))
    (submission,) = discover(tmp_path / "submissions")
    result = grade_submission(submission, ASSIGNMENT)  # refused before anything runs: no lane needed
    assert result.status is not Status.GRADED
    return result


@pytest.mark.parametrize("cause", list(CAUSES))
def test_a_file_not_graded_says_what_happened_and_what_to_do_in_the_students_language(tmp_path, cause):
    files, french_words, english_words = CAUSES[cause]
    result = _not_graded(tmp_path, files)
    french = " ".join(_text(render_feedback(result, ASSIGNMENT)).split()).replace("\u00a0", " ").replace("\u202f", " ")
    english = " ".join(_text(render_feedback(result, ASSIGNMENT, lang="en")).split())
    assert "Votre notebook n'a pas pu être noté" in french
    assert "Que faire ?" in french
    assert all(words in french for words in french_words), french
    assert "Your notebook could not be graded" in english
    assert "What to do:" in english
    assert all(words in english for words in english_words), english
    # The instructor's English reason stays in the summary and the results JSON, never on a French page.
    assert result.message
    assert result.message not in french
    assert "Détail technique" not in french
    assert "Technical detail" not in english


def test_french_pages_put_a_non_breaking_space_before_colons_semicolons_and_question_and_exclamation_marks(tmp_path):
    cells = (CellRun(9, False, ErrorInfo("TimeLimitExceeded", "limite"), limit="cell_seconds"),)
    results = [
        graded(ASSIGNMENT, "ana", right=0.5, extra=(raised(limit="call_seconds"),), cells=cells),
        dataclasses.replace(graded(ASSIGNMENT, "ben", cells=cells), cut_characters=10, cut_cells=3),
        graded(ASSIGNMENT, "cyd"),
        *(_not_graded(tmp_path / cause, CAUSES[cause][0]) for cause in ("empty", "truncated", "duplicate")),
    ]
    for result in results:
        page = render_feedback(result, ASSIGNMENT)
        assert any(":" in text for text in page_texts(page))
        assert breakable_spaces_at_marks(page) == [], result.student
        assert "Retour sur votre notebook\u00a0: " in page  # the title never wraps before its colon


@pytest.mark.parametrize("status", [s for s in Status if s is not Status.GRADED], ids=lambda s: s.value)
def test_every_status_not_graded_has_its_own_advice_in_both_languages(status):
    from autograder.grading.scoring import not_graded
    from autograder.reports.wording import not_graded_texts

    result = not_graded("bob", ASSIGNMENT, status, "an instructor's reason", "/subs/bob.ipynb")
    french, english = not_graded_texts(result, "fr"), not_graded_texts(result, "en")
    assert all(french)
    assert all(english)
    fallback = not_graded_texts(not_graded("bob", ASSIGNMENT, Status.GRADER_ERROR, "bug"), "fr")
    assert (french == fallback) == (status is Status.GRADER_ERROR)  # no status falls back to "our error"
    assert breakable_spaces_at_marks(render_feedback(result, ASSIGNMENT)) == []
