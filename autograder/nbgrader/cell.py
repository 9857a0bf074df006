"""nbgrader bridge, kernel side: what a hidden test cell of an nbgrader course's source notebook runs.

``nbgrader autograde`` runs the student's notebook in a Jupyter kernel, with each graded cell
restored from the course's source. There, the hidden test region of a check cell calls
:func:`hidden_tests`: the same hidden pytest suite as ``autograder grade``, the ``student``
fixture reaching the kernel's own namespace through the in-process transport (and so through
the codec). The question's points are the cell's last expression, which nbgrader takes as the
cell's partial credit; what failed goes to stdout, never stderr, since nbgrader scores a cell
with any stderr output 0.
"""

from __future__ import annotations

import textwrap

import torch

from autograder.assignment import load_assignment
from autograder.grading.scoring import score_question
from autograder.grading.student import Student
from autograder.grading.suites import run_suite
from autograder.language import french_spacing
from autograder.results import Outcome, QuestionResult
from autograder.sandbox.runtime import InProcessTransport


def hidden_tests(question: str, namespace: dict) -> float:
    """Run ``question``'s hidden suite against ``namespace`` (the kernel's globals); its points."""
    assignment = load_assignment()
    transport = InProcessTransport(namespace, call_seconds=assignment.limits.call_seconds)
    threads = torch.get_num_threads()
    # One thread while the suite runs, as `autograder grade` does (torch's thread pool made some
    # calls far slower on busy cores); the student's own setting comes back afterwards.
    torch.set_num_threads(1)
    try:
        outcomes = run_suite(assignment, lambda: Student(transport), questions=(question,))
    finally:
        torch.set_num_threads(threads)
    result = score_question(assignment.question(question), outcomes)
    print(summary(result))
    return result.score


def summary(result: QuestionResult, lang: str = "fr") -> str:
    """What the student reads under the cell in nbgrader's feedback: the count, then each failed test,
    in French (French typography) or, with ``lang="en"``, in English."""
    passed = sum(test.outcome is Outcome.PASSED for test in result.tests)
    english = lang == "en"
    if english:
        head = f"Hidden tests of `{result.question}`: {passed} passed of {len(result.tests)}, "
    else:
        head = f"Tests cachés de `{result.question}` : {passed} réussi(s) sur {len(result.tests)}, "
    lines = [head + f"{result.score:g} / {result.max_score:g} point(s)."]
    if result.reason:  # every test ended on the same missing name: say it once
        lines.append(result.reason_in(lang))
    else:
        for test in result.tests:
            if test.outcome is not Outcome.PASSED:
                lines.append(f"- {test.description_in(lang)}")
                if message := test.message_in(lang):
                    lines.append(textwrap.indent(message, "    "))
    text = "\n".join(lines)
    return text if english else french_spacing(text)
