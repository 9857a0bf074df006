"""Processes: what both sides need to know about a process's end. Standard library only."""

from __future__ import annotations

import os


def pidfd_or_none(pid: int) -> int | None:
    """A file descriptor that becomes readable when ``pid`` ends (and cannot name a recycled pid),
    or None where the system has none (not Linux 5.3+): the caller then polls."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None
