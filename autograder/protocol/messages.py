"""Messages: what the trusted grader and the untrusted worker say to each other, as typed records.

:class:`Reply` is what a transport answers to one call; :class:`Transport` is the interface both
transports keep (the sandboxed lane's and the in-process one); :class:`Policy` is what a lane asks
the worker's walls to allow and :class:`Report` what the walls report back. No behaviour beyond
the records: this module imports neither side.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from autograder.results import ErrorInfo


@dataclass(frozen=True)
class Reply:
    """What a transport answers to one call, still encoded."""

    result: object = None
    error: ErrorInfo | None = None
    unusable: str = ""  # why the result could not be encoded, if it could not
    arguments: object = None  # the encoded (args, kwargs) as they were after the call, when asked
    output: str = ""


class Transport(Protocol):
    """The student's side of the boundary, seen from the trusted runner."""

    limit_struck: str  # the limit that stopped the student's code in the current test ("" if none did)

    def reset(self) -> None:
        """A new test begins (one ``student`` fixture per test): it starts from the notebook's own state."""

    def kind(self, name: str) -> str:
        """``"missing"``, ``"callable"`` or ``"value"``."""

    def fetch(self, name: str) -> object:
        """The encoded value of a name that is not callable."""

    def call(self, name: str, arguments: object, keep_arguments: bool) -> Reply:
        """Call ``name`` with the encoded ``(args, kwargs)``."""


# -- the policy --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Policy:
    """What one submission's process may use; limits in bytes, seconds and counts."""

    uid: int = 60000
    memory_bytes: int = 2048 * 2**20  # beyond what the worker had mapped when it forked
    file_size_bytes: int = 16 * 2**20
    processes: int = 32
    cpu_seconds: int = 330
    hide: tuple[str, ...] = ()  # paths made empty (hidden suites, submissions, output, course)


@dataclass
class Report:
    """Which protections hold in this process, and why the others do not."""

    on: set[str] = field(default_factory=set)
    off: dict[str, str] = field(default_factory=dict)

    def step(self, name: str, action) -> bool:
        try:
            action()
        except Exception as error:
            self.off.setdefault(name, str(error) or type(error).__name__)
            return False
        self.on.add(name)
        return True
