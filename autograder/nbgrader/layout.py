"""Course layout: where an assignment's solution and student notebooks live in a course folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ASSIGNMENT_ID = "rnn_intro"


@dataclass(frozen=True)
class CourseLayout:
    """The folders of one course, as the contract (docs/contract.md) names them."""

    root: Path
    assignment: str = ASSIGNMENT_ID

    @property
    def solution_notebook(self) -> Path:
        return self.root / "solutions" / self.assignment / f"{self.assignment}.ipynb"

    @property
    def exercise_notebook(self) -> Path:
        return self.root / "exercises" / self.assignment / f"{self.assignment}.ipynb"

    def relative(self, path: Path) -> str:
        """A path as the instructor typed it: relative to the course root when it lies inside."""
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)
