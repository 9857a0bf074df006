"""Output: what student code prints, captured and capped, the rest counted.

Shared by both sides: the sandbox captures a cell's or a call's output with it, and the trusted
suite runner silences what a hidden test prints. Imports only :mod:`autograder.language`.
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Iterator

from autograder.language import dropped_output_note

# Characters of output kept from one call of a student's function: the worker's call process keeps no
# more, and the grader reads no more of its answer.
MAX_CALL_OUTPUT = 20_000


class CappedText(io.TextIOBase):
    """A text stream that keeps its first ``cap`` characters and counts the rest."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._parts: list[str] = []
        self._kept = 0
        self.dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        text = str(text)
        room = self.cap - self._kept
        if room > 0:
            self._parts.append(text[:room])
            self._kept += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def text(self) -> str:
        kept = "".join(self._parts)
        if self.dropped:
            kept += "\n" + dropped_output_note(self.dropped)
        return kept


@contextlib.contextmanager
def captured_output(stream: io.TextIOBase) -> Iterator[None]:
    """Everything printed in the block, to stdout or stderr, goes to ``stream``."""
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = stream
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
