"""The grading worker processes on this machine, found from /proc: what a test checks is left behind."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def descendants(pid: int) -> set[int]:
    """Every process below ``pid``, from /proc's parent links."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def worker_pids(python: Path | None = None) -> set[int]:
    """The kit's sandbox workers on this machine; with ``python``, only those that interpreter runs (another
    checkout's runs are then not counted)."""
    prefix = os.fsencode(python) if python is not None else b""
    return {int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _runs_worker(p, prefix)}


def _runs_worker(process: Path, prefix: bytes) -> bool:
    try:
        command = (process / "cmdline").read_bytes()
    except OSError:
        return False
    return command.startswith(prefix) and b"autograder.sandbox.worker" in command
