"""Assignment: what is graded and within which limits, read from ``assignment.yaml``.

Its questions (id, points, hidden test file, test weights), the limits each submission runs under
(:class:`SubmissionLimits`) and a run's overrides of them (:func:`with_limits`), and where the suites
bundled with the kit lie (:data:`ASSIGNMENTS_DIR`, :data:`BUNDLED_SUITE`). Pure data and their
loading: no pytest, no torch, and yaml only when a file is read, so every side of the kit can import
it, the sandbox's worker included (the hidden suites' engine is :mod:`autograder.grading.suites`).
Imports only :mod:`autograder.errors`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.errors import AutograderError

ASSIGNMENTS_DIR = Path(__file__).resolve().parent / "assignments"  # the hidden suites bundled with the kit
BUNDLED_ASSIGNMENT = "rnn_intro"
BUNDLED_SUITE = ASSIGNMENTS_DIR / BUNDLED_ASSIGNMENT  # the assignment `autograder grade` grades by default


@dataclass(frozen=True)
class Question:
    id: str
    points: float
    tests: str  # the suite's file for this question, relative to the assignment's folder
    weights: Mapping[str, float] = field(default_factory=dict)  # test function name -> weight (default 1)


@dataclass(frozen=True)
class SubmissionLimits:
    """Resource limits for one submission, as ``assignment.yaml`` sets them."""

    cell_seconds: float = 30
    call_seconds: float = 10
    submission_seconds: float = 300
    memory_mb: int = 2048
    processes: int = 32
    file_size_mb: int = 16
    output_kb: int = 64


@dataclass(frozen=True)
class Assignment:
    id: str
    folder: Path
    notebook: str
    questions: tuple[Question, ...]
    limits: SubmissionLimits

    @property
    def max_score(self) -> float:
        return sum(q.points for q in self.questions)

    def question(self, question_id: str) -> Question:
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(question_id)


class AssignmentError(AutograderError):
    """An ``assignment.yaml`` that cannot be used."""


def load_assignment(assignment_id: str = BUNDLED_ASSIGNMENT, folder: Path | None = None) -> Assignment:
    """Read ``assignment.yaml`` from the assignment's folder (the bundled one by default)."""
    import yaml

    folder = folder or ASSIGNMENTS_DIR / assignment_id
    path = folder / "assignment.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        questions = tuple(
            Question(
                id=str(q["id"]),
                points=float(q["points"]),
                tests=str(q["tests"]),
                weights={str(k): float(v) for k, v in (q.get("weights") or {}).items()},
            )
            for q in raw["questions"]
        )
        limits = SubmissionLimits(**(raw.get("limits") or {}))
        assignment = Assignment(str(raw["assignment"]), folder, str(raw["notebook"]), questions, limits)
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as error:
        raise AssignmentError(f"cannot read {path}: {error}") from None
    missing = [q.tests for q in questions if not (folder / q.tests).is_file()]
    if missing:
        raise AssignmentError(f"{path} names test files that do not exist: {', '.join(missing)}")
    return assignment


def with_limits(assignment: Assignment, overrides: Mapping[str, Any]) -> Assignment:
    """``assignment`` with some :class:`SubmissionLimits` fields set for one run (the command line's options,
    an nbgrader course's config); the same assignment when there are none. Each value has its field's type
    (an int or a float, by name: hence ``Any``)."""
    if not overrides:
        return assignment
    return dataclasses.replace(assignment, limits=dataclasses.replace(assignment.limits, **overrides))
