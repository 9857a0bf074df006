"""The suite author's API: everything a hidden suite imports, in one public module.

A question's hidden suite (``test_<question>.py`` beside ``assignment.yaml``) imports from here, and from
pytest and torch, and from nothing else of the kit: this module is the only supported import for suites, and
what it exports (``__all__``) keeps its names and meaning when the kit's inside moves. docs/writing-suites.md
shows how to write a suite with it, from scratch.

- The ``student`` fixture is given to every hidden test by the grader (no import needed): a :class:`Student`
  whose attributes are the notebook's names. A function comes as a :class:`StudentFunction`: calling it runs
  the student's code in the sandbox on copies of the arguments and returns a copy of its result;
  ``keeping_arguments`` also hands back the arguments as the function left them (a :class:`CallResult`). An
  exception of the student's arrives as :class:`StudentError`.
- Checks that fail with a hint naming the student's likely mistake: :class:`Hint`, :class:`Mistake`,
  :func:`expect_close`, :func:`expect_equal`, :func:`expect_raises`, :func:`expect_answered` (a property test),
  :func:`hints_for_errors`; :func:`title` gives a test the sentence students read; :func:`raised` and
  :func:`shown` write a detail of a message.
- :class:`Returns`: what the question's function returns, in the students' words (a suite's ``RETURNS``).
- Inputs: :func:`seed_weights` fills a module's parameters from a seeded generator; :func:`remembered` keeps
  a reference computation's answer for the students after this one.
- Messages in both languages: :class:`Text` (French, English) and :func:`fr_en` (both from one template).

A thin facade: it defines nothing and re-exports the grading side's checks, ``student`` fixture and suite
inputs, and the shared language module. Trusted side: it never imports the sandbox, reports or nbgrader.
"""

from __future__ import annotations

from autograder.grading.checks import (
    Hint,
    Mistake,
    expect_answered,
    expect_close,
    expect_equal,
    expect_raises,
    hints_for_errors,
    raised,
    shown,
    title,
)
from autograder.grading.student import CallResult, Returns, Student, StudentError, StudentFunction
from autograder.grading.suite_inputs import remembered, seed_weights
from autograder.language import Text, fr_en

__all__ = [
    "CallResult",
    "Hint",
    "Mistake",
    "Returns",
    "Student",
    "StudentError",
    "StudentFunction",
    "Text",
    "expect_answered",
    "expect_close",
    "expect_equal",
    "expect_raises",
    "fr_en",
    "hints_for_errors",
    "raised",
    "remembered",
    "seed_weights",
    "shown",
    "title",
]
