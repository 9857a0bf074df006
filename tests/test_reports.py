"""The end-of-run table in the terminal: short for any class size, colours only on a terminal."""

from __future__ import annotations

import dataclasses
import io
import json

from synthetic import graded, ungraded

from autograder.assignment import load_assignment
from autograder.reports.gradebook import result_json, result_text, terminal_table, use_color
from autograder.results import Status

ASSIGNMENT = load_assignment()


def _class(size: int, not_graded: int = 0) -> list:
    results = [graded(ASSIGNMENT, f"student_{i:03d}", right=(i % 12) / 11) for i in range(size - not_graded)]
    results += [ungraded(ASSIGNMENT, f"late_{i}", Status.DUPLICATE) for i in range(not_graded)]
    return results


def test_a_class_of_300_fits_on_one_screen_with_distribution_means_and_the_not_graded():
    table = terminal_table(_class(300, not_graded=3), ASSIGNMENT)
    lines = table.splitlines()
    assert len(lines) < 40
    assert "student_150" not in table  # no line per student
    assert lines[0].startswith("297 graded, 3 not graded; mean ")
    assert "distribution of totals (out of 26):" in table
    assert sum(int(line.split()[-1]) for line in lines if line.startswith("  [")) == 297
    for question in ASSIGNMENT.questions:
        assert f"  {question.id} " in table
    assert "not graded (3):" in table
    assert all(f"late_{i}  duplicate (" in table for i in range(3))


def test_a_long_not_graded_list_is_cut_with_a_count():
    table = terminal_table(_class(300, not_graded=50), ASSIGNMENT)
    assert len(table.splitlines()) < 60
    assert "late_19  duplicate" in table
    assert "late_20 " not in table
    assert "... and 30 more (summary.html lists them all)" in table


def test_a_small_class_also_gets_one_line_per_student():
    table = terminal_table(_class(5, not_graded=1), ASSIGNMENT)
    assert "student_002" in table
    assert "late_0" in table
    assert "not valid JSON" in table


def test_colours_only_when_asked():
    results = _class(40, not_graded=1)
    assert "\033[" not in terminal_table(results, ASSIGNMENT)
    coloured = terminal_table(results, ASSIGNMENT, color=True)
    assert "\033[32m" in coloured
    assert "\033[31m" in coloured


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_needs_a_terminal_and_no_NO_COLOR(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(_Terminal())
    assert not use_color(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(_Terminal())


def test_each_results_json_names_the_protections_that_were_off_and_what_stood_instead():
    from autograder.reports.wording import FALLBACKS, PROTECTIONS

    result = dataclasses.replace(graded(ASSIGNMENT, "ana"), unprotected=("cgroup", "user"))
    data = json.loads(result_text(result))
    assert data["unprotected"] == [
        {"name": "cgroup", "protection": PROTECTIONS["cgroup"], "instead": FALLBACKS["cgroup"]},
        {"name": "user", "protection": PROTECTIONS["user"], "instead": FALLBACKS["user"]},
    ]
    assert data["unprotected"][0]["protection"] == "cgroup memory and process caps"
    assert data["unprotected"][1]["instead"].startswith("student code runs as your user")
    assert (data["student"], data["status"], data["score"]) == ("ana", "graded", 26)  # the other keys stay


def test_a_results_json_with_every_wall_up_has_an_empty_list():
    assert result_json(graded(ASSIGNMENT, "ana"))["unprotected"] == []
    assert result_json(ungraded(ASSIGNMENT, "bob"))["unprotected"] == []


def test_every_results_json_says_what_the_report_budget_cut():
    assert result_json(graded(ASSIGNMENT, "ana"))["cut"] == {"characters": 0, "cells": 0}
    assert result_json(ungraded(ASSIGNMENT, "bob"))["cut"] == {"characters": 0, "cells": 0}
    cut = dataclasses.replace(graded(ASSIGNMENT, "ana"), cut_characters=1234, cut_cells=56)
    data = result_json(cut)
    assert data["cut"] == {"characters": 1234, "cells": 56}
    assert "… et 56 autres cellules à revoir" in data["output"]
    assert "1234 caractères de sorties et d'erreurs coupés" in data["output"]
    one = result_json(dataclasses.replace(cut, cut_characters=1, cut_cells=1))["output"]
    assert "… et 1 autre cellule à revoir, laissée hors du rapport" in one
    assert "1 caractère de sorties et d'erreurs coupé (" in one


def test_a_students_many_failed_cells_take_one_short_line_of_the_table():
    from autograder.results import CellRun, ErrorInfo

    cells = tuple(CellRun(n, False, ErrorInfo("NameError", "x")) for n in range(1, 41))
    result = dataclasses.replace(graded(ASSIGNMENT, "ana", cells=cells), cut_cells=500)
    line = next(line for line in terminal_table([result], ASSIGNMENT).splitlines() if line.startswith("ana"))
    assert line.endswith("(cells failed: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 530 more)")


def test_a_results_json_tells_a_student_not_graded_what_to_do_in_french_with_its_typography():
    from autograder.grading.scoring import not_graded

    truncated = "truncated: not valid JSON, it ends too early (Expecting ',' delimiter at line 12, column 3)"
    data = result_json(not_graded("bob", ASSIGNMENT, Status.UNREADABLE, truncated, "/subs/bob.ipynb"))
    assert data["message"] == truncated  # the instructor's reason, kept as it was
    assert data["output"].startswith(
        "Votre notebook n'a pas pu être noté (unreadable). Votre notebook est incomplet\u00a0:"
    )
    assert "depuis la copie sur laquelle vous avez travaillé" in data["output"]
    assert "not valid JSON" not in data["output"]
    assert result_json(graded(ASSIGNMENT, "ana"))["output"] == "Total\u00a0: 26 / 26"
