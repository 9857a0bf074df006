"""Developer aid: run one question's hidden suite on the solution, the stubs and its wrong answers.

    .venv/bin/python scripts/check_question.py QUESTION_ID

Prints every test's ending, and exits 1 unless every test passes on the solution, fails on the
stubs, and each wrong answer in tests/wrong_answers/<question>.py loses points with its hint.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

from autograder.assignment import load_assignment
from autograder.grading.load import load_notebook
from autograder.grading.student import Student
from autograder.grading.suites import run_suite
from autograder.nbgrader.layout import CourseLayout
from autograder.results import Outcome
from autograder.sandbox.execute import new_namespace, run_cells
from autograder.sandbox.runtime import InProcessTransport

REPO = Path(__file__).resolve().parent.parent


def namespace_of(path: Path) -> dict:
    namespace = new_namespace()
    run_cells(load_notebook(path.read_bytes()).cells, namespace)
    return namespace


def outcomes(namespace: dict, question: str) -> list:
    transport = InProcessTransport(namespace)
    return run_suite(load_assignment(), lambda: Student(transport), questions=(question,))


def show(title: str, results: list) -> None:
    print(f"== {title}")
    for o in results:
        print(f"  {o.outcome.value:6} {o.name} [{o.hint}] {o.message[:200]!r}")


def main(question: str) -> int:
    layout = CourseLayout(REPO)
    ok = True
    solution = namespace_of(layout.solution_notebook)
    started = time.perf_counter()
    results = outcomes(solution, question)
    show(f"solution ({time.perf_counter() - started:.2f} s)", results)
    ok &= bool(results) and all(o.outcome is Outcome.PASSED for o in results)
    results = outcomes(namespace_of(layout.exercise_notebook), question)
    show("stubs", results)
    ok &= all(o.outcome is not Outcome.PASSED for o in results)
    path = REPO / "tests" / "wrong_answers" / f"{question}.py"
    if path.is_file():
        spec = importlib.util.spec_from_file_location("wrong", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for hint, code in module.WRONG_ANSWERS.items():
            namespace = dict(solution)
            exec(compile(code, "<wrong>", "exec"), namespace)
            results = outcomes(namespace, question)
            show(f"wrong answer {hint}", results)
            hints = {o.hint for o in results if o.outcome is not Outcome.PASSED}
            if hint not in hints:
                print(f"  !! expected hint {hint}, got {hints}")
                ok = False
    else:
        print(f"!! no {path}")
        ok = False
    print("OK" if ok else "NOT OK")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
